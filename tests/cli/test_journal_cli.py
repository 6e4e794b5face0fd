"""The journal through the CLI: every command that changes data records exactly one change
set, reads record none, an import is one compact change set, and `crm history` lists them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]


def _sets(crm: Run) -> list[dict[str, Any]]:
    return json.loads(crm("history", "--limit", "1000", "--json").stdout)


def _seed(crm: Run) -> None:
    """A lead converted into a deal at Acme, a second lead, an activity and a new stage."""
    crm(
        "lead",
        "add",
        "Maria",
        "--email",
        "maria@x.br",
        "--company",
        "Acme",
        "--budget",
        "10",
        "--timeline",
        "2027-01-31",
    )
    crm("lead", "qualify", "1")
    crm("lead", "convert", "1")
    crm("lead", "add", "Bia", "--email", "bia@x.br")
    crm("activity", "add", "Ligar", "--type", "call", "--opp", "1", "--due", "2027-01-05")
    crm("account", "add", "Initech")


MUTATIONS: list[tuple[str, ...]] = [
    ("lead", "add", "Caio"),
    ("lead", "edit", "2", "--phone", "+55 11 5555-0000"),
    ("lead", "contact", "2"),
    ("lead", "qualify", "2", "--budget", "5", "--timeline", "2027-02-01"),
    ("lead", "disqualify", "2", "--reason", "sem verba"),
    ("lead", "archive", "2"),
    ("lead", "delete", "2", "--yes"),
    ("account", "add", "Globex"),
    ("account", "edit", "Initech", "--industry", "Software"),
    ("contact", "add", "Rui", "--account", "Initech"),
    ("contact", "edit", "1", "--title", "CTO"),
    ("opp", "add", "Torre B", "--account", "Initech", "--amount", "100"),
    ("opp", "edit", "1", "--amount", "20"),
    ("opp", "advance", "1"),
    ("opp", "advance", "1", "--to", "Proposal"),
    ("opp", "win", "1"),
    ("opp", "lose", "1", "--reason", "price"),
    ("stage", "add", "Demo", "--probability", "30"),
    ("stage", "rename", "Proposal", "Proposta"),
    ("stage", "set-probability", "Proposal", "65"),
    ("stage", "move", "Negotiation", "--position", "1"),
    ("activity", "add", "Enviar proposta", "--type", "task", "--lead", "2"),
    ("activity", "done", "1"),
    ("activity", "edit", "1", "--subject", "Ligar de novo"),
    ("activity", "delete", "1", "--yes"),
]

READS: list[tuple[str, ...]] = [
    ("lead", "list"),
    ("lead", "show", "1"),
    ("account", "show", "1"),
    ("contact", "show", "1"),
    ("opp", "show", "1"),
    ("opp", "list", "--account", "Acme"),
    ("stage", "list"),
    ("activity", "list"),
    ("agenda",),
    ("pipeline", "report"),
    ("forecast",),
    ("report", "win-rate"),
    ("report", "stale"),
    ("history",),
    ("lead", "convert", "2", "--account", "Initech", "--dry-run"),
]


@pytest.mark.parametrize("args", MUTATIONS, ids=" ".join)
def test_each_command_that_changes_data_records_exactly_one_change_set(
    crm: Run, args: tuple[str, ...]
) -> None:
    _seed(crm)
    if args[:2] == ("opp", "lose"):
        crm("opp", "reopen", "1", code=None)  # (a lost deal can be reopened; here it is open)
    before = _sets(crm)
    result = crm(*args, code=None)
    if result.exit_code != 0:
        pytest.fail(f"crm {' '.join(args)} failed: {result.stderr}")
    after = _sets(crm)
    assert len(after) == len(before) + 1
    newest = after[0]
    assert newest["command"] == " ".join(a if " " not in a else f"'{a}'" for a in args)
    assert newest["changes"], newest
    assert newest["undone"] is False
    assert {c["entity"] for c in newest["changes"]} <= {
        "lead",
        "account",
        "contact",
        "opportunity",
        "activity",
        "stage",
    }


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_reads_and_dry_runs_record_nothing(crm: Run, args: tuple[str, ...]) -> None:
    _seed(crm)
    crm("lead", "qualify", "2", "--budget", "5", "--timeline", "2027-02-01")
    before = _sets(crm)
    crm(*args)
    assert _sets(crm) == before


def test_a_conversion_is_one_change_set_naming_every_record_it_made(crm: Run) -> None:
    _seed(crm)
    (conversion,) = [s for s in _sets(crm) if s["command"] == "lead convert 1"]
    assert conversion["changes"] == [
        {"entity": "account", "id": 1, "op": "insert"},
        {"entity": "contact", "id": 1, "op": "insert"},
        {"entity": "opportunity", "id": 1, "op": "insert"},
        {"entity": "lead", "id": 1, "op": "update"},
    ]
    assert conversion["actor"] and conversion["at"].endswith("Z")


def test_an_import_is_one_compact_change_set(crm: Run, tmp_path: Path, backend_url: str) -> None:
    rows = "".join(f"Lead {i},lead{i}@x.br\n" for i in range(1, 1201))
    source = tmp_path / "feira.csv"
    source.write_text("name,email\n" + rows, encoding="utf-8")
    crm("lead", "import", str(source))
    (imported,) = _sets(crm)
    assert imported["command"] == f"lead import {source}"
    assert [c["id"] for c in imported["changes"]] == list(range(1, 1201))
    assert {(c["entity"], c["op"]) for c in imported["changes"]} == {("lead", "insert")}
    # stored as one run of ids, not 1,200 rows
    from crmcli.store.db import Database

    with Database(backend_url).read() as uow:
        assert uow.conn.scalar("SELECT COUNT(*) FROM change") == 1
    crm("lead", "import", str(source), "--dry-run")
    crm("lead", "import", str(source))  # every row a duplicate: nothing changed, nothing recorded
    assert len(_sets(crm)) == 1


def test_history_for_a_record_and_limit(crm: Run) -> None:
    _seed(crm)
    crm("opp", "advance", "1")
    for_deal = json.loads(crm("history", "--for", "opp", "1", "--json").stdout)
    assert all(
        any(c["entity"] == "opportunity" and c["id"] == 1 for c in s["changes"]) for s in for_deal
    )
    assert [s["command"] for s in for_deal] == ["opp advance 1", "lead convert 1"]
    newest = json.loads(crm("history", "-n", "1", "--json").stdout)
    assert [s["command"] for s in newest] == ["opp advance 1"]
    table = crm("history").stdout
    assert "lead convert 1" in table and "opportunity update 1" in table
    bad = crm("history", "--for", "invoice", "1", code=2)
    assert "invoice" in bad.stderr


def test_the_command_recorded_never_holds_the_database_url(crm: Run, backend_url: str) -> None:
    crm("--db", backend_url, "lead", "add", "Ana")
    (added,) = _sets(crm)
    assert added["command"] == "lead add Ana"


def test_a_summary_gives_its_id_range_low_to_high_whatever_the_order() -> None:
    from crmcli.cli.history import summary
    from crmcli.domain.models import Change

    undo_order = [Change(entity="lead", id=i, op="update") for i in (5, 4, 2)]
    assert summary(undo_order) == "lead update ×3 (2–5)"
