"""`report stale --days`: the whole calendar is allowed, past it one usage error on both backends.

It used to pass SQLite and fail on PostgreSQL with "bigint out of range" (days × 86,400 seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
Json = Callable[..., Any]


def test_stale_days_up_to_the_calendars_span(
    crm: Run, crm_json: Json, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_NOW", "2027-01-10T09:00:00")
    crm("opp", "add", "Quiet deal", "--account", "Acme", "--amount", "10")
    report = crm_json("report", "stale", "--days", "2958463")
    assert report["days"] == 2958463
    assert [d["name"] for d in report["deals"]] == ["Quiet deal"]  # no next step
    assert report["deals"][0]["limit_days"] == 2958463


@pytest.mark.parametrize("days", ["2958464", "106751991167301", "99999999999999999999"])
def test_stale_days_beyond_the_calendar_is_a_usage_error(crm: Run, days: str) -> None:
    crm("opp", "add", "Quiet deal", "--account", "Acme", "--amount", "10")
    result = crm("report", "stale", "--days", days, code=2)
    assert result.stdout == ""
    assert result.stderr == (
        f"crm report stale: error: Invalid value for '--days': {days} is not in the range"
        " 1<=x<=2958463. (see --help)\n"
    )
