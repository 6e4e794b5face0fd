"""`crm account|contact|opp delete`: what else goes or is unlinked, nothing left dangling, one
change set that `crm undo` takes back to the byte."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

import pytest
import typer.testing
from typer.testing import Result

from crmcli.errors import InvalidTransition
from crmcli.services.accounts import delete_contact
from crmcli.store.db import Database

Run = Callable[..., Result]
Json = Callable[..., Any]


@pytest.fixture
def world(crm: Run) -> None:
    """Lead 1 (Maria) converted into contact 1, account 1 "Acme" and deal 1 (advanced once:
    history rows 1-2); contact 2 (Bob) at Acme; account 2 "Initech" with deal 2 (history row 3)
    whose contact is Maria; account 3 "Globex" with nothing but activity 4. Activities: 1 on
    deal 1, 2 on Acme, 3 on Maria, 4 on Globex, 5 on deal 2."""
    crm(
        "lead",
        "add",
        "Maria",
        "--email",
        "maria@acme.br",
        "--company",
        "Acme",
        "--budget",
        "1000",
        "--timeline",
        "2027-01-31",
    )
    crm("lead", "qualify", "1")
    crm("lead", "convert", "1", "--opportunity", "Acme torre", "-q")
    crm("opp", "advance", "1")
    crm("contact", "add", "Bob", "--account", "Acme")
    crm("opp", "add", "Initech rede", "--account", "Initech", "--contact", "1", "--amount", "50")
    crm("account", "add", "Globex")
    crm("activity", "add", "Ligar", "--type", "call", "--opp", "1")
    crm("activity", "add", "Visita", "--type", "meeting", "--account", "Acme")
    crm("activity", "add", "E-mail", "--type", "email", "--contact", "1")
    crm("activity", "add", "Nota", "--type", "note", "--account", "Globex")
    crm("activity", "add", "Proposta", "--type", "task", "--opp", "2")


def _export(crm: Run) -> str:
    return crm("export", "--format", "json").stdout


def _clean(crm: Run) -> None:
    checked = crm("db", "check")
    assert checked.stdout.strip() == "ok"


def _history(crm: Run) -> list[dict[str, Any]]:
    return list(json.loads(crm("history", "--json").stdout))


DELETES: list[tuple[str, ...]] = [
    ("account", "delete", "Acme", "--cascade"),
    ("account", "delete", "Globex"),
    ("contact", "delete", "maria@acme.br"),
    ("contact", "delete", "Bob"),
    ("opp", "delete", "1"),
    ("opp", "delete", "Initech rede"),
]


@pytest.mark.parametrize("args", DELETES, ids=" ".join)
def test_a_delete_is_one_change_set_that_undo_takes_back_to_the_byte(
    crm: Run, world: None, args: tuple[str, ...]
) -> None:
    before, sets = _export(crm), len(_history(crm))
    crm(*args, "--yes")
    assert _export(crm) != before
    _clean(crm)
    history = _history(crm)
    assert len(history) == sets + 1
    assert history[0]["command"] == shlex.join((*args, "--yes"))
    crm("undo", "--yes")
    assert _export(crm) == before
    _clean(crm)


def test_an_account_with_contacts_or_deals_is_refused_without_cascade(
    crm: Run, world: None
) -> None:
    before, sets = _export(crm), len(_history(crm))
    refused = crm("account", "delete", "Acme", "--yes", code=1)
    assert refused.stderr.strip() == (
        'crm: error: account 1 "Acme" still has 2 contacts and 1 deal:'
        " use --cascade to delete them too"
    )
    refused = crm("account", "delete", "Initech", "--yes", code=1)
    assert 'account 2 "Initech" still has 1 deal: use --cascade to delete it too' in (
        refused.stderr
    )
    assert _export(crm) == before
    assert len(_history(crm)) == sets


def test_cascade_deletes_deals_then_contacts_and_unlinks_what_stays(
    crm: Run, crm_json: Json, world: None
) -> None:
    done = crm_json("account", "delete", "1", "--cascade", "--yes")
    assert done["removed"] == {
        "contact": [1, 2],
        "opportunity": [1],
        "history": [1, 2],
        "activity": [1, 3, 2],
    }
    assert done["unlinked"] == {"opportunity": [2], "lead": [1], "activity": []}
    assert [a["name"] for a in crm_json("account", "list")] == ["Globex", "Initech"]
    assert [c["name"] for c in crm_json("contact", "list")] == []
    other = crm_json("opp", "show", "2")
    assert other["contact_id"] is None and len(other["history"]) == 1
    lead = crm_json("lead", "show", "1")
    assert lead["status"] == "converted"
    assert (lead["contact_id"], lead["account_id"], lead["opportunity_id"]) == (None, None, None)
    activities = crm_json("activity", "list", "--all")
    assert sorted(a["id"] for a in activities) == [4, 5]
    assert "history" not in {c["entity"] for c in _history(crm)[0]["changes"]}


def test_cascade_says_what_went_in_one_line(crm: Run, world: None) -> None:
    done = crm("account", "delete", "Acme", "--cascade", "--yes")
    assert done.stderr.strip() == (
        'crm: deleted account 1 "Acme", 2 contacts, 1 deal (2 history rows), 3 activities;'
        " unlinked 1 deal, 1 converted lead"
    )
    assert done.stdout == ""


def test_off_a_terminal_without_yes_nothing_is_deleted(crm: Run, world: None) -> None:
    before = _export(crm)
    for args in (
        ("account", "delete", "Globex"),
        ("contact", "delete", "2"),
        ("opp", "delete", "2"),
    ):
        refused = crm(*args, code=2)
        assert "refusing to delete without --yes when not on a terminal" in refused.stderr
    assert _export(crm) == before


def test_json_is_the_removed_record_and_what_went_or_was_unlinked(
    crm_json: Json, world: None
) -> None:
    account = crm_json("account", "show", "Globex")
    done = crm_json("account", "delete", "Globex", "--yes")
    assert list(done) == ["id", "entity", "deleted", "record", "removed", "unlinked"]
    assert (done["id"], done["entity"], done["deleted"]) == (3, "account", True)
    assert set(done["record"]) == set(account) - {"contacts", "opportunities", "activities"}
    assert done["record"] == {k: account[k] for k in done["record"]}
    assert done["removed"] == {"contact": [], "opportunity": [], "history": [], "activity": [4]}
    assert done["unlinked"] == {"opportunity": [], "lead": [], "activity": []}


@pytest.mark.parametrize(
    ("noun", "kind"), [("account", "account"), ("contact", "contact"), ("opp", "opportunity")]
)
def test_a_missing_id_is_not_found(crm: Run, world: None, noun: str, kind: str) -> None:
    before = _export(crm)
    missing = crm(noun, "delete", "99", "--yes", code=1)
    assert missing.stderr.strip() == f"crm: error: no {kind} with id 99"
    assert _export(crm) == before


def test_a_contact_a_converted_lead_and_deals_point_at_is_unlinked_from_them(
    crm: Run, crm_json: Json, world: None
) -> None:
    done = crm_json("contact", "delete", "1", "--yes")
    assert done["record"]["email"] == "maria@acme.br"
    assert done["removed"] == {"contact": [], "opportunity": [], "history": [], "activity": [3]}
    assert done["unlinked"] == {"opportunity": [1, 2], "lead": [1], "activity": []}
    assert [o["contact_id"] for o in crm_json("opp", "list")] == [None, None]
    lead = crm_json("lead", "show", "1")
    assert lead["status"] == "converted" and lead["contact_id"] is None
    assert (lead["account_id"], lead["opportunity_id"]) == (1, 1)
    assert [c["name"] for c in crm_json("contact", "list")] == ["Bob"]
    _clean(crm)


def test_an_opp_goes_with_its_history_and_activities(crm: Run, crm_json: Json, world: None) -> None:
    assert len(crm_json("opp", "show", "1")["history"]) == 2
    done = crm("opp", "delete", "Acme torre", "--yes")
    assert done.stderr.strip() == (
        'crm: deleted opportunity 1 "Acme torre" (2 history rows), 1 activity;'
        " unlinked 1 converted lead"
    )
    assert crm("opp", "show", "1", code=1).stderr.strip() == "crm: error: no opportunity with id 1"
    assert sorted(a["id"] for a in crm_json("activity", "list", "--all")) == [2, 3, 4, 5]
    lead = crm_json("lead", "show", "1")
    assert (lead["status"], lead["opportunity_id"], lead["contact_id"]) == ("converted", None, 1)
    document = json.loads(_export(crm))
    assert [o["id"] for o in document["opportunities"]] == [2]
    assert [h["stage_name"] for h in document["opportunities"][0]["history"]] == ["Prospecting"]
    changes = _history(crm)[0]["changes"]
    assert {(c["entity"], c["op"]) for c in changes} == {
        ("activity", "delete"),
        ("lead", "update"),
        ("opportunity", "delete"),
    }


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin reads as a terminal (the answers come from `input`)."""
    monkeypatch.setattr(
        typer.testing._NamedTextIOWrapper, "isatty", lambda self: self.name == "<stdin>"
    )


