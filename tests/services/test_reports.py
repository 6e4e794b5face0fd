"""Forecast, win rate, conversion, velocity and stale deals on small hand-made pipelines.

Every step runs with `CRM_NOW` pinned, so the figures below are exact and checked by hand.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from crmcli.errors import ValidationError
from crmcli.reports import analytics
from crmcli.reports.analytics import NO_NEXT_STEP, NO_RECENT_ACTIVITY, PAST_CLOSE_DATE
from crmcli.reports.forecast import ForecastBucket, ForecastReport, horizon
from crmcli.services import leads, opportunities
from crmcli.services.leads import ConvertOptions
from crmcli.services.reports import (
    conversion_report,
    forecast_report,
    stale_report,
    velocity_report,
    win_rate_report,
)
from crmcli.store.db import Database

D = Decimal


class Clock:
    """Pins CRM_NOW for the next service calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def __call__(self, when: str) -> None:
        self.monkeypatch.setenv("CRM_NOW", when)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def _deal(
    db: Database,
    name: str,
    amount: str,
    *,
    close: date | None = None,
    stage: str | None = None,
    probability: int | None = None,
    owner: str | None = None,
) -> str:
    opp = opportunities.add_opportunity(
        db,
        name,
        account="Acme",
        amount=D(amount),
        close=close,
        stage=stage,
        probability=probability,
        owner=owner,
    ).opportunity
    return str(opp.id)


def _activity(
    db: Database,
    created: str,
    *,
    opp: str | None = None,
    done_at: str | None = None,
    account_id: int | None = None,
) -> None:
    """An activity row as the activities service stores it (created/done at pinned times)."""
    made = datetime.fromisoformat(created)
    with db.write() as uow:
        uow.activities.add(
            {
                "type": "call",
                "subject": "Follow up",
                "opportunity_id": int(opp) if opp else None,
                "account_id": account_id,
                "due_has_time": False,
                "done": done_at is not None,
                "done_at": datetime.fromisoformat(done_at) if done_at else None,
                "owner": "tester",
                "created_at": made,
                "updated_at": made,
            }
        )
        uow.commit()


def _bucket(count: int, amount: str, weighted: str) -> ForecastBucket:
    return ForecastBucket(count, D(amount), D(weighted))


def _periods(report: ForecastReport) -> list[tuple[str, int, str, str, str]]:
    return [(p.period, p.count, str(p.amount), str(p.weighted), str(p.won)) for p in report.periods]


# -- forecast ------------------------------------------------------------------------------


def test_horizon_starts_with_the_current_period() -> None:
    assert horizon(date(2026, 11, 30), "month", 3) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    # 7 months rounded up to 3 quarters, starting with the current quarter
    assert horizon(date(2026, 5, 20), "quarter", 7) == [
        date(2026, 4, 1),
        date(2026, 7, 1),
        date(2026, 10, 1),
        date(2027, 1, 1),
    ]


def test_forecast_of_an_empty_database_lists_every_period(db: Database, at: Clock) -> None:
    at("2026-11-20T10:00:00")
    report = forecast_report(db)
    assert _periods(report) == [
        (p, 0, "0.00", "0.00", "0.00")
        for p in ("2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04")
    ]
    zero = _bucket(0, "0.00", "0.00")
    assert (report.overdue, report.later, report.no_close_date) == (zero, zero, zero)
    assert (report.total.count, report.total.amount, report.total.won) == (0, D("0.00"), D("0"))
    assert (report.start, report.end) == (date(2026, 11, 1), date(2027, 4, 30))
    assert report.currency == "BRL"


