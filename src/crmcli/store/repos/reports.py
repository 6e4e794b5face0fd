"""The SQL of the reports: every count and sum happens in the database.

Results are plain tuples (or, for stale deals, dicts) of integers and strings: money as integer
cents, weighted money as Σ cents × probability (divided and rounded once, by the report),
durations as whole seconds. What differs between SQLite and PostgreSQL goes through
`conn.dialect`. A grouped expression is computed in a subquery and grouped by its column, so
PostgreSQL never sees one bound parameter in both SELECT and GROUP BY.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from crmcli.domain.rules import DEFAULT_STALE_DAYS, NO_GROUP, SECONDS_PER_DAY
from crmcli.domain.values import normalise_name
from crmcli.store.ordering import limited
from crmcli.store.repos.base import PENDING_DEALS
from crmcli.store.schema import load_value
from crmcli.store.sql import Conn, Params, Row

# -- exact totals -------------------------------------------------------------------------------

_LOW_BITS = 0xFFFFFFFF


def total_sql(expr: str, *, split: bool = False) -> str:
    """SQL for the sum of an integer expression, 0 when there are no rows.

    With `split`, two columns: the sum of the high parts (`expr >> 32`) and of the low 32 bits
    (`expr & 0xFFFFFFFF`), each far from SQLite's 64-bit limit; `summed_rows` adds them up
    exactly in Python (x = (x >> 32) · 2³² + (x & 0xFFFFFFFF), negatives included).
    """
    if not split:
        return f"COALESCE(SUM({expr}), 0)"
    return f"COALESCE(SUM(({expr}) >> 32), 0), COALESCE(SUM(({expr}) & {_LOW_BITS}), 0)"


def is_integer_overflow(exc: BaseException) -> bool:
    """True for SQLite's "integer overflow" (a SUM past 2^63 - 1)."""
    return "integer overflow" in str(exc)


# -- pieces of SQL ------------------------------------------------------------------------------


def _owner_and(column: str, owner: str | None, params: dict[str, Any]) -> str:
    """` AND column = :owner` for the deals of `owner` (matched by key); "" for everyone."""
    if not owner:
        return ""
    params["owner"] = normalise_name(owner)
    return f" AND {column} = :owner"


def _first_spelling(table: str, key_column: str, shown_column: str, key: str) -> str:
    """SQL for the spelling of `key` on the oldest row of `table` that has it (NULL for NULL)."""
    return (
        f"(SELECT {table}.{shown_column} FROM {table} WHERE {table}.{key_column} = {key}"
        f" ORDER BY {table}.id LIMIT 1)"
    )


def _differs(a: str, b: str) -> str:
    """SQL: `a` and `b` differ, NULL being a value (IS DISTINCT FROM, on SQLite before 3.39)."""
    return f"COALESCE({a} <> {b}, {a} IS NOT NULL OR {b} IS NOT NULL)"


_IDLE_SINCE = "COALESCE(opportunity.last_activity_at, opportunity.created_at)"
"""When an open deal went quiet: migration 0010's `ix_opportunity_idle`, in the same words."""


def _named(group: Any) -> str:
    return NO_GROUP if group is None else str(group)


_STALE_KINDS = {"expected_close": "date", "last_activity": "ts", "since": "ts"}


