"""`crm activity …`, `crm agenda` and the activities of `opp show` / `lead show`, end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
Json = Callable[..., Any]

ACTIVITY_KEYS = ["id", "type", "subject", "due", "done"]
EXTRA_KEYS = [
    "lead_id",
    "contact_id",
    "account_id",
    "opportunity_id",
    "due_has_time",
    "done_at",
    "owner",
    "notes",
    "created_at",
]


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tuesday 2026-12-15 10:00, local time."""
    monkeypatch.setenv("CRM_NOW", "2026-12-15T10:00:00")


@pytest.fixture
def pipeline(crm: Run) -> None:
    """Lead 1; deals 1 (Horizonte) and 2 (Northwind, left without a next step); activities
    1 overdue (lead), 2 overdue at 09:00 (deal 1), 3 today 15:00 (deal 1), 4 upcoming (deal 1)."""
    crm("lead", "add", "João Silva", "-q")
    crm("opp", "add", "Horizonte – sensores", "--account", "Construtora Horizonte", "-q")
    crm("opp", "add", "Northwind – IoT", "--account", "Northwind", "--close", "2027-01-31", "-q")
    crm("activity", "add", "Ligar para o João", "--type", "call", "--lead", "1", "--due", "-1d")
    crm(
        "activity",
        "add",
        "Enviar proposta",
        "--type",
        "task",
        "--opp",
        "horizonte",
        "--due",
        "9:00",
    )
    crm("activity", "add", "Demo", "--type", "meeting", "--opp", "1", "--due", "today 15:00")
    crm("activity", "add", "Follow-up", "--type", "email", "--opp", "1", "--due", "+3d")


def test_add_prints_the_record_with_the_contract_keys(crm: Run, crm_json: Json) -> None:
    crm("opp", "add", "Deal", "--account", "Acme", "-q")
    added = crm_json(
        "activity", "add", "Call", "--type", "call", "--opp", "deal", "--due", "tomorrow 09:00"
    )
    assert list(added)[:5] == ACTIVITY_KEYS
    assert set(EXTRA_KEYS) <= added.keys()
    assert added["due"] == "2026-12-16T09:00"
    assert (added["done"], added["due_has_time"], added["opportunity_id"]) == (False, True, 1)
    assert added["owner"] == "tester"
    assert added["created_at"] == "2026-12-15T10:00:00Z"
    dated = crm_json(
        "activity", "add", "Note", "--type", "note", "--account", "acme", "--due", "+2d"
    )
    assert dated["due"] == "2026-12-17"
    assert crm("activity", "add", "x", "--type", "task", "--opp", "1", "-q").stdout == "3\n"


def test_list_filters_and_output_forms(crm: Run, crm_json: Json, pipeline: None) -> None:
    assert [a["id"] for a in crm_json("activity", "list")] == [1, 2, 3, 4]
    assert [a["id"] for a in crm_json("activity", "list", "--overdue")] == [1, 2]
    assert [a["id"] for a in crm_json("activity", "list", "--today")] == [3]
    assert [a["id"] for a in crm_json("activity", "list", "--upcoming")] == [4]
    assert [a["id"] for a in crm_json("activity", "list", "--for", "lead", "1")] == [1]
    assert crm("activity", "list", "--for", "opp", "horizonte", "-q").stdout == "2\n3\n4\n"
    csv = crm("activity", "list", "--today", "--csv").stdout.splitlines()
    assert csv[0].startswith("id,type,subject,due,done,")
    assert csv[1].startswith("3,meeting,Demo,2026-12-15T15:00,no,")
    table = crm("activity", "list").stdout
    assert "2026-12-15 09:00  overdue" in table
    assert "Follow-up" in table and "upcoming" in table


def test_done_then_all(crm: Run, crm_json: Json, pipeline: None) -> None:
    done = crm_json("activity", "done", "1")
    assert (done["done"], done["done_at"]) == (True, "2026-12-15T10:00:00Z")
    assert [a["id"] for a in crm_json("activity", "list")] == [2, 3, 4]
    assert [a["id"] for a in crm_json("activity", "list", "--all")] == [1, 2, 3, 4]
    again = crm("activity", "done", "1", code=1)
    assert (
        again.stderr == "crm: error: activity 1 is already done (marked at 2026-12-15 10:00 UTC)\n"
    )
    assert again.stdout == ""


def test_edit_and_clear_due(crm: Run, crm_json: Json, pipeline: None) -> None:
    edited = crm_json("activity", "edit", "4", "--due", "2026-12-20 14:30", "--notes", "sala 3")
    assert (edited["due"], edited["notes"]) == ("2026-12-20T14:30", "sala 3")
    cleared = crm_json("activity", "edit", "4", "--due", "")
    assert (cleared["due"], cleared["due_has_time"]) == (None, False)
    assert crm("activity", "edit", "4", "--type", "task", "-q").stdout == "4\n"
    assert crm_json("activity", "show", "4")["type"] == "task"