def _forecast_pipeline(db: Database, at: Clock) -> None:
    """Deals around a report run on 2026-05-20 (horizon May–Oct 2026)."""
    at("2026-04-01T09:00:00")
    _deal(db, "A", "1000.00", close=date(2026, 5, 31))  # May, 10 % → 100.00
    _deal(db, "B", "333.33", close=date(2026, 6, 1), probability=15)  # June, 49.9995 → 50.00
    _deal(db, "C", "500.00", close=date(2026, 5, 19))  # yesterday: overdue, 50.00
    _deal(db, "D", "200.00")  # no close date, 20.00
    _deal(db, "E", "700.00", close=date(2026, 11, 1))  # after the horizon, 70.00
    _deal(db, "F", "800.00", close=date(2026, 10, 31), owner="Bruno")  # October, 80.00
    g = _deal(db, "G", "1500.00")
    h = _deal(db, "H", "300.00")
    i = _deal(db, "I", "900.00")
    j = _deal(db, "J", "400.00")
    k = _deal(db, "K", "600.00", close=date(2026, 7, 15))
    at("2026-04-30T23:00:00")
    opportunities.win_opportunity(db, h)  # before the horizon: not shown
    at("2026-05-02T10:00:00")
    opportunities.win_opportunity(db, g)
    opportunities.lose_opportunity(db, i, reason="Price")  # lost: never counted
    at("2026-05-03T10:00:00")
    opportunities.win_opportunity(db, j)
    at("2026-05-04T10:00:00")
    opportunities.reopen_opportunity(db, j)
    at("2026-05-05T10:00:00")
    opportunities.win_opportunity(db, j)  # reopened then won: counted once, in May
    at("2026-05-06T10:00:00")
    opportunities.win_opportunity(db, k)
    at("2026-05-07T10:00:00")
    opportunities.reopen_opportunity(db, k)  # won then reopened: open in July, not won
    at("2026-05-20T08:00:00")


def test_forecast_by_month(db: Database, at: Clock) -> None:
    _forecast_pipeline(db, at)
    report = forecast_report(db)
    assert _periods(report) == [
        ("2026-05", 1, "1000.00", "100.00", "1900.00"),
        ("2026-06", 1, "333.33", "50.00", "0.00"),
        ("2026-07", 1, "600.00", "60.00", "0.00"),
        ("2026-08", 0, "0.00", "0.00", "0.00"),
        ("2026-09", 0, "0.00", "0.00", "0.00"),
        ("2026-10", 1, "800.00", "80.00", "0.00"),
    ]
    assert report.overdue == _bucket(1, "500.00", "50.00")
    assert report.later == _bucket(1, "700.00", "70.00")
    assert report.no_close_date == _bucket(1, "200.00", "20.00")
    # every open deal once; weighted from the exact sum (429.9995 → 430.00)
    t = report.total
    assert (t.count, t.amount, t.weighted, t.won) == (7, D("4133.33"), D("430.00"), D("1900.00"))


def test_forecast_by_quarter(db: Database, at: Clock) -> None:
    _forecast_pipeline(db, at)
    report = forecast_report(db, by="quarter")
    assert _periods(report) == [
        ("2026-Q2", 2, "1333.33", "150.00", "2200.00"),  # H, won on 30 April, is in Q2
        ("2026-Q3", 1, "600.00", "60.00", "0.00"),
    ]
    assert report.later == _bucket(2, "1500.00", "150.00")  # October and November
    assert report.overdue == _bucket(1, "500.00", "50.00")
    assert (report.start, report.end) == (date(2026, 4, 1), date(2026, 9, 30))


def test_forecast_of_one_period_and_by_owner(db: Database, at: Clock) -> None:
    _forecast_pipeline(db, at)
    one = forecast_report(db, months=1)
    assert _periods(one) == [("2026-05", 1, "1000.00", "100.00", "1900.00")]
    assert one.later == _bucket(4, "2433.33", "260.00")
    bruno = forecast_report(db, owner="BRUNO")
    assert [p.count for p in bruno.periods] == [0, 0, 0, 0, 0, 1]
    assert bruno.total.won == D("0.00")
    assert bruno.overdue == _bucket(0, "0.00", "0.00")


