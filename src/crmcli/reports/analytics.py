"""How the pipeline performs: win rate, lead conversion, velocity and stale (forgotten) deals.

Counts, sums and the per-deal checks happen in SQL (`store/repos/reports.py`); the builders
here turn those rows of integer cents and seconds into exact `Decimal` money, rates and days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crmcli.domain.models import Stage
from crmcli.domain.records import record
from crmcli.domain.rules import MAX_STALE_DAYS, NO_GROUP, SECONDS_PER_DAY
from crmcli.domain.values import cents_to_money
from crmcli.errors import ValidationError
from crmcli.i18n import _

GROUPINGS = ("owner", "source")
_TENTH = Decimal("0.1")


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole in percent, rounded half-up to one decimal; None when whole is 0."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def days(seconds: int | Decimal) -> Decimal:
    """Seconds as days, rounded half-up to one decimal."""
    return (Decimal(seconds) / SECONDS_PER_DAY).quantize(_TENTH, rounding=ROUND_HALF_UP)


def _mean_days(total_seconds: int, count: int) -> Decimal | None:
    return days(Decimal(total_seconds) / count) if count else None


def middle_of(count: int) -> dict[str, int]:
    """Where the median of `count` sorted values lies: {offset, count} of the one (odd
    `count`) or two (even) middle values; none of none."""
    return {"offset": max(count - 1, 0) // 2, "count": 0 if not count else 2 - count % 2}


def _median_days(middle: Sequence[int]) -> Decimal | None:
    """The median, in days, from the middle values `middle_of` picked."""
    if not middle:
        return None
    return days(Decimal(sum(middle)) / len(middle))


def _group_order(name: str) -> tuple[bool, str]:
    return (name == NO_GROUP, name.casefold())


# -- win rate ------------------------------------------------------------------------------


@record
class WinRateRow:
    """Closed deals of one owner or source (or all): won/(won+lost) by count and by value."""

    group: str
    won: int
    lost: int
    won_amount: Decimal
    lost_amount: Decimal
    win_rate: Decimal | None  # percent of closed deals, one decimal; None when none closed
    value_win_rate: Decimal | None  # percent of the closed amount


@record
class WinRateReport:
    by: str
    since: date | None
    groups: list[WinRateRow]
    total: WinRateRow


def _win_row(group: str, won: int, lost: int, won_cents: int, lost_cents: int) -> WinRateRow:
    return WinRateRow(
        group,
        won,
        lost,
        cents_to_money(won_cents),
        cents_to_money(lost_cents),
        percent(won, won + lost),
        percent(won_cents, won_cents + lost_cents),
    )


def check_grouping(by: str) -> None:
    """ValidationError unless the win rate is grouped by owner or source."""
    if by not in GROUPINGS:
        raise ValidationError(_("by: must be owner or source, not {value}").format(value=repr(by)))


def build_win_rate(
    raw: Sequence[tuple[str, int, int, int, int]], *, by: str, since: date | None
) -> WinRateReport:
    """The win rate of the closed deals per group (group, won, lost, won cents, lost cents),
    groups by name ("(none)" last), and overall."""
    rows = sorted((_win_row(*r) for r in raw), key=lambda r: _group_order(r.group))
    total = _win_row(
        "Total",
        sum(r[1] for r in raw),
        sum(r[2] for r in raw),
        sum(r[3] for r in raw),
        sum(r[4] for r in raw),
    )
    return WinRateReport(by, since, rows, total)


# -- lead conversion -----------------------------------------------------------------------


@record
class ConversionRow:
    """Leads of one source (or all) and how far they got."""

    source: str
    leads: int
    qualified: int
    disqualified: int
    converted: int
    conversion_rate: Decimal | None  # converted / leads, percent with one decimal


@record
class ConversionReport:
    sources: list[ConversionRow]
    total: ConversionRow


def _conversion_row(
    source: str, leads: int, qualified: int, disqualified: int, converted: int
) -> ConversionRow:
    return ConversionRow(
        source, leads, qualified, disqualified, converted, percent(converted, leads)
    )


def build_conversion(raw: Sequence[tuple[str, int, int, int, int]]) -> ConversionReport:
    """Leads per source (source, leads, qualified, disqualified, converted) with their
    conversion rate, sources by name ("(none)" last), and overall."""
    rows = sorted((_conversion_row(*r) for r in raw), key=lambda r: _group_order(r.source))
    total = _conversion_row(
        "Total",
        sum(r[1] for r in raw),
        sum(r[2] for r in raw),
        sum(r[3] for r in raw),
        sum(r[4] for r in raw),
    )
    return ConversionReport(rows, total)


# -- velocity ------------------------------------------------------------------------------


@record
class VelocityRow:
    """Completed stays in one stage: how many, average and median days."""

    stage: str
    expected_days: int | None
    stays: int
    average_days: Decimal | None
    median_days: Decimal | None


@record
class SalesCycle:
    """Won deals: days from creation to (last) win."""

    won: int
    average_days: Decimal | None
    median_days: Decimal | None


@record
class VelocityReport:
    stages: list[VelocityRow]
    sales_cycle: SalesCycle


def build_velocity(
    stages: Sequence[Stage],
    totals: Mapping[int, tuple[int, int]],
    middles: Mapping[int, Sequence[int]],
    cycle: tuple[int, int, Sequence[int]],
) -> VelocityReport:
    """Average and median days per stage, in the order of `stages`, from each stage's
    completed stays (stage id: count, Σ seconds) and their middle values (`middle_of`); the
    sales cycle from (won deals, Σ seconds, the middle values)."""
    rows = []
    for stage in stages:
        count, total = totals.get(stage.id, (0, 0))
        rows.append(
            VelocityRow(
                stage.name,
                stage.expected_days,
                count,
                _mean_days(total, count),
                _median_days(middles.get(stage.id, ())),
            )
        )
    won, cycle_seconds, cycle_middle = cycle
    return VelocityReport(
        rows, SalesCycle(won, _mean_days(cycle_seconds, won), _median_days(cycle_middle))
    )


# -- stale deals ---------------------------------------------------------------------------

NO_NEXT_STEP = "no_next_step"
NO_RECENT_ACTIVITY = "no_recent_activity"
PAST_CLOSE_DATE = "past_close_date"


@record
class StaleDeal:
    """An open deal someone may have forgotten, and why."""

    id: int
    name: str
    account: str
    stage: str | None
    owner: str | None
    amount: Decimal
    expected_close: date | None
    last_activity: datetime | None  # latest done_at/created_at of its activities; None if none
    idle_days: int  # whole days since the last activity (or since creation, if none)
    limit_days: int  # --days, else the stage's expected days, else 14
    reasons: list[str]


@record
class StaleTotal:
    count: int
    amount: Decimal


@record
class StaleReport:
    deals: list[StaleDeal]
    total: StaleTotal
    days: int | None
    owner: str | None
    as_of: date


def check_stale_days(days: int | None) -> None:
    """ValidationError unless `days` is None or from 1 to MAX_STALE_DAYS."""
    if days is not None and not 1 <= days <= MAX_STALE_DAYS:
        raise ValidationError(
            _("days: must be from 1 to {largest}, not {value}").format(
                largest=MAX_STALE_DAYS, value=days
            )
        )


def build_stale(
    raw: Sequence[Mapping[str, Any]],
    *,
    days: int | None,
    owner: str | None,
    today: date,
    totals: tuple[int, int] | None = None,
) -> StaleReport:
    """The stale deals of the query's rows (longest idle first), each with its reasons; the
    total is of `raw`, or `totals` (count, Σ cents) when the rows are only the first ones."""
    deals = [stale_deal(r) for r in raw]
    count, cents = totals or (len(raw), sum(int(r["cents"]) for r in raw))
    total = StaleTotal(count, cents_to_money(cents))
    return StaleReport(deals, total, days, owner, today)


def stale_deal(r: Mapping[str, Any]) -> StaleDeal:
    """One stale deal of the query's rows, with its reasons."""
    reasons = [
        reason
        for reason, flag in (
            (NO_NEXT_STEP, not r["has_pending"]),
            (NO_RECENT_ACTIVITY, r["quiet"]),
            (PAST_CLOSE_DATE, r["past_close"]),
        )
        if flag
    ]
    return StaleDeal(
        id=int(r["id"]),
        name=str(r["name"]),
        account=str(r["account"]),
        stage=r["stage"],
        owner=r["owner"],
        amount=cents_to_money(int(r["cents"])),
        expected_close=r["expected_close"],
        last_activity=r["last_activity"],
        idle_days=max(int(r["idle_seconds"]), 0) // SECONDS_PER_DAY,
        limit_days=int(r["limit_days"]),
        reasons=reasons,
    )