def test_on_a_terminal_what_goes_is_shown_before_asking(
    crm: Run, world: None, terminal: None
) -> None:
    before = _export(crm)
    kept = crm("account", "delete", "Acme", "--cascade", input="n\n", code=1)
    assert (
        'Deletes account 1 "Acme", 2 contacts, 1 deal (2 history rows), 3 activities;'
        " unlinks 1 deal, 1 converted lead.\n"
        'Delete account 1 "Acme" for good? [y/N]:'
    ) in kept.stderr
    assert _export(crm) == before
    done = crm("contact", "delete", "Bob", input="y\n")
    assert 'Deletes contact 2 "Bob".\nDelete contact 2 "Bob" for good?' in done.stderr
    assert done.stderr.strip().endswith('crm: deleted contact 2 "Bob"')
    assert [c["name"] for c in json.loads(crm("contact", "list", "--json").stdout)] == ["Maria"]


def test_a_delete_that_would_take_more_than_was_shown_writes_nothing(
    crm: Run, world: None, db: Database
) -> None:
    preview = delete_contact(db, "1", dry_run=True)
    assert preview.dry_run and preview.deleted["activity"] == (3,)
    crm("activity", "add", "Mais um", "--type", "call", "--contact", "1")
    before = _export(crm)
    with pytest.raises(InvalidTransition, match="changed since the question"):
        delete_contact(db, "1", expected=preview)
    assert _export(crm) == before
    done = delete_contact(db, "1", expected=delete_contact(db, "1", dry_run=True))
    assert done.deleted["activity"] == (3, 6) and not done.dry_run


@pytest.mark.parametrize(
    ("answers", "deleted"),
    [
        ("s\n", True),
        ("Sim\n", True),
        ("yes\n", True),
        ("não\n", False),
        ("\n", False),
        ("talvez\nsim\n", True),
        ("", False),
    ],
)
def test_the_question_takes_an_answer_in_either_language(
    crm: Run, world: None, terminal: None, answers: str, deleted: bool
) -> None:
    result = crm("contact", "delete", "Bob", input=answers, code=0 if deleted else 1)
    names = [c["name"] for c in json.loads(crm("contact", "list", "--json").stdout)]
    assert ("Bob" not in names) is deleted
    assert ("Answer y (yes, s, sim) or n (no, não)." in result.stderr) is ("talvez" in answers)