def test_forecast_refuses_a_bad_horizon(db: Database) -> None:
    with pytest.raises(ValidationError):
        forecast_report(db, months=0)
    with pytest.raises(ValidationError):
        forecast_report(db, by="week")


# -- win rate ------------------------------------------------------------------------------


def _lead_deal(db: Database, name: str, source: str | None, amount: str, owner: str) -> str:
    lead = leads.add_lead(
        db,
        name,
        company=f"{name} Ltd",
        source=source,
        budget=D(amount),
        timeline=date(2026, 12, 31),
        owner=owner,
    )
    leads.qualify_lead(db, lead.id)
    done = leads.convert_lead(db, lead.id, ConvertOptions())
    assert done.opportunity is not None
    return str(done.opportunity.id)


def _closed_pipeline(db: Database, at: Clock) -> None:
    at("2026-01-05T09:00:00")
    a1 = _lead_deal(db, "Ana One", "Expo", "1000.00", "ana")
    a2 = _lead_deal(db, "Ana Two", "expo", "500.00", "ana")  # same source by key
    b1 = _deal(db, "B1", "100.00", owner="bruno")
    b2 = _lead_deal(db, "Bruno Two", "Website", "200.00", "Bruno")
    b3 = _deal(db, "B3", "700.00", owner="bruno")
    _deal(db, "Open", "9999.00", owner="ana")  # open: never in a win rate
    at("2026-01-20T09:00:00")
    opportunities.win_opportunity(db, a1)
    opportunities.lose_opportunity(db, a2, reason="Price")
    opportunities.lose_opportunity(db, b3, reason="Timing")
    at("2026-02-10T09:00:00")
    opportunities.win_opportunity(db, b1)
    opportunities.win_opportunity(db, b2)
    at("2026-02-11T09:00:00")
    opportunities.reopen_opportunity(db, b2)
    at("2026-02-12T09:00:00")
    opportunities.win_opportunity(db, b2)  # reopened then won: one win


def _rates(row: analytics.WinRateRow) -> tuple[object, ...]:
    return (
        row.group,
        row.won,
        row.lost,
        str(row.won_amount),
        str(row.lost_amount),
        None if row.win_rate is None else str(row.win_rate),
        None if row.value_win_rate is None else str(row.value_win_rate),
    )


def test_win_rate_of_an_empty_database(db: Database) -> None:
    report = win_rate_report(db)
    assert report.groups == []
    assert _rates(report.total) == ("Total", 0, 0, "0.00", "0.00", None, None)


def test_win_rate_by_owner(db: Database, at: Clock) -> None:
    _closed_pipeline(db, at)
    report = win_rate_report(db)
    assert [_rates(r) for r in report.groups] == [
        ("ana", 1, 1, "1000.00", "500.00", "50.0", "66.7"),
        ("bruno", 2, 1, "300.00", "700.00", "66.7", "30.0"),  # "Bruno" is the same owner
    ]
    assert _rates(report.total) == ("Total", 3, 2, "1300.00", "1200.00", "60.0", "52.0")


def test_win_rate_by_source_and_since(db: Database, at: Clock) -> None:
    _closed_pipeline(db, at)
    report = win_rate_report(db, by="source")
    assert [_rates(r) for r in report.groups] == [
        ("Expo", 1, 1, "1000.00", "500.00", "50.0", "66.7"),
        ("Website", 1, 0, "200.00", "0.00", "100.0", "100.0"),
        ("(none)", 1, 1, "100.00", "700.00", "50.0", "12.5"),
    ]
    since = win_rate_report(db, by="source", since=date(2026, 2, 1))
    assert [_rates(r) for r in since.groups] == [
        ("Website", 1, 0, "200.00", "0.00", "100.0", "100.0"),
        ("(none)", 1, 0, "100.00", "0.00", "100.0", "100.0"),
    ]
    assert since.since == date(2026, 2, 1)


