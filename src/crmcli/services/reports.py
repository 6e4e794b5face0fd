"""Report use cases: each reads its rows in one read transaction, then builds its report.

The SQL is `store/repos/reports.py` (`uow.reports`); the builders, pure, are `crmcli.reports`.
Imports nothing heavy: `pipeline report` and `forecast` run on the stdlib driver alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from crmcli import clock
from crmcli.domain.records import record
from crmcli.errors import ValidationError
from crmcli.i18n import _
from crmcli.reports import analytics, forecast, pipeline
from crmcli.reports.analytics import (
    ConversionReport,
    StaleDeal,
    StaleReport,
    VelocityReport,
    WinRateReport,
)
from crmcli.reports.forecast import ForecastReport
from crmcli.reports.pipeline import PipelineReport

if TYPE_CHECKING:
    from crmcli.reports.asof import AsOf, DealAt
    from crmcli.store.db import Database
    from crmcli.store.uow import UnitOfWork


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


def end_of_day(day: date) -> datetime:
    """The naive UTC moment the local `day` ends (the next local midnight); with a pinned
    clock (CRM_NOW) local time is the pinned UTC time, as for `clock.today()`. ValidationError
    for a day after today: its end has not happened."""
    today = clock.today()
    if day > today:
        raise ValidationError(
            _(
                "as-of: {day} is after today ({today}): only days that have begun can be rebuilt"
            ).format(day=day.isoformat(), today=today.isoformat())
        )
    following = datetime.combine(day + timedelta(days=1), datetime.min.time())
    if clock.is_pinned():
        return following
    return following.astimezone(UTC).replace(tzinfo=None)


MAX_TOUCHED = 2000
"""Up to this many deals changed since the day, a report as of it is the report now with
those deals' contributions swapped for their rebuilt ones; beyond, every deal is rebuilt."""


@record
class _Then:
    """The deals of an as-of report: rebuilt (all, or only those changed since, `now` holding
    those as they stand now), when the journal began, and how many are left out."""

    deals: list[DealAt]
    now: list[DealAt] | None
    began: datetime | None
    left_out: int


def _then(uow: UnitOfWork, until: datetime) -> _Then:
    from crmcli.reports import asof

    began = uow.asof.journal_began()
    changes = uow.asof.changes_since(until)
    ids = asof.touched(changes) if began is None or began <= until else None
    if ids is None or len(ids) > MAX_TOUCHED:
        rebuilt = asof.rebuild(uow.asof.deals(until), changes, until)
        return _Then(rebuilt.deals, None, began, rebuilt.left_out)
    rows = uow.asof.deals(until, ids) if ids else []
    rebuilt = asof.rebuild(rows, changes, until)
    return _Then(rebuilt.deals, asof.current(rows), began, rebuilt.left_out)


def pipeline_report_as_of(
    db: Database, *, as_of: date, owner: str | None = None
) -> AsOf[PipelineReport]:
    """The pipeline report as it stood at the end of the local day `as_of`, rebuilt from the
    stage history and the journal (docs/reports.md, "As of a date"); current stage names."""
    from crmcli.reports import asof

    until = end_of_day(as_of)
    with db.read() as uow:
        then = _then(uow, until)
        stages = [(s.id, s.name) for s in uow.stages.all()]
        base = None if then.now is None else uow.reports.pipeline_rows(owner=owner)
        currency = uow.settings.get("currency")
    rows: Sequence[tuple[str, int, int, int]] = asof.pipeline_rows(then.deals, stages, owner=owner)
    if base is not None and then.now is not None:
        rows = asof.adjusted(base, asof.pipeline_rows(then.now, stages, owner=owner), rows)
    report = pipeline.build_pipeline(rows, owner=owner, currency=currency)
    return asof.AsOf(report, as_of, asof.notes(as_of, until, then.began, then.left_out))


def forecast_report_as_of(
    db: Database,
    *,
    as_of: date,
    by: str = "month",
    months: int = 6,
    owner: str | None = None,
) -> AsOf[ForecastReport]:
    """The forecast as if today were `as_of`, from the deals as they stood at the end of that
    day (overdue relative to it; won: deals won on or before it)."""
    from crmcli.reports import asof

    forecast.check_forecast(by, months)
    until = end_of_day(as_of)
    starts = forecast.horizon(as_of, by, months)
    won_from, won_until = _midnight(starts[0]), _midnight(starts[-1])
    with db.read() as uow:
        then = _then(uow, until)
        if then.now is not None:
            base_open = uow.reports.forecast_open(
                by=by, today=as_of, horizon_end=starts[-1], owner=owner
            )
            base_won = uow.reports.forecast_won(by=by, start=won_from, end=won_until, owner=owner)
        currency = uow.settings.get("currency")

    def rows(deals: list[DealAt]) -> tuple[list[Any], list[Any]]:
        return asof.forecast_rows(
            deals,
            by=by,
            today=as_of,
            horizon_end=starts[-1],
            won_from=won_from,
            won_until=won_until,
            owner=owner,
        )

    open_rows, won_rows = rows(then.deals)
    if then.now is not None:
        open_now, won_now = rows(then.now)
        open_rows = asof.adjusted(base_open, open_now, open_rows)
        won_rows = asof.adjusted(base_won, won_now, won_rows)
    report = forecast.build_forecast(
        open_rows, won_rows, by=by, months=months, starts=starts, owner=owner, currency=currency
    )
    return asof.AsOf(report, as_of, asof.notes(as_of, until, then.began, then.left_out))


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
        kept = {stage.id for stage in stages}
        totals = {k: v for k, v in uow.reports.stay_totals().items() if k in kept}
        middles = {
            stage_id: uow.reports.stay_seconds(stage_id, **analytics.middle_of(count))
            for stage_id, (count, _) in totals.items()
        }
        won, cycle_seconds = uow.reports.sales_cycle_totals()
        cycle_middle = uow.reports.sales_cycle_seconds(**analytics.middle_of(won))
    return analytics.build_velocity(stages, totals, middles, (won, cycle_seconds, cycle_middle))


def stale_report(
    db: Database, *, days: int | None = None, owner: str | None = None, limit: int | None = None
) -> StaleReport:
    """Open deals with no pending activity, quiet for too long, or past their close date: the
    first `limit` of them (all by default), the total always of all, in one read."""
    with stale_listing(db, days=days, owner=owner, limit=limit) as (head, deals):
        return replace(head, deals=list(deals))


@contextmanager
def stale_listing(
    db: Database, *, days: int | None = None, owner: str | None = None, limit: int | None = None
) -> Iterator[tuple[StaleReport, Iterator[StaleDeal]]]:
    """`stale_report` for a list of any length: inside one read transaction, the report with
    its total (and no deals), and its deals one at a time as they are read."""
    analytics.check_stale_days(days)
    today = clock.today()
    now = clock.utcnow()
    with db.read() as uow:
        totals = uow.reports.stale_totals(now=now, today=today, days=days, owner=owner)
        head = analytics.build_stale([], days=days, owner=owner, today=today, totals=totals)
        rows = uow.reports.stale_rows(now=now, today=today, days=days, owner=owner, limit=limit)
        yield head, map(analytics.stale_deal, rows)
