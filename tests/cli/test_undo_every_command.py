"""Every command that changes data can be undone: afterwards `crm export` is byte-identical.

One seeded database with a lead of each kind, an account with a contact, a deal with a stage
history and a next step; each mutating command runs on it, then `crm undo --yes`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Run = Callable[..., Result]

LEADS_CSV = 'name,email,company,budget\nBia,bia@x.br,Acme,"1.500,00"\nDu,du@x.br,Globex,10\n'
DEALS_CSV = (
    "name,account,amount,stage\nTorre C,Initech,500,Proposal\nPonte,Globex,70,Qualification\n"
)
UPDATE_CSV = "name,account,amount,close date\nTorre A,Initech,100,2027-03-31\n"


def _seed(crm: Run) -> None:
    crm("lead", "add", "Maria", "--email", "maria@x.br", "--company", "Acme",
        "--budget", "10", "--timeline", "2027-01-31")  # fmt: skip
    crm("lead", "qualify", "1")
    crm("lead", "add", "Caio", "--email", "caio@x.br")
    crm("lead", "add", "Rui", "--email", "rui@x.br")
    crm("lead", "disqualify", "3", "--reason", "sem verba")
    crm("account", "add", "Initech")
    crm("contact", "add", "Rita", "--account", "Initech", "--email", "rita@initech.com")
    crm("opp", "add", "Torre A", "--account", "Initech", "--amount", "100", "--contact", "Rita")
    crm("opp", "advance", "Torre A")
    crm("activity", "add", "Ligar", "--type", "call", "--opp", "Torre A", "--due", "+1d")
    crm("account", "add", "Globex")
    crm("contact", "add", "Léa", "--account", "Globex", "--phone", "11 3333-4444")


COMMANDS: list[tuple[str, ...]] = [
    ("lead", "add", "Zé", "--email", "ze@x.br"),
    ("lead", "edit", "2", "--phone", "+55 11 5555-0000", "--notes", "feira"),
    ("lead", "contact", "2"),
    ("lead", "qualify", "2", "--budget", "1000", "--timeline", "2027-06-30"),
    ("lead", "disqualify", "2", "--reason", "concorrente"),
    ("lead", "archive", "2"),
    ("lead", "reopen", "3"),
    ("lead", "delete", "2", "--yes"),
    ("lead", "convert", "1"),
    ("lead", "convert", "1", "--account", "Initech", "--no-opportunity"),
    ("lead", "import", "{leads}"),
    ("account", "add", "Hooli", "--industry", "Energia"),
    ("account", "edit", "Initech", "--name", "Initech SA", "--website", "initech.com"),
    ("contact", "add", "Léo", "--account", "Globex"),
    ("contact", "edit", "Rita", "--title", "CFO", "--email", "rita@initech.com.br"),
    ("opp", "add", "Torre B", "--account", "Globex", "--amount", "2.500,50"),
    ("opp", "edit", "Torre A", "--amount", "150", "--close", "2027-02-28"),
    ("opp", "advance", "Torre A"),
    ("opp", "win", "Torre A", "--amount", "120"),
    ("opp", "lose", "Torre A", "--reason", "preço"),
    ("opp", "import", "{deals}"),
    ("opp", "import", "{update}", "--on-duplicate", "update"),
    ("stage", "add", "Demo", "--probability", "30"),
    ("stage", "rename", "Proposal", "Proposta"),
    ("stage", "move", "Negotiation", "--position", "1"),
    ("stage", "set-probability", "Proposal", "45"),
    ("stage", "remove", "Proposal", "--move-to", "Negotiation"),
    ("activity", "add", "Reunião", "--type", "meeting", "--contact", "Rita"),
    ("activity", "edit", "1", "--subject", "Ligar de novo"),
    ("activity", "done", "1"),
    ("activity", "delete", "1", "--yes"),
    ("account", "delete", "Initech", "--cascade", "--yes"),
    ("contact", "delete", "Rita", "--yes"),
    ("opp", "delete", "Torre A", "--yes"),
    ("lead", "merge", "2", "3", "1"),
    ("contact", "merge", "Rita", "Léa"),
    ("account", "merge", "Globex", "Initech"),
]


def _args(args: tuple[str, ...], tmp_path: Path) -> list[str]:
    files = {"{leads}": LEADS_CSV, "{deals}": DEALS_CSV, "{update}": UPDATE_CSV}
    out = []
    for arg in args:
        if arg in files:
            path = tmp_path / f"{arg.strip('{}')}.csv"
            path.write_text(files[arg], encoding="utf-8")
            arg = str(path)
        out.append(arg)
    return out


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_undo_gives_back_the_same_export(crm: Run, tmp_path: Path, args: tuple[str, ...]) -> None:
    _seed(crm)
    before = crm("export", "--format", "json").stdout
    crm(*_args(args, tmp_path))
    assert crm("export", "--format", "json").stdout != before
    crm("undo", "--yes")
    assert crm("export", "--format", "json").stdout == before
    assert crm("db", "check").exit_code == 0
    newest, undone = json.loads(crm("history", "--json", "--limit", "2").stdout)
    assert newest["command"] == "undo --yes"
    assert undone["undone"] is True


def test_undo_of_a_restore_gives_back_the_empty_database(
    crm: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(crm)
    backup = tmp_path / "backup.json"
    backup.write_text(crm("export", "--format", "json").stdout, encoding="utf-8")
    monkeypatch.setenv("CRM_DB", str(tmp_path / "empty.db"))
    crm("db", "init")
    empty = crm("export", "--format", "json").stdout
    crm("import", str(backup))
    assert crm("export", "--format", "json").stdout == backup.read_text(encoding="utf-8")
    crm("undo", "--yes")
    assert crm("export", "--format", "json").stdout == empty
    assert crm("db", "check").exit_code == 0
