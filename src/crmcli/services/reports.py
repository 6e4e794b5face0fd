"""Report use cases: each reads its rows in one read transaction, then builds its report.

The SQL is `store/repos/reports.py` (`uow.reports`); the builders, pure, are `crmcli.reports`.
Imports nothing heavy: `pipeline report` and `forecast` run on the stdlib driver alone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from crmcli import clock
from crmcli.reports import analytics, forecast, pipeline
from crmcli.reports.analytics import ConversionReport, StaleReport, VelocityReport, WinRateReport
from crmcli.reports.forecast import ForecastReport
from crmcli.reports.pipeline import PipelineReport

if TYPE_CHECKING:
    from crmcli.store.db import Database


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def pipeline_report(db: Database, *, owner: str | None = None) -> PipelineReport:
    """Count, amount and weighted amount of open deals per stage, plus a total."""
    with db.read() as uow:
        rows = uow.reports.pipeline_rows(owner=owner)
        currency = uow.settings.get("currency")
    return pipeline.build_pipeline(rows, owner=owner, currency=currency)


def forecast_report(
    db: Database, *, by: str = "month", months: int = 6, owner: str | None = None
) -> ForecastReport:
    """Open deals per period of the next `months` months, overdue, later, undated, and won."""
    forecast.check_forecast(by, months)
    today = clock.today()
    starts = forecast.horizon(today, by, months)
    with db.read() as uow:
        open_rows = uow.reports.forecast_open(
            by=by, today=today, horizon_end=starts[-1], owner=owner
        )
        won_rows = uow.reports.forecast_won(
            by=by, start=_midnight(starts[0]), end=_midnight(starts[-1]), owner=owner
        )
        currency = uow.settings.get("currency")
    return forecast.build_forecast(
        open_rows, won_rows, by=by, months=months, starts=starts, owner=owner, currency=currency
    )


def win_rate_report(db: Database, *, by: str = "owner", since: date | None = None) -> WinRateReport:
    """Won and lost deals (closed on or after `since`) per owner or lead source, and overall."""
    analytics.check_grouping(by)
    with db.read() as uow:
        rows = uow.reports.win_rate_rows(by=by, since=_midnight(since) if since else None)
    return analytics.build_win_rate(rows, by=by, since=since)


def conversion_report(db: Database) -> ConversionReport:
    """Leads per source: total, qualified (ever), disqualified, converted, conversion rate."""
    with db.read() as uow:
        rows = uow.reports.conversion_rows()
    return analytics.build_conversion(rows)


def velocity_report(db: Database) -> VelocityReport:
    """Average and median days per stage (completed stays), and the sales-cycle length."""
    with db.read() as uow:
        stages = uow.stages.all()
        # one pass of the window query over the history; counts, sums and medians from it
        durations = uow.reports.stage_stay_durations()
        cycle_totals = uow.reports.sales_cycle_totals()
        cycles = uow.reports.sales_cycle_durations()
    return analytics.build_velocity(stages, durations, cycle_totals, cycles)


def stale_report(db: Database, *, days: int | None = None, owner: str | None = None) -> StaleReport:
    """Open deals with no pending activity, quiet for too long, or past their close date."""
    analytics.check_stale_days(days)
    today = clock.today()
    with db.read() as uow:
        rows = uow.reports.stale_rows(now=clock.utcnow(), today=today, days=days, owner=owner)
    return analytics.build_stale(rows, days=days, owner=owner, today=today)