def test_delete_needs_yes_off_a_terminal(crm: Run, crm_json: Json, pipeline: None) -> None:
    refused = crm("activity", "delete", "4", code=2)
    assert "--yes" in refused.stderr
    assert crm_json("activity", "delete", "4", "--yes") == {"id": 4, "deleted": True}
    crm("activity", "show", "4", code=1)


def test_agenda_json_buckets(crm_json: Json, pipeline: None) -> None:
    day = crm_json("agenda")
    assert {"overdue", "today", "no_next_step"} <= day.keys()
    assert [a["id"] for a in day["overdue"]] == [1, 2]
    assert [a["id"] for a in day["today"]] == [3]
    assert [o["name"] for o in day["no_next_step"]] == ["Northwind – IoT"]
    assert day["no_next_step"][0]["amount"] == "0.00"


def test_agenda_table(crm: Run, pipeline: None) -> None:
    out = crm("agenda").stdout
    overdue, today, deals = out.split("\n\n")
    assert overdue.startswith("Overdue\n") and "Ligar para o João" in overdue
    assert today.startswith("Today (2026-12-15)\n") and "Demo" in today
    assert deals.startswith("Open deals with no next step\n") and "Northwind – IoT" in deals
    assert "Follow-up" not in out


def test_agenda_on_an_empty_database(crm: Run, crm_json: Json) -> None:
    assert crm("agenda").stdout == (
        "Overdue: nothing\n\nToday (2026-12-15): nothing\n\nOpen deals with no next step: nothing\n"
    )
    assert crm_json("agenda") == {
        "now": "2026-12-15T10:00",
        "overdue": [],
        "today": [],
        "no_next_step": [],
        "no_next_step_total": 0,
        "overdue_total": 0,
        "today_total": 0,
    }


def test_opp_show_and_lead_show_list_activities(crm: Run, crm_json: Json, pipeline: None) -> None:
    opp = crm_json("opp", "show", "1")
    assert [a["id"] for a in opp["activities"]] == [2, 3, 4]
    assert opp["history"]
    table = crm("opp", "show", "1").stdout
    assert "\nActivities\n" in table and "Enviar proposta" in table
    assert crm_json("opp", "show", "2")["activities"] == []
    assert "Activities" not in crm("opp", "show", "2").stdout
    crm("activity", "done", "1", "-q")
    lead = crm_json("lead", "show", "1")
    assert [(a["id"], a["done"]) for a in lead["activities"]] == [(1, True)]
    assert "Ligar para o João" in crm("lead", "show", "1").stdout


def test_deleting_a_lead_deletes_its_activities(crm: Run, crm_json: Json, pipeline: None) -> None:
    crm("lead", "delete", "1", "--yes")
    assert [a["id"] for a in crm_json("activity", "list", "--all")] == [2, 3, 4]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["add", "x", "--type", "task"], 2, "needs one record"),
        (["add", "x", "--type", "task", "--lead", "1", "--opp", "1"], 2, "exactly one record"),
        (["add", "x", "--type", "fax", "--lead", "1"], 2, "'--type'"),
        (["add", "x", "--type", "task", "--lead", "1", "--due", "31/02/2027"], 2, "28 days"),
        (["add", "x", "--lead", "1"], 2, "--type"),
        (["add", "x", "--type", "task", "--lead", "9"], 1, "no lead with id 9"),
        (["add", "x", "--type", "task", "--opp", "ghost"], 1, 'no opportunity "ghost"'),
        (["list", "--for", "deal", "1"], 2, '"deal" is not one of'),
        (["list", "--for", "opp"], 2, "requires 2 arguments"),
        (["done", "99"], 1, "no activity with id 99"),
        (["edit", "1"], 1, "nothing to change"),
        (["edit", "1", "--due", "someday"], 2, "'--due'"),
    ],
)
def test_exit_codes(crm: Run, pipeline: None, args: list[str], code: int, message: str) -> None:
    result = crm("activity", *args, code=code)
    assert message in result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_texts_exist(crm: Run) -> None:
    out = crm("activity", "--help").stdout
    for command in ("add", "list", "show", "edit", "done", "delete"):
        assert command in out
    assert "overdue" in crm("agenda", "--help").stdout.lower()
    assert json.loads(crm("activity", "list", "--json").stdout) == []


def test_agenda_limits_the_deals_with_no_next_step_and_counts_them_all(
    crm: Run, crm_json: Json
) -> None:
    for n in range(5):
        crm("opp", "add", f"Deal {n}", "--account", "Acme", "--close", f"2027-01-0{n + 1}")
    agenda = crm_json("agenda", "--limit", "2")
    assert [d["name"] for d in agenda["no_next_step"]] == ["Deal 0", "Deal 1"]
    assert agenda["no_next_step_total"] == 5
    assert "… and 3 more" in crm("agenda", "--limit", "2").stdout
    assert crm_json("agenda")["no_next_step_total"] == 5
