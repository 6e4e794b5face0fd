"""An empty or blank reference names nothing (issue 11, finding 2).

`crm opp win ""` used to close the only deal and `contact show " "` to show the only contact: a
script with an unset variable hit a real record. Every argument or option that names a lead,
contact, account, opportunity, stage or activity goes through `values.parse_reference`, and an
empty or blank one is a usage error (exit 2, one line) that changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import Result

Run = Callable[..., Result]

BLANKS = ["", " ", "\t", "\u200b", "\u3000 \u00a0"]

COMMANDS = [
    ("opportunity", ["opp", "win", "?"]),
    ("opportunity", ["opp", "lose", "?", "--reason", "price"]),
    ("opportunity", ["opp", "show", "?"]),
    ("opportunity", ["opp", "advance", "?", "--to", "Qualified"]),
    ("opportunity", ["opp", "edit", "?", "--amount", "5"]),
    ("opportunity", ["opp", "reopen", "?"]),
    ("stage", ["opp", "advance", "1", "--to", "?"]),
    ("stage", ["opp", "add", "New deal", "--account", "Acme", "--stage", "?"]),
    ("stage", ["opp", "list", "--stage", "?"]),
    ("account", ["opp", "add", "New deal", "--account", "?"]),
    ("account", ["opp", "list", "--account", "?"]),
    ("account", ["opp", "edit", "1", "--account", "?"]),
    ("account", ["account", "show", "?"]),
    ("account", ["account", "edit", "?", "--industry", "x"]),
    ("account", ["contact", "add", "Eva", "--account", "?"]),
    ("account", ["contact", "list", "--account", "?"]),
    ("contact", ["contact", "show", "?"]),
    ("contact", ["contact", "edit", "?", "--title", "CEO"]),
    ("stage", ["stage", "rename", "?", "Other"]),
    ("stage", ["stage", "move", "?", "--position", "1"]),
    ("stage", ["stage", "move", "Qualified", "--after", "?"]),
    ("stage", ["stage", "add", "Extra", "--probability", "5", "--after", "?"]),
    ("stage", ["stage", "remove", "Qualified", "--move-to", "?"]),
    ("lead", ["lead", "show", "?"]),
    ("lead", ["lead", "qualify", "?"]),
    ("lead", ["lead", "convert", "?"]),
    ("account", ["lead", "convert", "1", "--account", "?"]),
    ("stage", ["lead", "convert", "1", "--stage", "?"]),
    ("lead", ["activity", "add", "Call", "--type", "call", "--lead", "?"]),
    ("contact", ["activity", "add", "Call", "--type", "call", "--contact", "?"]),
    ("account", ["activity", "add", "Call", "--type", "call", "--account", "?"]),
    ("opportunity", ["activity", "add", "Call", "--type", "call", "--opp", "?"]),
    ("opportunity", ["activity", "list", "--for", "opp", "?"]),
    ("activity", ["activity", "show", "?"]),
    ("activity", ["activity", "done", "?"]),
]


@pytest.fixture
def one_of_each(crm: Run) -> Run:
    """One lead, account, contact, deal and activity: a blank reference would match each."""
    crm("lead", "add", "Ana", "--company", "Acme", "-q")
    crm("opp", "add", "Deal", "--account", "Acme", "-q")
    crm("contact", "add", "Bob", "--account", "Acme", "-q")
    crm("activity", "add", "Call", "--type", "call", "--opp", "1", "-q")
    return crm


def _state(crm: Run) -> list[str]:
    return [
        crm(*args, "--json").stdout
        for args in (["lead", "list", "--all"], ["opp", "list"], ["contact", "list"])
    ] + [crm("stage", "list", "--json").stdout, crm("activity", "list", "--all", "--json").stdout]


@pytest.mark.parametrize(("kind", "template"), COMMANDS, ids=lambda v: " ".join(v))
def test_an_empty_or_blank_reference_is_a_usage_error_that_changes_nothing(
    one_of_each: Run, kind: str, template: list[str]
) -> None:
    crm = one_of_each
    before = _state(crm)
    expected = "give an id" if kind in ("lead", "activity") else "give an id or a name"
    for blank in BLANKS:
        args = [blank if part == "?" else part for part in template]
        result = crm(*args, code=2)
        assert result.stderr == f"crm: error: {kind}: an empty reference ({expected})\n", blank
        assert result.stdout == ""
    assert _state(crm) == before


def test_a_lead_named_by_something_else_than_an_id_says_leads_are_named_by_id(crm: Run) -> None:
    crm("lead", "add", "Ana", "-q")
    said = 'crm: error: lead: "Ana" is not an id or an e-mail (leads are named by id or e-mail)\n'
    result = crm("lead", "show", "Ana", code=2)
    assert result.stderr == said
    result = crm("activity", "add", "Call", "--type", "call", "--lead", "Ana", code=2)
    assert result.stderr == said


def test_real_references_still_work_with_surrounding_blanks(one_of_each: Run) -> None:
    crm = one_of_each
    assert '"status": "won"' in crm("opp", "win", " Deal ", "--json").stdout
    assert '"name": "Bob"' in crm("contact", "show", "\tbob", "--json").stdout
    assert '"name": "Ana"' in crm("lead", "show", " 1 ", "--json").stdout
