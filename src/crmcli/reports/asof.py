"""Reports as of a date: the deals as they stood at a moment, rebuilt from what is stored now.

Pure. The inputs are what `uow.asof` reads: every deal now with its last stage history row
before the moment, and the journal's changes of deals made since, newest first. Walking those
changes back gives each deal's values at the moment (see docs/reports.md, "As of a date"):

- a deal inserted since did not exist (one inserted in bulk neither);
- an update since is undone with its before-values (amount, probability, close date, owner…);
- a deal deleted since existed, with the row its delete recorded; the stage history rows
  deleted with it (or by an undo of a stage move) are put back the same way;
- a run of ids deleted in bulk (the undo of an import) has no values: those deals are counted
  as left out.

Stage and status come from the last history row before the moment (the recorded row when the
deal has none); the other figures from the walked-back row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from crmcli.domain.values import normalise_name
from crmcli.i18n import _, ngettext
from crmcli.reports.forecast import period_label

R = TypeVar("R")

_TRACKED = (
    "stage_id",
    "status",
    "amount",
    "probability",
    "expected_close",
    "owner_key",
    "created_at",
    "closed_at",
)
"""The columns of a deal the rebuild keeps (those the reports read)."""

Change = tuple[str, str, int, int, Mapping[str, Any] | None]
"""(entity, op, first id, last id, before-values or None), as `uow.asof.changes_since` gives."""


@dataclass(frozen=True)
class DealAt:
    """A deal as it stood at the moment: money in integer cents, `won_at` (UTC) when won."""

    id: int
    stage_id: int | None
    status: str
    cents: int
    probability: int
    expected_close: date | None
    owner_key: str | None
    won_at: datetime | None


@dataclass(frozen=True)
class Rebuilt:
    """The deals that existed at the moment, and how many more did whose values are lost."""

    deals: list[DealAt]
    left_out: int


@dataclass(frozen=True)
class AsOf(Generic[R]):
    """A report as of a day, with the stderr notes on what history could not tell."""

    report: R
    as_of: date
    notes: tuple[str, ...]


def _later(a: tuple[datetime, int], b: tuple[datetime, int] | None) -> bool:
    return b is None or a > b


def rebuild(
    deals: Iterable[Mapping[str, Any]], changes: Iterable[Change], until: datetime
) -> Rebuilt:
    """The deals as they stood just before `until` (naive UTC), from the deals now (with their
    last history row before `until`) and the journal's changes since `until`, newest first."""
    rows: dict[int, dict[str, Any]] = {}
    latest: dict[int, tuple[datetime, int, int | None, str]] = {}
    for deal in deals:
        deal_id = int(deal["id"])
        rows[deal_id] = {c: deal[c] for c in _TRACKED}
        if deal["h_at"] is not None:
            latest[deal_id] = (
                deal["h_at"],
                int(deal["h_id"]),
                deal["h_stage_id"],
                deal["h_status"],
            )
    lost: set[int] = set()
    for entity, op, first, last, before in changes:
        if entity == "history":
            # A history row deleted since (with its deal, or by an undo of a move) stood then.
            if op == "delete" and before is not None and before["at"] < until:
                deal_id = int(before["opportunity_id"])
                mark = (before["at"], first)
                seen = latest.get(deal_id)
                if _later(mark, None if seen is None else (seen[0], seen[1])):
                    latest[deal_id] = (before["at"], first, before["stage_id"], before["status"])
            continue
        if op == "insert":
            for deal_id in range(first, last + 1):
                rows.pop(deal_id, None)
                lost.discard(deal_id)
        elif op == "update" and before is not None:
            row = rows.get(first)
            if row is not None:
                row.update((c, v) for c, v in before.items() if c in row)
        elif op == "delete" and before is not None:
            rows[first] = {c: before.get(c) for c in _TRACKED}
        elif op == "delete":
            lost.update(i for i in range(first, last + 1) if i not in rows)
    found = []
    for deal_id, row in rows.items():
        created = row["created_at"]
        if created is None or created >= until:
            continue
        stage_id, status, won_at = row["stage_id"], row["status"], row["closed_at"]
        if deal_id in latest:
            won_at, _row_id, stage_id, status = latest[deal_id]
        found.append(
            DealAt(
                id=deal_id,
                stage_id=None if stage_id is None else int(stage_id),
                status=str(status),
                cents=int(row["amount"]),
                probability=int(row["probability"]),
                expected_close=row["expected_close"],
                owner_key=row["owner_key"],
                won_at=won_at if status == "won" else None,
            )
        )
    found.sort(key=lambda d: d.id)
    return Rebuilt(found, len(lost))


def touched(changes: Iterable[Change]) -> set[int]:
    """The deals the journal's changes touch (those whose rows now may differ from then)."""
    found: set[int] = set()
    for entity, _op, first, last, before in changes:
        if entity == "opportunity":
            found.update(range(first, last + 1))
        elif before is not None:
            found.add(int(before["opportunity_id"]))
    return found