class ReportQueries:
    """The aggregations the reports are built from, over one transaction's connection."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.dialect = conn.dialect

    def summed_rows(
        self, build: Callable[[bool], str], params: Params, *, totals: int
    ) -> list[Row]:
        """The rows of `build(False)`, whose last `totals` columns are `total_sql` sums.

        PostgreSQL sums BIGINT into NUMERIC and never overflows. SQLite's SUM stops at 2^63 - 1
        (93 deals at the largest amount make Σ amount × probability pass it): only then is the
        query run again as `build(True)`, sums split in two and joined here, so the usual case
        keeps its one fast pass over the covering index.
        """
        try:
            return self.conn.rows(build(False), params)
        except Exception as exc:
            if not self.dialect.sums_overflow or not is_integer_overflow(exc):
                raise
        joined: list[Row] = []
        for row in self.conn.rows(build(True), params):
            keep = len(row) - 2 * totals
            parts = row[keep:]
            sums = [int(parts[i]) * 2**32 + int(parts[i + 1]) for i in range(0, len(parts), 2)]
            joined.append((*row[:keep], *sums))
        return joined

    # -- pipeline and forecast ------------------------------------------------------------------

    def pipeline_rows(self, *, owner: str | None = None) -> list[tuple[str, int, int, int]]:
        """Per stage in order: (name, open deals, Σ amount cents, Σ amount cents × probability).

        Served by the covering index ix_opportunity_open_stage (status, stage_id, amount,
        probability): one index range per stage, no table rows read.
        """
        params: dict[str, Any] = {}
        owner_on = _owner_and("o.owner_key", owner, params)

        def sql(split: bool) -> str:
            return (
                f"SELECT s.name, COUNT(o.id), {total_sql('o.amount', split=split)},"
                f" {total_sql('o.amount * o.probability', split=split)}"
                " FROM stage AS s LEFT JOIN opportunity AS o"
                f" ON o.status = 'open' AND o.stage_id = s.id{owner_on}"
                " GROUP BY s.id, s.name, s.position ORDER BY s.position, s.id"
            )

        found = self.summed_rows(sql, params, totals=2)
        return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in found]

    def forecast_open(
        self, *, by: str, today: date, horizon_end: date, owner: str | None = None
    ) -> list[tuple[str, int, int, int]]:
        """Open deals per bucket: (bucket, count, Σ cents, Σ cents × probability).

        A bucket is "none" (no close date), "overdue" (close date before `today`), "later" (on
        or after `horizon_end`) or the period label of the close date (`by` month or quarter).
        Served by the covering index ix_opportunity_forecast (status, expected_close, amount,
        probability).
        """
        params: dict[str, Any] = {"today": today, "horizon_end": horizon_end}
        owner_and = _owner_and("owner_key", owner, params)
        period = self.dialect.period("expected_close", by)

        def sql(split: bool) -> str:
            return (
                f"SELECT bucket, COUNT(*), {total_sql('cents', split=split)},"
                f" {total_sql('cents * probability', split=split)}"
                " FROM (SELECT CASE WHEN expected_close IS NULL THEN 'none'"
                " WHEN expected_close < :today THEN 'overdue'"
                " WHEN expected_close >= :horizon_end THEN 'later'"
                f" ELSE {period} END AS bucket, amount AS cents, probability"
                f" FROM opportunity WHERE status = 'open'{owner_and}) AS open_deals"
                " GROUP BY bucket"
            )

        found = self.summed_rows(sql, params, totals=2)
        return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in found]

    def forecast_won(
        self, *, by: str, start: datetime, end: datetime, owner: str | None = None
    ) -> list[tuple[str, int, int]]:
        """Won deals closed in [start, end) per period: (period, count, Σ cents).

        A deal counts by its current status and `closed_at`: reopened and won again, it counts
        once, in the period of its last win; reopened and still open, it is not won. Served by
        the covering index ix_opportunity_closed (status, closed_at, amount, owner_key).
        """
        params: dict[str, Any] = {"start": start, "end": end}
        owner_and = _owner_and("owner_key", owner, params)
        period = self.dialect.period("closed_at", by)

        def sql(split: bool) -> str:
            return (
                f"SELECT period, COUNT(*), {total_sql('cents', split=split)}"
                f" FROM (SELECT {period} AS period, amount AS cents FROM opportunity"
                " WHERE status = 'won' AND closed_at >= :start AND closed_at < :end"
                f"{owner_and}) AS won_deals GROUP BY period"
            )

        found = self.summed_rows(sql, params, totals=1)
        return [(str(r[0]), int(r[1]), int(r[2])) for r in found]

    # -- win rate and lead conversion -----------------------------------------------------------

    def win_rate_rows(
        self, *, by: str, since: datetime | None = None
    ) -> list[tuple[str, int, int, int, int]]:
        """Closed deals per owner or lead source: (group, won, lost, won cents, lost cents).

        `by` is "owner" or "source". The group is the owner (matched by key, shown as first
        spelled) or the source of the deal's lead; deals without one are grouped as "(none)".
        With `since`, only deals closed then or later count. Groups come in key order.
        """
        if by == "source":
            table, key_column, shown_column = "lead", "source_key", "source"
            lead_join = " LEFT OUTER JOIN lead ON opportunity.lead_id = lead.id"
        else:  # the deal's own column, from the closed deals' covering index: no join
            table, key_column, shown_column = "opportunity", "owner_key", "owner"
            lead_join = ""
        params: dict[str, Any] = {}
        since_and = ""
        if since is not None:
            since_and = " AND opportunity.closed_at >= :since"
            params["since"] = since
        won = "opportunity.status = 'won'"
        closed_deals = (
            f"SELECT {table}.{key_column} AS group_key,"
            f" CASE WHEN {won} THEN 1 ELSE 0 END AS won,"
            f" CASE WHEN {won} THEN 0 ELSE 1 END AS lost,"
            f" CASE WHEN {won} THEN opportunity.amount ELSE 0 END AS won_cents,"
            f" CASE WHEN {won} THEN 0 ELSE opportunity.amount END AS lost_cents"
            f" FROM opportunity{lead_join}"
            f" WHERE opportunity.status IN ('won', 'lost'){since_and}"
        )
        group = _first_spelling(table, key_column, shown_column, "closed_deals.group_key")

        def sql(split: bool) -> str:
            return (
                f"SELECT {group}, SUM(closed_deals.won), SUM(closed_deals.lost),"
                f" {total_sql('closed_deals.won_cents', split=split)},"
                f" {total_sql('closed_deals.lost_cents', split=split)}"
                f" FROM ({closed_deals}) AS closed_deals GROUP BY closed_deals.group_key"
                f" ORDER BY {self.dialect.text_order('closed_deals.group_key')}"
            )

        found = self.summed_rows(sql, params, totals=2)
        return [(_named(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in found]

    def conversion_rows(self) -> list[tuple[str, int, int, int, int]]:
        """Leads per source: (source, total, qualified, disqualified, converted).

        Qualified counts leads whose status is qualified or converted (every converted lead was
        qualified first); disqualified counts disqualified leads and archived ones that carry a
        disqualification reason. Sources come in key order; leads without one are "(none)".
        """
        group = _first_spelling("lead", "source_key", "source", "leads.group_key")
        sql = (
            f"SELECT {group}, COUNT(*), SUM(leads.qualified), SUM(leads.disqualified),"
            " SUM(leads.converted)"
            " FROM (SELECT lead.source_key AS group_key,"
            " CASE WHEN lead.status IN ('qualified', 'converted') THEN 1 ELSE 0 END AS qualified,"
            " CASE WHEN lead.status = 'disqualified' THEN 1"
            " WHEN lead.status = 'archived' AND lead.disqualify_reason IS NOT NULL THEN 1"
            " ELSE 0 END AS disqualified,"
            " CASE WHEN lead.status = 'converted' THEN 1 ELSE 0 END AS converted"
            " FROM lead) AS leads"
            f" GROUP BY leads.group_key ORDER BY {self.dialect.text_order('leads.group_key')}"
        )
        return [
            (_named(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in self.conn.rows(sql)
        ]

    # -- velocity -------------------------------------------------------------------------------

    def stay_totals(self) -> dict[int, tuple[int, int]]:
        """Completed stays per stage id: (count, Σ seconds), from `stage_stay` (kept by the
        history's triggers, migration 0009); stages since removed included."""
        sql = "SELECT stage_id, COUNT(*), SUM(seconds) FROM stage_stay GROUP BY stage_id"
        return {int(r[0]): (int(r[1]), int(r[2])) for r in self.conn.rows(sql)}

    def stay_seconds(self, stage_id: int, *, offset: int, count: int) -> list[int]:
        """`count` of a stage's completed stays in seconds, shortest first, from the
        `offset`th (the middle ones, for a median: one index range, nothing sorted)."""
        sql = (
            "SELECT seconds FROM stage_stay WHERE stage_id = :stage"
            " ORDER BY seconds LIMIT :count OFFSET :offset"
        )
        params = {"stage": stage_id, "count": count, "offset": offset}
        return [int(r[0]) for r in self.conn.rows(sql, params)]

    def _cycles(self) -> str:
        """Seconds from creation to (last) win of every won deal, shortest first, as a
        subquery: in `ix_opportunity_cycle`'s own words and order, so that covering index is
        walked instead of each won deal's timestamps parsed."""
        seconds = self.dialect.seconds_between("created_at", "closed_at")
        return (
            f"SELECT {seconds} AS seconds FROM opportunity"
            f" WHERE status = 'won' AND closed_at IS NOT NULL ORDER BY {seconds}"
        )

    def sales_cycle_totals(self) -> tuple[int, int]:
        """Won deals: (count, Σ seconds from creation to win)."""
        sql = f"SELECT COUNT(*), COALESCE(SUM(cycles.seconds), 0) FROM ({self._cycles()}) AS cycles"
        count, total = self.conn.rows(sql)[0]
        return int(count), int(total)

    def sales_cycle_seconds(self, *, offset: int, count: int) -> list[int]:
        """`count` won deals' seconds from creation to win, shortest first, from the
        `offset`th (the middle ones, for a median)."""
        sql = f"SELECT cycles.seconds FROM ({self._cycles()}) AS cycles LIMIT :count OFFSET :offset"
        return [int(r[0]) for r in self.conn.rows(sql, {"count": count, "offset": offset})]

    # -- stale deals ----------------------------------------------------------------------------

    def stale_rows(
        self,
        *,
        now: datetime,
        today: date,
        days: int | None = None,
        owner: str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Open deals with no pending activity, no activity within their limit, or a past close
        date, longest idle first (the first `limit` of them), one at a time as they are read:
        a dict per deal (id, name, account, stage, owner, cents, expected_close,
        last_activity, since, has_pending, past_close, limit_days, idle_seconds, quiet; the
        flags 0 or 1).

        One query, walking `ix_opportunity_idle` (open deals, idle since their latest
        activity, `last_activity_at`, else their creation) and stopping after `limit` rows;
        the pending check (EXISTS an activity not done) is a look-up per deal walked. The
        limit in days is `days`, else the stage's expected days, else 14.
        """
        params: dict[str, Any] = {}
        stale = self._stale_sql(now, today, days, owner, params)
        order = limited("ORDER BY deals.since, deals.id", limit, params)
        names, rows = self.conn.stream(f"{stale} {order}", params)

        def loaded(values: Row) -> dict[str, Any]:
            row = dict(zip(names, values, strict=True))
            for column, kind in _STALE_KINDS.items():
                row[column] = load_value(kind, row[column])
            return row

        return map(loaded, rows)

    def stale_totals(
        self, *, now: datetime, today: date, days: int | None = None, owner: str | None = None
    ) -> tuple[int, int]:
        """How many deals `stale_rows` finds and their Σ amount in cents (all of them, whatever
        its `limit`), summed in the database.

        An open deal without a pending activity is always stale, so most are: the total is
        every open deal (the covering index of the pipeline) less the deals that are not
        stale, which all have a pending activity (found from the pending activities, few):
        two small reads instead of the stale query over every open deal."""
        params: dict[str, Any] = {}
        active = self._stale_sql(now, today, days, owner, params, active=True)
        owner_and = _owner_and("opportunity.owner_key", owner, params)

        def opened(split: bool) -> str:
            return (
                f"SELECT COUNT(*), {total_sql('opportunity.amount', split=split)}"
                f" FROM opportunity WHERE opportunity.status = 'open'{owner_and}"
            )

        def busy(split: bool) -> str:
            return f"SELECT COUNT(*), {total_sql('cents', split=split)} FROM ({active}) AS busy"

        ((count, cents),) = self.summed_rows(opened, params, totals=1)
        ((fresh, fresh_cents),) = self.summed_rows(busy, params, totals=1)
        return int(count) - int(fresh), int(cents) - int(fresh_cents)

    def _stale_sql(
        self,
        now: datetime,
        today: date,
        days: int | None,
        owner: str | None,
        params: dict[str, Any],
        *,
        active: bool = False,
    ) -> str:
        """The stale deals of `stale_rows`, unordered (its parameters put into `params`); with
        `active`, the open deals that are not stale instead (read from the pending
        activities: only a deal with one can be)."""
        params.update(now=now, today=today, no=False)
        owner_and = _owner_and("opportunity.owner_key", owner, params)
        if days is None:
            limit_days = f"COALESCE(stage.expected_days, {DEFAULT_STALE_DAYS})"
        else:
            limit_days = "CAST(:days AS BIGINT)"  # BIGINT: days × 86,400 must not overflow
            params["days"] = days
        deals = (
            "SELECT opportunity.id AS id, opportunity.name AS name, account.name AS account,"
            " stage.name AS stage, opportunity.owner AS owner, opportunity.amount AS cents,"
            " opportunity.expected_close AS expected_close,"
            " opportunity.last_activity_at AS last_activity,"
            f" {_IDLE_SINCE} AS since,"
            " CASE WHEN EXISTS (SELECT * FROM activity"
            " WHERE activity.opportunity_id = opportunity.id AND activity.done = :no)"
            " THEN 1 ELSE 0 END AS has_pending,"
            " CASE WHEN opportunity.expected_close IS NOT NULL"
            " AND opportunity.expected_close < :today THEN 1 ELSE 0 END AS past_close,"
            f" {limit_days} AS limit_days"
            f" FROM {PENDING_DEALS + ' CROSS JOIN ' if active else ''}opportunity"
            " LEFT OUTER JOIN stage ON opportunity.stage_id = stage.id"
            " JOIN account ON opportunity.account_id = account.id"
            f" WHERE opportunity.status = 'open'{owner_and}"
            f"{' AND opportunity.id = pending.id' if active else ''}"
        )
        idle = self.dialect.seconds_between("deals.since", ":now")
        quiet = f"{idle} > deals.limit_days * {SECONDS_PER_DAY}"
        stale = f"deals.has_pending = 0 OR {quiet} OR deals.past_close = 1"
        return (
            f"SELECT deals.*, {idle} AS idle_seconds,"
            f" CASE WHEN {quiet} THEN 1 ELSE 0 END AS quiet"
            f" FROM ({deals}) AS deals"
            f" WHERE {f'NOT ({stale})' if active else stale}"
        )
