"""The light read path: plain SQL text for the hot read commands, on either driver.

`lead list`, `pipeline report` and `forecast` run at every keystroke, so their queries are
written here as SQL text with `:name` parameters, which the stdlib `sqlite3` module and
SQLAlchemy's `text()` both accept. On a SQLite file `Database.reader()` runs them on the stdlib
driver, so these commands never import SQLAlchemy (about half a second of start-up on a small
machine); on a server the same text runs through SQLAlchemy. `Repo` uses the same functions,
so there is one query per report, not two.

This module imports nothing heavy: keep it that way (tests/test_startup.py checks).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from crmcli.domain.models import Lead, LeadStatus
from crmcli.domain.values import cents_to_money, normalise_name

Row = Sequence[Any]


class Reader(Protocol):
    """Runs one SQL text with `:name` parameters and returns its rows as tuples."""

    dialect: str

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """All rows of `sql`."""
        ...


class SqliteReader:
    """A `Reader` over a stdlib `sqlite3` connection inside a read transaction."""

    dialect = "sqlite"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """All rows of `sql`; dates and times sent in the text form SQLite stores them in."""
        bound = {k: sqlite_value(v) for k, v in (params or {}).items()}
        return list(self.conn.execute(sql, bound).fetchall())


class AlchemyReader:
    """A `Reader` over a SQLAlchemy connection (a server, or a `Repo` inside a write)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.dialect = str(conn.dialect.name)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """All rows of `sql`."""
        from sqlalchemy import text

        bound = dict(params or {})
        if self.dialect == "sqlite":
            bound = {k: sqlite_value(v) for k, v in bound.items()}
        return [tuple(r) for r in self.conn.execute(text(sql), bound)]


def sqlite_value(value: Any) -> Any:
    """A parameter in the text form SQLAlchemy stores dates and times in on SQLite."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


# -- exact totals ---------------------------------------------------------------------------

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
    """True for SQLite's "integer overflow" (a SUM past 2^63 - 1), from either driver."""
    return "integer overflow" in str(exc)


def summed_rows(
    reader: Reader,
    build: Callable[[bool], str],
    params: Mapping[str, Any],
    *,
    totals: int,
) -> list[Row]:
    """The rows of `build(False)`, whose last `totals` columns are `total_sql` sums.

    PostgreSQL sums BIGINT into NUMERIC and never overflows. SQLite's SUM stops at 2^63 - 1
    (93 deals at the largest amount make Σ amount × probability pass it): only then is the
    query run again as `build(True)`, sums split in two and joined here, so the usual case
    keeps its one fast pass over the covering index.
    """
    try:
        return reader.rows(build(False), params)
    except Exception as exc:
        if reader.dialect != "sqlite" or not is_integer_overflow(exc):
            raise
    joined: list[Row] = []
    for row in reader.rows(build(True), params):
        keep = len(row) - 2 * totals
        parts = row[keep:]
        sums = [int(parts[i]) * 2**32 + int(parts[i + 1]) for i in range(0, len(parts), 2)]
        joined.append((*row[:keep], *sums))
    return joined


# -- values as the drivers return them ------------------------------------------------------


def _money(cents: Any) -> Decimal | None:
    return None if cents is None else cents_to_money(int(cents))


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _extras(value: Any) -> dict[str, str]:
    if not value:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value or {})


# -- leads ----------------------------------------------------------------------------------

_LEAD_COLUMNS = (
    "id, name, status, email, phone, company, title, source, budget, timeline, owner, notes,"
    " extras, disqualify_reason, contact_id, account_id, opportunity_id, created_at, updated_at"
)


def lead_from_row(r: Row) -> Lead:
    """A `Lead` from a row selected with `_LEAD_COLUMNS`."""
    return Lead(
        id=r[0],
        name=r[1],
        status=LeadStatus(r[2]),
        email=r[3],
        phone=r[4],
        company=r[5],
        title=r[6],
        source=r[7],
        budget=_money(r[8]),
        timeline=_date(r[9]),
        owner=r[10],
        notes=r[11],
        extras=_extras(r[12]),
        disqualify_reason=r[13],
        contact_id=r[14],
        account_id=r[15],
        opportunity_id=r[16],
        created_at=_datetime(r[17]),
        updated_at=_datetime(r[18]),
    )


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards and the escape character made literal."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _in_list(prefix: str, values: Sequence[str], params: dict[str, Any]) -> str:
    names = []
    for i, value in enumerate(values):
        params[f"{prefix}{i}"] = value
        names.append(f":{prefix}{i}")
    return ", ".join(names)