def current(deals: Iterable[Mapping[str, Any]]) -> list[DealAt]:
    """Deals as they stand now (stage, status and close from their rows)."""
    return [
        DealAt(
            id=int(d["id"]),
            stage_id=d["stage_id"],
            status=str(d["status"]),
            cents=int(d["amount"]),
            probability=int(d["probability"]),
            expected_close=d["expected_close"],
            owner_key=d["owner_key"],
            won_at=d["closed_at"] if d["status"] == "won" else None,
        )
        for d in deals
    ]


def adjusted(
    base: Sequence[tuple[Any, ...]],
    minus: Sequence[tuple[Any, ...]],
    plus: Sequence[tuple[Any, ...]],
) -> list[tuple[Any, ...]]:
    """Rows keyed by their first item (a stage name, a bucket, a period) with integer sums:
    `base` (the report's rows now) less `minus` (what the touched deals add to it now) plus
    `plus` (what they added then), in `base`'s order, new keys after."""
    sums = {row[0]: list(row[1:]) for row in base}
    for rows, sign in ((minus, -1), (plus, 1)):
        for key, *values in rows:
            found = sums.setdefault(key, [0] * len(values))
            for index, value in enumerate(values):
                found[index] += sign * value
    return [(key, *values) for key, values in sums.items()]


def _of_owner(deals: Iterable[DealAt], owner: str | None) -> list[DealAt]:
    if not owner:
        return list(deals)
    key = normalise_name(owner)
    return [d for d in deals if d.owner_key == key]


def _three(sums: list[int]) -> tuple[int, int, int]:
    return sums[0], sums[1], sums[2]


def pipeline_rows(
    deals: Iterable[DealAt], stages: Sequence[tuple[int, str]], *, owner: str | None
) -> list[tuple[str, int, int, int]]:
    """Per stage (id, name) in the order given: (name, open deals, Σ cents, Σ cents ×
    probability), as `uow.reports.pipeline_rows` gives them for the deals now."""
    sums: dict[int | None, list[int]] = {stage_id: [0, 0, 0] for stage_id, _name in stages}
    for deal in _of_owner(deals, owner):
        found = sums.get(deal.stage_id) if deal.status == "open" else None
        if found is not None:
            found[0] += 1
            found[1] += deal.cents
            found[2] += deal.cents * deal.probability
    return [(name, *_three(sums[stage_id])) for stage_id, name in stages]


def forecast_rows(
    deals: Iterable[DealAt],
    *,
    by: str,
    today: date,
    horizon_end: date,
    won_from: datetime,
    won_until: datetime,
    owner: str | None,
) -> tuple[list[tuple[str, int, int, int]], list[tuple[str, int, int]]]:
    """The open deals per bucket and the won deals per period, as `uow.reports.forecast_open`
    and `forecast_won` give them for the deals now, with `today` the as-of day."""
    buckets: dict[str, list[int]] = {}
    won: dict[str, list[int]] = {}
    for deal in _of_owner(deals, owner):
        if deal.status == "open":
            close = deal.expected_close
            if close is None:
                bucket = "none"
            elif close < today:
                bucket = "overdue"
            elif close >= horizon_end:
                bucket = "later"
            else:
                bucket = period_label(close, by)
            sums = buckets.setdefault(bucket, [0, 0, 0])
            sums[0] += 1
            sums[1] += deal.cents
            sums[2] += deal.cents * deal.probability
        elif deal.won_at is not None and won_from <= deal.won_at < won_until:
            counted = won.setdefault(period_label(deal.won_at.date(), by), [0, 0])
            counted[0] += 1
            counted[1] += deal.cents
    return (
        [(bucket, *_three(s)) for bucket, s in buckets.items()],
        [(period, c[0], c[1]) for period, c in won.items()],
    )


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def notes(as_of: date, until: datetime, began: datetime | None, left_out: int) -> tuple[str, ...]:
    """What history cannot tell about `as_of` (ending at `until`, UTC), one line each: a day
    before the journal began (`began`), and deals whose values the journal does not hold."""
    found = []
    if began is not None and began > until:
        found.append(
            _(
                "as of {date}: before the journal began ({began}) only stages and statuses are"
                " exact (stage history); amounts, probabilities, close dates and owners are the"
                " oldest values the journal holds"
            ).format(date=as_of.isoformat(), began=_utc(began))
        )
    if left_out:
        found.append(
            ngettext(
                "as of {date}: {count} deal imported before then and removed since by an undo"
                " left out (the journal keeps only their ids)",
                "as of {date}: {count} deals imported before then and removed since by an undo"
                " left out (the journal keeps only their ids)",
                left_out,
            ).format(date=as_of.isoformat(), count=left_out)
        )
    return tuple(found)
