"""The totals of `report stale` and the agenda's deals with no next step are every open deal
less the ones with a pending activity (issue 16): the same figures as counting the listed
deals themselves, whatever the mix of deals, owners, dates and activities."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]

DEALS = [
    # (name, owner, amount, close, day created, activity: None | (due, done))
    ("Quiet", "ana", "1000", None, 1, None),
    ("Late", "bruno", "250.50", "2026-11-20", 2, ("2026-12-20", False)),
    ("Busy", "ana", "75", "2027-03-01", 3, ("2026-12-10", False)),
    ("Busy late", "ana", "10", "2026-11-30", 4, ("2026-12-09", False)),
    ("Done long ago", "bruno", "5000", "2027-01-15", 5, ("2026-11-06", True)),
    ("Planned, quiet", "bruno", "12.34", "2027-02-01", 6, ("2026-12-31", False)),
    ("No close", "ana", "3", None, 7, ("2026-12-08", False)),
    ("Won", "ana", "999", None, 8, None),
    ("Lost", "bruno", "888", "2026-10-01", 9, None),
]


@pytest.fixture
def mixed(crm: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, owner, amount, close, day, activity in DEALS:
        monkeypatch.setenv("CRM_NOW", f"2026-11-{day:02d}T10:00")
        args = ["opp", "add", name, "--account", "Acme", "--amount", amount, "--owner", owner]
        crm(*args, *(["--close", close] if close else []), "-q")
        if activity is not None:
            due, done = activity
            ref = crm("activity", "add", f"Call {name}", "--type", "call", "--opp", name,
                      "--due", due, "-q").stdout.strip()  # fmt: skip
            if done:
                crm("activity", "done", ref)
    crm("opp", "win", "Won")
    crm("opp", "lose", "Lost", "--reason", "Price")
    monkeypatch.setenv("CRM_NOW", "2026-12-07T10:00")


def _json(crm: Run, *args: str) -> Any:
    ran = crm(*args, "--json")
    assert ran.exit_code == 0, ran.output
    return json.loads(ran.stdout)


@pytest.mark.parametrize("owner", [None, "ana", "bruno"])
@pytest.mark.parametrize("days", [None, 1, 20, 400])
def test_the_stale_total_is_the_sum_of_every_stale_deal(
    crm: Run, mixed: None, owner: str | None, days: int | None
) -> None:
    args = [*(["--owner", owner] if owner else []), *(["--days", str(days)] if days else [])]
    every = _json(crm, "report", "stale", *args)
    listed = every["deals"]
    assert every["total"] == {
        "count": len(listed),
        "amount": str(sum((Decimal(d["amount"]) for d in listed), Decimal("0.00"))),
    }
    first = _json(crm, "report", "stale", *args, "--limit", "1")
    assert first["total"] == every["total"]  # read as all open deals less the busy ones
    assert first["deals"] == listed[:1]


def test_the_stale_deals_of_the_mix(crm: Run, mixed: None) -> None:
    # every open deal is over 14 days quiet; with 400 days allowed, only those with no next
    # step or past their close date are left
    assert len(_json(crm, "report", "stale")["deals"]) == 7
    names = {d["name"] for d in _json(crm, "report", "stale", "--days", "400")["deals"]}
    assert names == {"Quiet", "Late", "Busy late", "Done long ago"}


@pytest.mark.parametrize("owner", [None, "ana", "bruno"])
def test_the_agenda_counts_every_deal_with_no_next_step(
    crm: Run, mixed: None, owner: str | None
) -> None:
    args = ["--owner", owner] if owner else []
    every = _json(crm, "agenda", "--all", *args)
    assert every["no_next_step_total"] == len(every["no_next_step"])
    for limit in range(1, len(every["no_next_step"]) + 2):
        some = _json(crm, "agenda", "--limit", str(limit), *args)
        assert some["no_next_step"] == every["no_next_step"][:limit]  # close date, then none
        assert some["no_next_step_total"] == every["no_next_step_total"]


def test_deals_with_no_next_step_soonest_close_first_and_undated_last(
    crm: Run, mixed: None
) -> None:
    names = [d["name"] for d in _json(crm, "agenda", "--all")["no_next_step"]]
    assert names == ["Done long ago", "Quiet"]
