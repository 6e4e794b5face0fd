"""A lead import's batch is dedupe-checked at once and inserted in chunks (`INSERT_CHUNK`
rows in storage form at a time): across chunk and batch boundaries the leads are the file's,
in its order, every duplicate caught, and the import is one change set that undo reverts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from crmcli.services.imports import BATCH
from crmcli.store.repos.leads import INSERT_CHUNK

Run = Callable[..., Result]


def test_chunks_and_batches_keep_the_files_order_its_duplicates_and_one_undo(
    crm: Run, tmp_path: Path
) -> None:
    rows = BATCH + 2 * INSERT_CHUNK + 37  # two batches, the first of several chunks
    lines = []
    for i in range(rows):
        email = f"p{i}@x.com" if i % 9 else ""  # every ninth row without an e-mail
        lines.append(f"Pessoa {i};{email};11 9{i:04d}-{i % 7:04d};Empresa {i % 40};R$ {i},50")
    lines.append(f"Repetida;P{INSERT_CHUNK + 1}@X.COM;;;")  # a duplicate from another chunk
    lines.append(f"Outra;p{BATCH + 1}@x.com;;;")  # and one from the other batch
    path = tmp_path / "big.csv"
    path.write_text("Nome;E-mail;Telefone;Empresa;Orçamento\n" + "\n".join(lines) + "\n")
    crm("db", "init")

    done = json.loads(crm("lead", "import", str(path), "--json").stdout)

    assert (done["read"], done["inserted"], done["skipped"]) == (rows + 2, rows, 2)
    leads = json.loads(crm("lead", "list", "--json").stdout)
    assert [lead["name"] for lead in leads] == [f"Pessoa {i}" for i in range(rows)]
    assert [lead["id"] for lead in leads] == sorted(lead["id"] for lead in leads)
    assert leads[INSERT_CHUNK + 3]["budget"] == f"{INSERT_CHUNK + 3}.50"
    history = json.loads(crm("history", "--limit", "1", "--json").stdout)[0]
    assert history["id"] == done["change_set"]
    crm("undo", str(done["change_set"]), "--yes")
    assert json.loads(crm("lead", "list", "--json").stdout) == []