def test_win_rate_of_zero_amount_deals_has_no_value_rate(db: Database, at: Clock) -> None:
    at("2026-01-05T09:00:00")
    opportunities.win_opportunity(db, _deal(db, "Free", "0.00"))
    total = win_rate_report(db).total
    assert (str(total.win_rate), total.value_win_rate) == ("100.0", None)


# -- conversion ----------------------------------------------------------------------------


def test_conversion_by_source(db: Database, at: Clock) -> None:
    assert conversion_report(db).sources == []
    assert conversion_report(db).total.conversion_rate is None
    at("2026-01-05T09:00:00")
    _lead_deal(db, "Converted", "Expo", "100.00", "ana")
    qualified = leads.add_lead(
        db, "Qualified", source="EXPO", budget=D("5"), timeline=date(2026, 9, 1)
    )
    leads.qualify_lead(db, qualified.id)
    dropped = leads.add_lead(db, "Dropped", source="Expo")
    leads.disqualify_lead(db, dropped.id, "No budget")
    leads.add_lead(db, "Fresh", source="Expo")
    leads.add_lead(db, "Web", source="Website")
    gone = leads.add_lead(db, "Gone")
    leads.disqualify_lead(db, gone.id, "Spam")
    leads.archive_lead(db, gone.id)  # archived after disqualification: still disqualified
    leads.archive_lead(db, leads.add_lead(db, "Quiet").id)  # archived only
    report = conversion_report(db)
    rows = [
        (r.source, r.leads, r.qualified, r.disqualified, r.converted, str(r.conversion_rate))
        for r in report.sources
    ]
    assert rows == [
        ("Expo", 4, 2, 1, 1, "25.0"),
        ("Website", 1, 0, 0, 0, "0.0"),
        ("(none)", 2, 0, 1, 0, "0.0"),
    ]
    t = report.total
    assert (t.leads, t.qualified, t.disqualified, t.converted) == (7, 2, 2, 1)
    assert str(t.conversion_rate) == "14.3"


# -- velocity ------------------------------------------------------------------------------


def test_velocity_of_an_empty_database(db: Database) -> None:
    report = velocity_report(db)
    assert [(r.stage, r.stays, r.average_days) for r in report.stages][:2] == [
        ("Prospecting", 0, None),
        ("Qualification", 0, None),
    ]
    assert report.sales_cycle == analytics.SalesCycle(0, None, None)


def test_velocity_counts_completed_stays_and_the_sales_cycle(db: Database, at: Clock) -> None:
    at("2026-01-01T00:00:00")
    x = _deal(db, "X", "100.00")
    y = _deal(db, "Y", "100.00")
    z = _deal(db, "Z", "100.00")
    at("2026-01-02T00:00:00")
    opportunities.win_opportunity(db, z)  # Z: 1 day in Prospecting
    at("2026-01-03T00:00:00")
    opportunities.reopen_opportunity(db, z)
    at("2026-01-03T12:00:00")
    opportunities.advance_opportunity(db, x)  # X: 2.5 days in Prospecting
    at("2026-01-04T00:00:00")
    opportunities.edit_opportunity(db, x, probability=35)  # not a stage change
    at("2026-01-05T00:00:00")
    opportunities.advance_opportunity(db, y)  # Y: 4 days in Prospecting
    opportunities.win_opportunity(db, z)  # Z again: 2 days in Prospecting; cycle 4 days
    at("2026-01-06T00:00:00")
    opportunities.lose_opportunity(db, y, reason="Price")  # Y: 1 day in Qualification
    at("2026-01-08T12:00:00")
    opportunities.advance_opportunity(db, x)  # X: 5 days in Qualification (one stay)
    at("2026-01-09T12:00:00")
    opportunities.win_opportunity(db, x)  # X: 1 day in Needs analysis; cycle 8.5 days
    at("2026-01-10T00:00:00")
    opportunities.reopen_opportunity(db, y)
    at("2026-01-12T00:00:00")
    opportunities.advance_opportunity(db, y)  # Y: 2 more days in Qualification
    at("2026-03-01T00:00:00")  # Y's current stay in Needs analysis does not count
    report = velocity_report(db)
    rows = [
        (r.stage, r.expected_days, r.stays, str(r.average_days), str(r.median_days))
        for r in report.stages
    ]
    assert rows == [
        ("Prospecting", 14, 4, "2.4", "2.3"),  # 1, 2, 2.5, 4 → 9.5/4 = 2.375; (2+2.5)/2
        ("Qualification", 14, 3, "2.7", "2.0"),  # 1, 2, 5
        ("Needs analysis", 21, 1, "1.0", "1.0"),
        ("Proposal", 14, 0, "None", "None"),
        ("Negotiation", 14, 0, "None", "None"),
    ]
    cycle = report.sales_cycle
    assert (cycle.won, str(cycle.average_days), str(cycle.median_days)) == (2, "6.3", "6.3")


