"""`crm undo`: the data as it was before the undone command; refused when later work depends."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import Result

Run = Callable[..., Result]


def _seed(crm: Run) -> None:
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
    crm("account", "add", "Initech")


def _export(crm: Run) -> str:
    return crm("export", "--format", "json").stdout


MUTATIONS: list[tuple[str, ...]] = [
    ("lead", "add", "Caio", "--email", "caio@x.br"),
    ("lead", "edit", "1", "--phone", "+55 11 5555-0000"),
    ("lead", "convert", "1"),
    ("lead", "delete", "1", "--yes"),
    ("account", "edit", "Initech", "--industry", "Software"),
    ("opp", "add", "Torre B", "--account", "Initech", "--amount", "100"),
    ("stage", "add", "Demo", "--probability", "30"),
    ("stage", "move", "Negotiation", "--position", "1"),
    ("activity", "add", "Ligar", "--type", "call", "--lead", "1"),
]


@pytest.mark.parametrize("args", MUTATIONS, ids=" ".join)
def test_undo_gives_back_the_same_export(crm: Run, args: tuple[str, ...]) -> None:
    _seed(crm)
    before = _export(crm)
    crm(*args)
    assert _export(crm) != before
    crm("undo", "--yes")
    assert _export(crm) == before
    newest, undone = json.loads(crm("history", "--json").stdout)[:2]
    assert newest["command"] == "undo --yes"
    assert undone["undone"] is True


def test_undo_of_a_conversion_then_an_advance_is_refused_in_the_wrong_order(crm: Run) -> None:
    _seed(crm)
    crm("lead", "convert", "1")
    crm("opp", "advance", "1")
    sets = json.loads(crm("history", "--json").stdout)
    convert, advance = sets[1]["id"], sets[0]["id"]
    refused = crm("undo", str(convert), "--yes", code=1)
    assert f"change set {advance} (crm opp advance 1)" in refused.stderr
    crm("undo", str(advance), "--yes")
    crm("undo", str(convert), "--yes")
    assert json.loads(crm("lead", "show", "1", "--json").stdout)["status"] == "qualified"


def test_an_undo_cannot_be_undone_and_a_dry_run_writes_nothing(crm: Run) -> None:
    _seed(crm)
    before = _export(crm)
    dry = json.loads(crm("undo", "--dry-run", "--json").stdout)
    assert dry["dry_run"] is True and _export(crm) == before
    crm("undo", "--yes")
    undo_id = json.loads(crm("history", "--json").stdout)[0]["id"]
    assert "itself the undo" in crm("undo", str(undo_id), "--yes", code=1).stderr
    assert "refusing to undo without --yes" in crm("undo", code=2).stderr
