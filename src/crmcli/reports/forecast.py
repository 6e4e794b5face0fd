"""The forecast: open deals by expected-close month or quarter, with what was won in each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from crmcli.domain.records import record
from crmcli.domain.values import cents_to_money
from crmcli.errors import ValidationError
from crmcli.i18n import _
from crmcli.reports.pipeline import weighted_money

PERIOD_KINDS = ("month", "quarter")
MAX_MONTHS = 120


@record
class ForecastRow:
    """One period (or the total): open deals closing in it, and the amount won in it."""

    period: str
    count: int
    amount: Decimal
    weighted: Decimal
    won: Decimal


@record
class ForecastBucket:
    """Open deals outside the periods: overdue, after the horizon, or without a close date."""

    count: int
    amount: Decimal
    weighted: Decimal


@record
class ForecastReport:
    """Every period of the horizon (empty ones too), the buckets around it, and a total.

    `total` counts every open deal (periods + overdue + later + no close date; weighted rounded
    once from the exact sum) and the amount won over the periods shown.
    """

    by: str
    months: int
    start: date
    end: date  # last day of the horizon (inclusive)
    periods: list[ForecastRow]
    overdue: ForecastBucket
    later: ForecastBucket
    no_close_date: ForecastBucket
    total: ForecastRow
    owner: str | None
    currency: str | None


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_label(day: date, by: str) -> str:
    """`YYYY-MM` or `YYYY-Qn` of a date."""
    if by == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def horizon(today: date, by: str, months: int) -> list[date]:
    """The first day of every period of the horizon, and the day after it ends (last item).

    The horizon starts on the first day of the current month (or quarter) and spans `months`
    months, rounded up to whole quarters with `by="quarter"`.
    """
    if by == "quarter":
        first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        step, count = 3, -(-months // 3)
    else:
        first, step, count = today.replace(day=1), 1, months
    return [_add_months(first, step * i) for i in range(count + 1)]


def _bucket(raw: tuple[int, int, int] | None) -> ForecastBucket:
    count, cents, weighted = raw or (0, 0, 0)
    return ForecastBucket(count, cents_to_money(cents), weighted_money(weighted))


def check_forecast(by: str, months: int) -> None:
    """ValidationError unless `by` is month or quarter and `months` is from 1 to MAX_MONTHS."""
    if by not in PERIOD_KINDS:
        raise ValidationError(_("by: must be month or quarter, not {value}").format(value=repr(by)))
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationError(_("months: must be from 1 to {largest}").format(largest=MAX_MONTHS))


def build_forecast(
    open_rows: Sequence[tuple[str, int, int, int]],
    won_rows: Sequence[tuple[str, int, int]],
    *,
    by: str,
    months: int,
    starts: Sequence[date],
    owner: str | None,
    currency: str | None,
) -> ForecastReport:
    """The forecast of the open deals per bucket (bucket, deals, Σ cents, Σ cents ×
    probability) and the won deals per period (period, deals, Σ cents) over the horizon
    `starts` (`horizon(today, by, months)`), every period listed, empty ones too."""
    buckets = {bucket: (count, cents, weighted) for bucket, count, cents, weighted in open_rows}
    won = {period: cents for period, _count, cents in won_rows}
    periods = []
    for start in starts[:-1]:
        label = period_label(start, by)
        count, cents, weighted = buckets.get(label, (0, 0, 0))
        periods.append(
            ForecastRow(
                label,
                count,
                cents_to_money(cents),
                weighted_money(weighted),
                cents_to_money(won.get(label, 0)),
            )
        )
    total = ForecastRow(
        "Total",
        sum(r[1] for r in open_rows),
        cents_to_money(sum(r[2] for r in open_rows)),
        weighted_money(sum(r[3] for r in open_rows)),
        cents_to_money(sum(won.values())),
    )
    return ForecastReport(
        by=by,
        months=months,
        start=starts[0],
        end=starts[-1] - timedelta(days=1),
        periods=periods,
        overdue=_bucket(buckets.get("overdue")),
        later=_bucket(buckets.get("later")),
        no_close_date=_bucket(buckets.get("none")),
        total=total,
        owner=owner,
        currency=currency,
    )
