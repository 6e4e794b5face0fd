"""The SQL of the analytics reports: aggregation in the database (the forecast's, which runs
on the light read path, is in `sqlread`).

Every function takes a SQLAlchemy `Connection` (a `Repo`'s `conn`) and returns plain tuples of
integers and strings: money as integer cents, weighted money as Σ cents × probability (divided
and rounded once, by the caller), durations as whole seconds. Expressions that differ between
SQLite and PostgreSQL (seconds between two timestamps) are chosen here by
`conn.dialect.name`. Grouped expressions are computed in a subquery and grouped by its column,
so PostgreSQL never sees two copies of a bound parameter in SELECT and GROUP BY.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    DateTime,
    Table,
    and_,
    case,
    cast,
    exists,
    extract,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
)

from crmcli.domain.values import normalise_name
from crmcli.store.repo import ACCOUNTS, HISTORY, LEADS, OPPS, STAGES, text_order
from crmcli.store.sqlread import is_integer_overflow
from crmcli.store.tables import ActivityRow

ACTIVITIES: Table = ActivityRow.__table__  # type: ignore[attr-defined]

DEFAULT_STALE_DAYS = 14
NO_GROUP = "(none)"
SECONDS_PER_DAY = 86_400

# -- dialect-specific expressions ----------------------------------------------------------


def seconds_between(conn: Connection, start: Any, end: Any) -> ColumnElement[int]:
    """Whole seconds from `start` to `end` (two timestamps)."""
    if conn.dialect.name == "sqlite":
        return cast(func.strftime("%s", end), BigInteger) - cast(
            func.strftime("%s", start), BigInteger
        )
    return cast(extract("epoch", end - start), BigInteger)


def _cents() -> ColumnElement[int]:
    return type_coerce(OPPS.c.amount, BigInteger)  # raw cents, no Decimal conversion


def _first_spelling(table: Table, key_column: str, shown_column: str, key: Any) -> Any:
    """The spelling of `key` on the oldest row of `table` that has it (NULL for a NULL key)."""
    return (
        select(table.c[shown_column])
        .where(table.c[key_column] == key)
        .order_by(table.c.id)
        .limit(1)
        .scalar_subquery()
    )


def _owner_filter(owner: str | None) -> list[ColumnElement[bool]]:
    return [OPPS.c.owner_key == normalise_name(owner)] if owner else []


# -- forecast ------------------------------------------------------------------------------


# -- win rate ------------------------------------------------------------------------------


def win_rate_rows(
    conn: Connection, *, by: str, since: datetime | None = None
) -> list[tuple[str, int, int, int, int]]:
    """Closed deals per owner or lead source: (group, won, lost, won cents, lost cents).

    The group is the owner (matched by key, shown as first spelled) or the source of the deal's
    lead; deals without one are grouped as "(none)".
    """
    if by == "source":
        key: Any = LEADS.c.source_key
        table, key_column, shown_column = LEADS, "source_key", "source"
    else:
        key = OPPS.c.owner_key
        table, key_column, shown_column = OPPS, "owner_key", "owner"
    won = OPPS.c.status == "won"
    conditions: list[ColumnElement[bool]] = [OPPS.c.status.in_(("won", "lost"))]
    if since is not None:
        conditions.append(OPPS.c.closed_at >= since)
    inner = (
        select(
            key.label("key"),
            case((won, 1), else_=0).label("won"),
            case((won, 0), else_=1).label("lost"),
            case((won, _cents()), else_=0).label("won_cents"),
            case((won, 0), else_=_cents()).label("lost_cents"),
        )
        .select_from(OPPS.outerjoin(LEADS, OPPS.c.lead_id == LEADS.c.id))
        .where(*conditions)
        .subquery("closed_deals")
    )

    def query(split: bool) -> Any:
        sums = (inner.c.won_cents, inner.c.lost_cents)
        return (
            select(
                _first_spelling(table, key_column, shown_column, inner.c.key),
                func.sum(inner.c.won),
                func.sum(inner.c.lost),
                *(part for column in sums for part in _total(column, split=split)),
            )
            .group_by(inner.c.key)
            .order_by(text_order(conn, inner.c.key))
        )

    return [
        (str(r[0]) if r[0] is not None else NO_GROUP, int(r[1]), int(r[2]), int(r[3]), int(r[4]))
        for r in _summed(conn, query, totals=2)
    ]


def _total(column: Any, *, split: bool) -> list[Any]:
    """`sqlread.total_sql` as SQLAlchemy expressions: one sum, or its high and low parts."""
    if not split:
        return [func.sum(column)]
    return [func.sum(column.op(">>")(32)), func.sum(column.op("&")(0xFFFFFFFF))]


def _summed(conn: Connection, query: Any, *, totals: int) -> list[tuple[Any, ...]]:
    """The rows of `query(False)`, whose last `totals` columns are `_total` sums; on SQLite's
    "integer overflow" (a sum past 2^63 - 1), the rows of `query(True)` with each pair of
    parts joined exactly (see `sqlread.summed_rows`, the same for the light read path)."""
    from sqlalchemy.exc import OperationalError

    try:
        return [tuple(r) for r in conn.execute(query(False))]
    except OperationalError as exc:
        if conn.dialect.name != "sqlite" or not is_integer_overflow(exc):
            raise
    joined: list[tuple[Any, ...]] = []
    for row in conn.execute(query(True)):
        keep = len(row) - 2 * totals
        parts = [int(p or 0) for p in row[keep:]]
        sums = [parts[i] * 2**32 + parts[i + 1] for i in range(0, len(parts), 2)]
        joined.append((*row[:keep], *sums))
    return joined


# -- lead conversion -----------------------------------------------------------------------


def conversion_rows(conn: Connection) -> list[tuple[str, int, int, int, int]]:
    """Leads per source: (source, total, qualified, disqualified, converted).

    Qualified counts leads whose status is qualified or converted (every converted lead was
    qualified first); disqualified counts disqualified leads and archived ones that carry a
    disqualification reason.
    """
    status = LEADS.c.status
    inner = select(
        LEADS.c.source_key.label("key"),
        case((status.in_(("qualified", "converted")), 1), else_=0).label("qualified"),
        case(
            (status == "disqualified", 1),
            (and_(status == "archived", LEADS.c.disqualify_reason.is_not(None)), 1),
            else_=0,
        ).label("disqualified"),
        case((status == "converted", 1), else_=0).label("converted"),
    ).subquery("leads")
    query = (
        select(
            _first_spelling(LEADS, "source_key", "source", inner.c.key),
            func.count(),
            func.sum(inner.c.qualified),
            func.sum(inner.c.disqualified),
            func.sum(inner.c.converted),
        )
        .group_by(inner.c.key)
        .order_by(text_order(conn, inner.c.key))
    )
    return [
        (str(r[0]) if r[0] is not None else NO_GROUP, int(r[1]), int(r[2]), int(r[3]), int(r[4]))
        for r in conn.execute(query)
    ]


# -- velocity ------------------------------------------------------------------------------


def _stays(conn: Connection) -> Any:
    """Completed stays of open deals in a stage: (stage_id, seconds), as a subquery.

    History rows are collapsed to change points (the stage or the status differs from the
    deal's previous row; a hand-set probability is not a change). A stay starts at an open
    change point and ends at the deal's next change point (a move, a win or a loss). The
    current stay of an open deal has no end yet and is left out; so are stays in stages that
    were removed since.
    """
    order = (HISTORY.c.at, HISTORY.c.id)
    part = HISTORY.c.opportunity_id
    rows = select(
        HISTORY.c.opportunity_id,
        HISTORY.c.stage_id,
        HISTORY.c.stage_name,
        HISTORY.c.status,
        HISTORY.c.at,
        HISTORY.c.id,
        func.lag(HISTORY.c.stage_id).over(partition_by=part, order_by=order).label("prev_stage"),
        func.lag(HISTORY.c.stage_name).over(partition_by=part, order_by=order).label("prev_name"),
        func.lag(HISTORY.c.status).over(partition_by=part, order_by=order).label("prev_status"),
    ).subquery("h")
    changed = or_(
        rows.c.prev_status.is_(None),
        rows.c.prev_status != rows.c.status,
        rows.c.prev_stage.is_distinct_from(rows.c.stage_id),
        and_(rows.c.stage_id.is_(None), rows.c.prev_name.is_distinct_from(rows.c.stage_name)),
    )
    points = (
        select(
            rows.c.stage_id,
            rows.c.status,
            rows.c.at,
            func.lead(rows.c.at)
            .over(partition_by=rows.c.opportunity_id, order_by=(rows.c.at, rows.c.id))
            .label("next_at"),
        )
        .where(changed)
        .subquery("points")
    )
    return (
        select(
            points.c.stage_id.label("stage_id"),
            seconds_between(conn, points.c.at, points.c.next_at).label("seconds"),
        )
        .where(
            points.c.status == "open",
            points.c.next_at.is_not(None),
            points.c.stage_id.is_not(None),
        )
        .subquery("stays")
    )


def stage_stay_durations(conn: Connection) -> list[tuple[int, int]]:
    """Every completed stay in a stage that still exists: (stage_id, seconds), unordered."""
    stays = _stays(conn)
    query = select(stays.c.stage_id, stays.c.seconds)
    return [(int(r[0]), int(r[1])) for r in conn.execute(query)]


def _cycle(conn: Connection) -> Any:
    return (
        select(seconds_between(conn, OPPS.c.created_at, OPPS.c.closed_at).label("seconds"))
        .where(OPPS.c.status == "won", OPPS.c.closed_at.is_not(None))
        .subquery("cycles")
    )


def sales_cycle_totals(conn: Connection) -> tuple[int, int]:
    """Won deals: (count, Σ seconds from creation to win)."""
    cycles = _cycle(conn)
    row = conn.execute(select(func.count(), func.coalesce(func.sum(cycles.c.seconds), 0))).one()
    return int(row[0]), int(row[1])


def sales_cycle_durations(conn: Connection) -> list[int]:
    """Seconds from creation to win of every won deal, shortest first (for the median)."""
    cycles = _cycle(conn)
    return [int(r[0]) for r in conn.execute(select(cycles.c.seconds).order_by(cycles.c.seconds))]


# -- stale deals ---------------------------------------------------------------------------


def stale_rows(
    conn: Connection,
    *,
    now: datetime,
    today: date,
    days: int | None = None,
    owner: str | None = None,
) -> list[dict[str, Any]]:
    """Open deals with no pending activity, no activity within their limit, or a past close date.

    One query: the latest activity (MAX of done_at, else created_at, over the deal's activities)
    and the pending check (EXISTS an activity not done) are correlated subqueries. A deal with
    no activity at all is idle since its creation. The limit in days is `days`, else the stage's
    expected days, else 14.
    """
    act = ACTIVITIES
    linked = act.c.opportunity_id == OPPS.c.id
    last_activity = (
        select(func.max(func.coalesce(act.c.done_at, act.c.created_at)))
        .where(linked)
        .scalar_subquery()
    )
    pending = exists().where(linked, act.c.done == false())
    limit_days: Any = (
        literal(days, BigInteger)  # BIGINT: days × 86,400 must not overflow INTEGER
        if days is not None
        else func.coalesce(STAGES.c.expected_days, DEFAULT_STALE_DAYS)
    )
    inner = (
        select(
            OPPS.c.id,
            OPPS.c.name,
            ACCOUNTS.c.name.label("account"),
            STAGES.c.name.label("stage"),
            OPPS.c.owner,
            _cents().label("cents"),
            OPPS.c.expected_close,
            type_coerce(last_activity, DateTime).label("last_activity"),
            type_coerce(func.coalesce(last_activity, OPPS.c.created_at), DateTime).label("since"),
            case((pending, 1), else_=0).label("has_pending"),
            case(
                (and_(OPPS.c.expected_close.is_not(None), OPPS.c.expected_close < today), 1),
                else_=0,
            ).label("past_close"),
            limit_days.label("limit_days"),
        )
        .select_from(
            OPPS.outerjoin(STAGES, OPPS.c.stage_id == STAGES.c.id).join(
                ACCOUNTS, OPPS.c.account_id == ACCOUNTS.c.id
            )
        )
        .where(OPPS.c.status == "open", *_owner_filter(owner))
        .subquery("deals")
    )
    idle = seconds_between(conn, inner.c.since, literal(now, DateTime)).label("idle_seconds")
    quiet = idle > inner.c.limit_days * SECONDS_PER_DAY
    query = (
        select(inner, idle, case((quiet, 1), else_=0).label("quiet"))
        .where(or_(inner.c.has_pending == 0, quiet, inner.c.past_close == 1))
        .order_by(idle.desc(), inner.c.id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]
