"""`crm undo` of big change sets takes its checks set-wise and still gets them exactly right.

An undo removes the ids of a bulk insert with one DELETE per `RANGES_PER_STATEMENT` merged
id ranges (and one reference check per referring entity for as many), and finds a later change
set touching the same records by bisecting the undone change set's merged ids. These tests
pin what that must not change: a restore whose lead ids have a gap after every one (1 000
one-id ranges in one change) is undone whole, or refused naming the activity added since on
its very last lead; an `--on-duplicate update` import (one journaled update per lead) is
refused naming exactly the lead edited after it, and not for a lead it did not touch.
Both backends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crmcli.cli.app import app
from crmcli.store.repos.undo import RANGES_PER_STATEMENT

pytestmark = pytest.mark.both_backends


def crm(*args: str, code: int = 0) -> Any:
    """`crm ARGS` in this process (CRM_DB is this test's database); the result."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, f"crm {' '.join(args)}: {result.stdout} {result.stderr}"
    return result


def export() -> str:
    return str(crm("export", "--format", "json").stdout)


def newest_set() -> int:
    return int(json.loads(crm("history", "--json", "--limit", "1").stdout)[0]["id"])


def test_a_restore_of_gapped_ids_is_undone_whole_or_refused_for_its_last_lead(
    tmp_path: Path,
) -> None:
    count = 1_000
    assert count > 2 * RANGES_PER_STATEMENT  # several statements, not one
    empty = export()
    dump = json.loads(empty)
    stamp = "2026-01-05T12:00:00.000000Z"
    dump["leads"] = [
        {
            **dict.fromkeys(("phone", "company", "title", "source", "budget", "timeline")),
            **dict.fromkeys(("notes", "extras", "disqualify_reason", "contact_id")),
            **dict.fromkeys(("account_id", "opportunity_id")),
            "id": 2 * n + 1,
            "name": f"Pessoa {n}",
            "email": f"pessoa{n}@exemplo.com.br",
            "status": "new",
            "owner": "tester",
            "created_at": stamp,
            "updated_at": stamp,
        }
        for n in range(count)
    ]
    backup = tmp_path / "gapped.json"
    backup.write_text(json.dumps(dump), encoding="utf-8")
    crm("import", str(backup))
    restore = newest_set()
    restored = json.loads(export())["leads"]
    assert [lead["id"] for lead in restored] == list(range(1, 2 * count, 2))
    last = 2 * count - 1
    crm("activity", "add", "Ligar", "--type", "call", "--lead", str(last))
    refused = crm("undo", str(restore), "--yes", code=1)
    assert f"refers to lead {last} it made" in refused.stderr
    assert json.loads(export())["leads"] == restored  # nothing of it written
    activity = json.loads(export())["activities"][0]["id"]
    crm("activity", "delete", str(activity), "--yes")
    crm("undo", str(restore), "--yes")
    assert export() == empty
    undo = json.loads(crm("history", "--json", "--limit", "1").stdout)[0]
    removed = [c["id"] for c in undo["changes"] if c["entity"] == "lead"]
    assert removed == list(range(1, 2 * count, 2))  # besides the stages it replaced
    assert {c["op"] for c in undo["changes"] if c["entity"] == "lead"} == {"delete"}
    assert crm("db", "check").exit_code == 0


def lead_file(path: Path, count: int, *, filled: bool) -> Path:
    lines = ["Nome;E-mail" + (";Orçamento" if filled else "")]
    for n in range(count):
        lines.append(f"Pessoa {n};pessoa{n}@exemplo.com.br" + (f";R$ {n + 1},00" if filled else ""))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_an_update_import_is_refused_for_exactly_the_lead_edited_after_it(tmp_path: Path) -> None:
    rows = 300
    crm("lead", "add", "Digitada", "--email", "digitada@x.com.br")  # lead 1
    crm("lead", "import", str(lead_file(tmp_path / "thin.csv", rows, filled=False)))
    before = export()
    full = lead_file(tmp_path / "full.csv", rows, filled=True)
    crm("lead", "import", str(full), "--on-duplicate", "update")
    update = newest_set()
    filled = export()
    assert filled != before
    crm("lead", "edit", "1", "--phone", "+55 11 5555-0001")  # a lead the import did not touch
    middle = 2 + rows // 2
    crm("lead", "edit", str(middle), "--phone", "+55 11 5555-0002")
    edit = newest_set()
    refused = crm("undo", str(update), "--yes", code=1)
    assert f"change set {edit} (crm lead edit {middle} " in refused.stderr
    assert f"changed lead {middle} after it" in refused.stderr
    crm("undo", "--yes")  # the edit of the middle lead
    crm("undo", str(update), "--yes")  # the edit of lead 1 came later, but is no obstacle
    leads = json.loads(export())["leads"]
    assert [lead["budget"] for lead in leads] == [None] * (rows + 1)
    assert leads[0]["phone"] == "+55 11 5555-0001"
    crm("undo", "--yes")  # the edit of lead 1: now the data is as before the update import
    assert export() == before
    assert crm("db", "check").exit_code == 0
