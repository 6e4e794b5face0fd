"""`crm lead reopen`: a disqualified or archived lead comes back as new; a converted one never."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]


def test_disqualified_lead_reopens_with_its_reason_kept_in_the_notes(
    crm: Run, crm_json: Callable[..., Any]
) -> None:
    crm("lead", "add", "Ana", "--email", "ana@x.br", "--notes", "Feira 2026")
    crm("lead", "disqualify", "1", "--reason", "sem orçamento este ano")
    lead = crm_json("lead", "reopen", "1")
    assert lead["status"] == "new"
    assert lead["disqualify_reason"] is None
    assert lead["notes"].startswith("Feira 2026\nDisqualified before ")
    assert lead["notes"].endswith(": sem orçamento este ano")
    assert crm_json("lead", "qualify", "1", "--budget", "10", "--timeline", "+30d")["status"] == (
        "qualified"
    )


def test_archived_lead_reopens_and_shows_in_default_lists_again(
    crm: Run, crm_json: Callable[..., Any]
) -> None:
    crm("lead", "add", "Ana")
    crm("lead", "archive", "1")
    assert crm_json("lead", "list") == []
    assert crm_json("lead", "reopen", "1")["status"] == "new"
    assert [lead["id"] for lead in crm_json("lead", "list")] == [1]


def test_converted_and_new_leads_are_refused_and_nothing_changes(crm: Run) -> None:
    crm("lead", "add", "Ana", "--company", "Acme", "--budget", "10", "--timeline", "+30d")
    result = crm("lead", "reopen", "1", code=1)
    assert result.stderr.strip() == (
        "crm: error: lead 1 is new: only a lead that is archived, disqualified can be reopened"
    )
    crm("lead", "qualify", "1")
    crm("lead", "convert", "1")
    before = crm("export", "--format", "json").stdout
    result = crm("lead", "reopen", "1", code=1)
    assert "converted" in result.stderr and "crm undo" in result.stderr
    assert crm("export", "--format", "json").stdout == before
    assert crm("lead", "reopen", "99", code=1).stderr.strip() == "crm: error: no lead with id 99"


def test_reopen_is_one_change_set_that_undo_reverts(crm: Run) -> None:
    crm("lead", "add", "Ana")
    crm("lead", "disqualify", "1", "--reason", "sem verba")
    before = crm("export", "--format", "json").stdout
    crm("lead", "reopen", "1")
    newest = json.loads(crm("history", "--json", "--limit", "1").stdout)[0]
    assert newest["command"] == "lead reopen 1"
    assert newest["changes"] == [{"entity": "lead", "id": 1, "op": "update"}]
    crm("undo", "--yes")
    assert crm("export", "--format", "json").stdout == before
