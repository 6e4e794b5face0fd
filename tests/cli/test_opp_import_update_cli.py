"""`opp import --on-duplicate update` applies a row's status, stage and probability (issue 11,
finding 16): a sheet saying WON wins the deal, through the same rules and history as `opp win`;
a change the rules refuse rejects that row with the reason, never an "updated" that ignored it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
Json = Callable[..., Any]

HEADER = "name,account,amount,stage,probability,status"


@pytest.fixture
def deals(crm: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Import rows (after HEADER) with --on-duplicate update; returns the JSON summary."""
    monkeypatch.setenv("CRM_NOW", "2027-01-10T09:00:00")
    source = tmp_path / "deals.csv"

    def run(*rows: str, code: int = 0) -> Any:
        import json

        source.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        result = crm("opp", "import", str(source), "--on-duplicate", "update", "--json", code=code)
        return json.loads(result.stdout)

    run("Big deal,Acme,1000,,,open", "Small deal,Acme,10,,,open")
    return run


def test_a_row_saying_won_wins_the_deal_with_history(
    deals: Callable[..., Any], crm_json: Json
) -> None:
    summary = deals("Big deal,Acme,1000,,,won", "Small deal,Acme,10,,,open")
    assert (summary["updated"], summary["skipped"], summary["rejected"]) == (1, 1, 0)
    won = crm_json("opp", "show", "1")
    assert (won["status"], won["probability"]) == ("won", 100)
    assert won["closed_at"] is not None
    assert [h["status"] for h in won["history"]] == ["open", "won"]
    assert crm_json("opp", "show", "2")["status"] == "open"


def test_stage_and_probability_follow_the_row(deals: Callable[..., Any], crm_json: Json) -> None:
    summary = deals("Big deal,Acme,1000,Proposal,,open", "Small deal,Acme,10,,35,")
    assert (summary["updated"], summary["rejected"]) == (2, 0)
    moved = crm_json("opp", "show", "1")
    assert (moved["stage"], moved["probability"], moved["status"]) == ("Proposal", 60, "open")
    assert [h["stage"] for h in moved["history"]] == ["Prospecting", "Proposal"]
    small = crm_json("opp", "show", "2")
    assert (small["probability"], small["probability_source"]) == (35, "manual")
    # the same sheet again changes nothing: skipped, not "updated"
    again = deals("Big deal,Acme,1000,Proposal,,open", "Small deal,Acme,10,,35,")
    assert (again["updated"], again["skipped"]) == (0, 2)


def test_a_row_the_rules_refuse_is_rejected_with_the_reason(
    deals: Callable[..., Any], crm: Run, crm_json: Json
) -> None:
    crm("opp", "lose", "1", "--reason", "price")
    summary = deals("Big deal,Acme,1000,,,won", "Small deal,Acme,10,,,lost", code=3)
    assert (summary["updated"], summary["rejected"]) == (1, 1)
    assert summary["errors"] == [
        {
            "line": 2,
            "reason": "opportunity 1 is lost: it cannot be won (reopen it first with"
            " `crm opp reopen`)",
        }
    ]
    assert crm_json("opp", "show", "1")["status"] == "lost"  # untouched
    assert crm_json("opp", "show", "2")["status"] == "lost"
    reopen = deals("Big deal,Acme,1000,,,open", "Small deal,Acme,10,,,", code=3)
    assert reopen["errors"] == [
        {
            "line": 2,
            "reason": "status: opportunity 1 is lost; a sheet does not reopen a deal"
            " (crm opp reopen)",
        }
    ]