# -- stale deals ---------------------------------------------------------------------------


def _stale(report: analytics.StaleReport) -> list[tuple[str, list[str], int]]:
    return [(d.name, d.reasons, d.idle_days) for d in report.deals]


def test_stale_of_an_empty_database(db: Database) -> None:
    report = stale_report(db)
    assert report.deals == []
    assert (report.total.count, report.total.amount) == (0, D("0.00"))


def test_stale_deals_and_why(db: Database, at: Clock) -> None:
    at("2026-01-01T12:00:00")
    _deal(db, "Forgotten", "50.00")  # no activity at all
    at("2026-02-01T12:00:00")
    done = _deal(db, "Done only", "100.00")
    quiet = _deal(db, "Quiet", "200.00")
    at("2026-02-10T12:00:00")
    needs = _deal(db, "Needs", "300.00", stage="Needs analysis")  # expected 21 days
    at("2026-02-27T12:00:00")
    late = _deal(db, "Late", "400.00", close=date(2026, 2, 28))
    fine = _deal(db, "Fine", "500.00", close=date(2026, 3, 10))
    won = _deal(db, "Won", "600.00")
    opportunities.win_opportunity(db, won)
    _activity(db, "2026-02-10T12:00:00", opp=done, done_at="2026-02-20T12:00:00")
    _activity(db, "2026-02-05T12:00:00", opp=quiet)  # pending, but 24 days ago
    _activity(db, "2026-02-10T12:00:00", opp=needs)  # pending, 19 days ago: within 21
    _activity(db, "2026-02-27T12:00:00", opp=late)
    _activity(db, "2026-02-28T12:00:00", opp=fine)
    _activity(db, "2026-02-28T12:00:00", opp=None, account_id=1)  # on the account: not the deal
    at("2026-02-28T12:00:00")
    opportunities.edit_opportunity(db, quiet, name="Quiet deal")  # updated_at is not activity
    at("2026-03-01T12:00:00")
    report = stale_report(db)
    assert _stale(report) == [
        ("Forgotten", [NO_NEXT_STEP, NO_RECENT_ACTIVITY], 59),
        ("Quiet deal", [NO_RECENT_ACTIVITY], 24),
        ("Done only", [NO_NEXT_STEP], 9),
        ("Late", [PAST_CLOSE_DATE], 2),
    ]
    by_name = {d.name: d for d in report.deals}
    assert by_name["Done only"].last_activity == datetime(2026, 2, 20, 12, 0)
    assert by_name["Forgotten"].last_activity is None
    assert by_name["Quiet deal"].limit_days == 14
    assert (report.total.count, report.total.amount) == (4, D("750.00"))
    stricter = stale_report(db, days=14)
    assert ("Needs", [NO_RECENT_ACTIVITY], 19) in _stale(stricter)
    assert _stale(stale_report(db, owner="nobody")) == []
    with pytest.raises(ValidationError):
        stale_report(db, days=0)