def lead_list(
    reader: Reader,
    *,
    statuses: Sequence[str] | None = None,
    exclude_statuses: Sequence[str] = (),
    source: str | None = None,
    search: str | None = None,
    owner: str | None = None,
    limit: int | None = None,
) -> list[Lead]:
    """Leads matching every given filter, oldest first. Text filters match literally."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if statuses:
        where.append(f"status IN ({_in_list('st', statuses, params)})")
    if exclude_statuses:
        where.append(f"status NOT IN ({_in_list('xst', exclude_statuses, params)})")
    if source:
        where.append("source_key = :source")
        params["source"] = normalise_name(source)
    if owner:
        where.append("owner_key = :owner")
        params["owner"] = normalise_name(owner)
    if search:
        where.append("search_key LIKE :search ESCAPE '\\'")
        params["search"] = "%" + escape_like(normalise_name(search)) + "%"
    sql = f"SELECT {_LEAD_COLUMNS} FROM lead"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = int(limit)
    return [lead_from_row(r) for r in reader.rows(sql, params)]


# -- settings -------------------------------------------------------------------------------


def meta_get(reader: Reader, key: str) -> str | None:
    """A setting of this database (e.g. the currency)."""
    found = reader.rows("SELECT value FROM crm_meta WHERE key = :key", {"key": key})
    return str(found[0][0]) if found else None


# -- pipeline -------------------------------------------------------------------------------


def pipeline_rows(reader: Reader, *, owner: str | None = None) -> list[tuple[str, int, int, int]]:
    """Per stage in order: (name, open deals, Σ amount cents, Σ amount cents × probability).

    Served by the covering index ix_opportunity_open_stage (status, stage_id, amount,
    probability): one index range per stage, no table rows read.
    """
    params: dict[str, Any] = {}
    owner_on = ""
    if owner:
        owner_on = " AND o.owner_key = :owner"
        params["owner"] = normalise_name(owner)

    def sql(split: bool) -> str:
        return (
            f"SELECT s.name, COUNT(o.id), {total_sql('o.amount', split=split)},"
            f" {total_sql('o.amount * o.probability', split=split)}"
            " FROM stage AS s LEFT JOIN opportunity AS o"
            f" ON o.status = 'open' AND o.stage_id = s.id{owner_on}"
            " GROUP BY s.id, s.name, s.position ORDER BY s.position, s.id"
        )

    found = summed_rows(reader, sql, params, totals=2)
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in found]


# -- forecast -------------------------------------------------------------------------------


def period_sql(dialect: str, column: str, by: str) -> str:
    """SQL for the `YYYY-MM` (or `YYYY-Qn` when `by` is "quarter") of a date column."""
    if dialect == "sqlite":
        if by == "quarter":
            return (
                f"substr({column}, 1, 4) || '-Q' || "
                f"((CAST(substr({column}, 6, 2) AS INTEGER) + 2) / 3)"
            )
        return f"substr({column}, 1, 7)"
    if by == "quarter":
        return f"to_char({column}, 'YYYY-\"Q\"Q')"
    return f"to_char({column}, 'YYYY-MM')"


def forecast_open(
    reader: Reader,
    *,
    by: str,
    today: date,
    horizon_end: date,
    owner: str | None = None,
) -> list[tuple[str, int, int, int]]:
    """Open deals per bucket: (bucket, count, Σ cents, Σ cents × probability).

    A bucket is "none" (no close date), "overdue" (close date before `today`), "later" (on or
    after `horizon_end`) or the period label of the close date. Served by the covering index
    ix_opportunity_forecast (status, expected_close, amount, probability).
    """
    params: dict[str, Any] = {"today": today, "horizon_end": horizon_end}
    owner_and = ""
    if owner:
        owner_and = " AND owner_key = :owner"
        params["owner"] = normalise_name(owner)
    period = period_sql(reader.dialect, "expected_close", by)

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

    found = summed_rows(reader, sql, params, totals=2)
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in found]


def forecast_won(
    reader: Reader,
    *,
    by: str,
    start: datetime,
    end: datetime,
    owner: str | None = None,
) -> list[tuple[str, int, int]]:
    """Won deals closed in [start, end) per period: (period, count, Σ cents).

    A deal counts by its current status and `closed_at`: reopened and won again, it counts once,
    in the period of its last win; reopened and still open, it is not won.
    """
    params: dict[str, Any] = {"start": start, "end": end}
    owner_and = ""
    if owner:
        owner_and = " AND owner_key = :owner"
        params["owner"] = normalise_name(owner)
    period = period_sql(reader.dialect, "closed_at", by)

    def sql(split: bool) -> str:
        return (
            f"SELECT period, COUNT(*), {total_sql('cents', split=split)}"
            f" FROM (SELECT {period} AS period, amount AS cents FROM opportunity"
            " WHERE status = 'won' AND closed_at >= :start AND closed_at < :end"
            f"{owner_and}) AS won_deals GROUP BY period"
        )

    found = summed_rows(reader, sql, params, totals=1)
    return [(str(r[0]), int(r[1]), int(r[2])) for r in found]
