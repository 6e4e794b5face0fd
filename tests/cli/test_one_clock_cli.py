"""One clock (issue 12, bug 3): relative dates count from the clock that stamps the records.

With `CRM_NOW` pinned, `lead add --timeline tomorrow` stored the wall clock's tomorrow beside a
pinned `created_at`: the option parser let `values.parse_date` default to `date.today()`. The
domain now reads no clock; the CLI and the imports give it `clock.today()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
Json = Callable[..., Any]

PINNED = "1987-06-05T22:30:00"
"""Far from any real today, late in the day (a UTC/local mix-up would show as a day off)."""
DAY = date(1987, 6, 5)


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", PINNED)


@pytest.mark.usefixtures("pinned")
def test_lead_timeline_tomorrow_is_the_pinned_tomorrow(crm: Run, crm_json: Json) -> None:
    lead = json.loads(crm("lead", "add", "Ana", "--timeline", "tomorrow", "--json").stdout)
    assert lead["created_at"] == f"{PINNED}Z"
    assert lead["timeline"] == (DAY + timedelta(days=1)).isoformat()
    crm("lead", "edit", "1", "--timeline", "+2w", "-q")
    assert crm_json("lead", "show", "1")["timeline"] == (DAY + timedelta(weeks=2)).isoformat()
    crm("lead", "qualify", "1", "--budget", "10", "--timeline", "today", "-q")
    assert crm_json("lead", "show", "1")["timeline"] == DAY.isoformat()


@pytest.mark.usefixtures("pinned")
def test_opp_close_and_activity_due_count_from_the_pinned_day(crm: Run, crm_json: Json) -> None:
    opp = json.loads(
        crm("opp", "add", "Deal", "--account", "Acme", "--close", "+1m", "--json").stdout
    )
    assert opp["expected_close"] == "1987-07-05"
    crm("opp", "edit", "1", "--close", "yesterday", "-q")
    assert crm_json("opp", "show", "1")["expected_close"] == "1987-06-04"
    activity = json.loads(
        crm("activity", "add", "Call", "--type", "call", "--opp", "1", "--due", "tomorrow 09:00",
            "--json").stdout
    )  # fmt: skip
    assert activity["due"].startswith("1987-06-06T09:00")


@pytest.mark.usefixtures("pinned")
def test_imported_relative_dates_count_from_the_pinned_day(
    crm: Run, crm_json: Json, tmp_path: Path
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("name,email,timeline\nAna,ana@x.com,+3d\n", encoding="utf-8")
    crm("lead", "import", str(leads), "--json")
    assert crm_json("lead", "show", "1")["timeline"] == "1987-06-08"
    deals = tmp_path / "deals.csv"
    deals.write_text("name,account,expected_close\nDeal,Acme,tomorrow\n", encoding="utf-8")
    crm("opp", "import", str(deals), "--json")
    assert crm_json("opp", "show", "1")["expected_close"] == "1987-06-06"


def test_a_bad_crm_now_is_reported_as_itself_not_as_the_option(
    crm: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_NOW", "soon")
    result = crm("lead", "add", "Ana", "--timeline", "tomorrow", code=2)
    assert result.stderr.startswith('crm: error: CRM_NOW: "soon" is not an ISO 8601 date'), (
        result.stderr
    )
    assert result.stderr.count("\n") == 1
    due = crm("activity", "add", "Call", "--type", "call", "--due", "tomorrow", code=2)
    assert due.stderr.startswith('crm: error: CRM_NOW: "soon"'), due.stderr
