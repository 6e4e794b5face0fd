"""The pipeline report: open deals per stage, in pipeline order, with a total."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from crmcli.domain.records import record
from crmcli.domain.values import cents_to_money

_CENT = Decimal("0.01")


@record
class PipelineRow:
    """One stage (or the total): open deals, their amount, and amount × probability."""

    stage: str
    count: int
    amount: Decimal
    weighted: Decimal


@record
class PipelineReport:
    """Rows in pipeline order and a total row (weighted rounded once, from the exact sum)."""

    stages: list[PipelineRow]
    total: PipelineRow
    owner: str | None
    currency: str | None


def weighted_money(cents_times_percent: int) -> Decimal:
    """Σ cents × probability → currency units, rounded half-up to the cent."""
    return (Decimal(cents_times_percent) / 10000).quantize(_CENT, rounding=ROUND_HALF_UP)


def build_pipeline(
    rows: Sequence[tuple[str, int, int, int]], *, owner: str | None, currency: str | None
) -> PipelineReport:
    """The report of the per-stage rows (name, deals, Σ cents, Σ cents × probability), in
    pipeline order, and their total."""
    stages = [
        PipelineRow(name, count, cents_to_money(amount), weighted_money(weighted))
        for name, count, amount, weighted in rows
    ]
    total = PipelineRow(
        "Total",
        sum(r[1] for r in rows),
        cents_to_money(sum(r[2] for r in rows)),
        weighted_money(sum(r[3] for r in rows)),
    )
    return PipelineReport(stages, total, owner, currency)
