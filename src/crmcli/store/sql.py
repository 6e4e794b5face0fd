"""The one door to SQL: a connection adapter per driver, and the dialect differences in one object.

Every query of crmcli is SQL text with `:name` parameters, written once in the repository that
owns it. `SqliteConn` runs it on the standard library's `sqlite3` (every command on a SQLite
file: nothing heavy is imported); `PsycopgConn` runs the same text on a PostgreSQL server
through psycopg 3 itself (`:name` becomes psycopg's `%(name)s`, as SQLAlchemy's `text()` made
it). What differs between the two backends is said once, in a `Dialect` (`SQLITE`,
`POSTGRESQL`), never by `if dialect == …` in the repositories.

Values cross this boundary in their storage forms (`schema.to_row` / `schema.from_row`):
money as integer cents, dates and timestamps as the text SQLite stores (on SQLite), JSON as
text. This module imports nothing heavy: keep it that way (tests/test_startup.py checks).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import field
from datetime import date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from crmcli.domain.records import record
from crmcli.errors import StorageError
from crmcli.i18n import _

Row = tuple[Any, ...]
Params = Mapping[str, Any]

MAX_ID_64 = 2**63 - 1


@record
class Dialect:
    """What differs between the SQL of two backends, in one place."""

    name: str
    words: Mapping[str, str]
    """Placeholders of the migrations' DDL: `pk` (an id column), `ts` (a timestamp type)."""
    max_id: int
    """The largest id a row can have (PostgreSQL's INTEGER ids stop at 2**31 - 1)."""
    serial_writers: bool = False
    """Writers take turns on the whole database (SQLite's BEGIN IMMEDIATE): a look-up before
    an insert is exact, and no row needs a lock of its own."""
    dates_as_text: bool = False
    """Dates and timestamps are stored as text (`TS_FORMAT`, ISO dates), not native types."""
    sums_overflow: bool = False
    """SUM of integers fails past 2^63 - 1 (SQLite); a server sums BIGINT into NUMERIC."""
    import_turn: str | None = None
    """The statement that makes imports take turns (None where writers already do)."""
    migration_turn: str | None = None
    """The statement that makes schema upgrades take turns (None where writers already do)."""
    reset_ids: str | None = None
    """The statement that makes a table's (`{table}`) new rows get ids above its largest one,
    after rows were inserted with their own ids (None where the backend keeps it so itself)."""
    pg_arrays: Mapping[str, str] = field(default_factory=dict)

    def for_update(self, table: str) -> str:
        """Appended to a SELECT that takes the row locks of `table`'s rows it reads."""
        return "" if self.serial_writers else f" FOR UPDATE OF {table}"

    def for_key_share(self, table: str) -> str:
        """The weakest row lock (a deal moving into a stage holds its stage this way)."""
        return "" if self.serial_writers else f" FOR KEY SHARE OF {table}"

    def text_order(self, column: str) -> str:
        """ORDER BY a text column as SQLite does on every backend: by code point, NULL first."""
        if self.name == "postgresql":
            return f'{column} COLLATE "C" NULLS FIRST'
        return column

    def collated(self, expr: str) -> str:
        """A text expression compared by code point on every backend (SQLite's own order),
        for ORDER BY; NULLs are the caller's (`store.ordering`)."""
        if self.name == "postgresql":
            return f'{expr} COLLATE "C"'
        return expr

    def key_part(self, column: str, number: int) -> str:
        """The `number`th (from 1) of the parts of a text column joined by U+001F (a lead's
        `search_key`: name, e-mail and company keys)."""
        if self.name == "postgresql":
            return f"split_part({column}, chr(31), {int(number)})"
        rest = column
        for _skipped in range(int(number) - 1):
            rest = f"substr({rest}, instr({rest}, char(31)) + 1)"
        return f"substr({rest}, 1, instr({rest} || char(31), char(31)) - 1)"

    def contains(self, column: str, param: str) -> str:
        """True where the text of `column` contains the parameter `param` (exactly; no LIKE
        wildcards to escape)."""
        if self.name == "postgresql":
            return f"strpos({column}, :{param}) > 0"
        return f"instr({column}, :{param}) > 0"

    def in_ids(self, column: str, param: str) -> str:
        """`column` is one of the ids the parameter `param` holds (`ids_value`): one parameter
        for thousands of ids, not a placeholder each."""
        if self.name == "postgresql":
            return f"{column} = ANY(CAST(:{param} AS integer[]))"
        return f"{column} IN (SELECT value FROM json_each(:{param}))"

    def ids_value(self, ids: Iterable[int]) -> Any:
        """The parameter of `in_ids`: a list (PostgreSQL's array), JSON text on SQLite."""
        listed = [int(i) for i in ids]
        return listed if self.name == "postgresql" else json.dumps(listed)

    def seconds_between(self, start: str, end: str) -> str:
        """Whole seconds from the timestamp `start` to the timestamp `end`."""
        if self.name == "sqlite":
            return (
                f"(CAST(strftime('%s', {end}) AS BIGINT) - CAST(strftime('%s', {start}) AS BIGINT))"
            )
        return f"CAST(EXTRACT(EPOCH FROM ({end}) - ({start})) AS BIGINT)"

    def period(self, column: str, by: str) -> str:
        """The `YYYY-MM` (or `YYYY-Qn` when `by` is "quarter") of a date or timestamp column."""
        if self.name == "sqlite":
            if by == "quarter":
                return (
                    f"substr({column}, 1, 4) || '-Q' || "
                    f"((CAST(substr({column}, 6, 2) AS INTEGER) + 2) / 3)"
                )
            return f"substr({column}, 1, 7)"
        if by == "quarter":
            return f"to_char({column}, 'YYYY-\"Q\"Q')"
        return f"to_char({column}, 'YYYY-MM')"

    def bind(self, value: Any) -> Any:
        """A parameter as this driver takes it (dates and times as SQLite's text on SQLite)."""
        if self.dates_as_text:
            if isinstance(value, datetime):
                return value.strftime(TS_FORMAT)
            if isinstance(value, date):
                return value.isoformat()
        return value


TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
"""How a timestamp is stored on SQLite (the form every crmcli file has always used)."""

SQLITE = Dialect(
    name="sqlite",
    words={"pk": "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT", "ts": "DATETIME"},
    max_id=MAX_ID_64,
    serial_writers=True,
    dates_as_text=True,
    sums_overflow=True,
)
POSTGRESQL = Dialect(
    name="postgresql",
    words={"pk": "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "ts": "TIMESTAMP"},
    max_id=2**31 - 1,
    import_turn="SELECT pg_advisory_xact_lock(109343113047408)",  # 0x63726D696D70 "crmimp"
    migration_turn="SELECT pg_advisory_xact_lock(109343112653929)",  # 0x63726D636C69 "crmcli"
    reset_ids=(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        "COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
    ),
    pg_arrays={
        "id": "integer[]",
        "int": "integer[]",
        "money": "bigint[]",
        "bigint": "bigint[]",
        "bool": "boolean[]",
        "ts": "timestamp[]",
        "date": "date[]",
        "json": "json[]",
        "text": "text[]",
    },
)


class IntegrityProblem(Exception):
    """A constraint refused a write (unique key, foreign key, check); `unique` says which kind."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.unique = "unique" in message.lower() or "duplicate key" in message.lower()


def _is_integrity_error(exc: BaseException) -> bool:
    """A constraint's refusal: psycopg's IntegrityError or one of its kinds (UniqueViolation…)."""
    return any(kind.__name__ == "IntegrityError" for kind in type(exc).__mro__)


def _driver_message(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    return str(inner).strip().splitlines()[0] if str(inner).strip() else type(inner).__name__


class Conn:
    """One transaction's connection: SQL text with `:name` parameters, rows as tuples or dicts."""

    dialect: Dialect

    def _execute(self, sql: str, params: Params | None) -> Any:
        """The driver's result of `sql` (iterable rows, `rowcount`); IntegrityProblem when a
        constraint refuses it."""
        raise NotImplementedError

    def _names(self, result: Any) -> list[str]:
        """The column names of a result of `_execute`."""
        raise NotImplementedError

    def rows(self, sql: str, params: Params | None = None) -> list[Row]:
        """Every row of `sql`, as tuples."""
        return [tuple(r) for r in self._execute(sql, params)]

    def maps(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Every row of `sql`, as dicts by column name."""
        result = self._execute(sql, params)
        names = self._names(result)
        return [dict(zip(names, row, strict=True)) for row in result]

    def result(self, sql: str, params: Params | None = None) -> tuple[tuple[str, ...], list[Row]]:
        """The column names of `sql` and its rows as tuples."""
        result = self._execute(sql, params)
        return tuple(self._names(result)), [tuple(r) for r in result]

    def stream(
        self, sql: str, params: Params | None = None
    ) -> tuple[tuple[str, ...], Iterator[Row]]:
        """The column names of `sql` and its rows as the driver reads them (SQLite: a page at
        a time), for lists too long to hold in memory; read them to the end before the next
        statement."""
        result = self._execute(sql, params)
        return tuple(self._names(result)), (tuple(r) for r in result)

    def one(self, sql: str, params: Params | None = None) -> dict[str, Any] | None:
        """The first row of `sql` as a dict, None when there is none."""
        found = self.maps(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Params | None = None) -> Any:
        """The first column of the first row of `sql` (None when there is no row)."""
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def run(self, sql: str, params: Params | None = None) -> int:
        """Execute a statement; how many rows it changed."""
        return int(self._execute(sql, params).rowcount)

    def insert(self, sql: str, params: Params) -> int:
        """Execute an INSERT of one row; the id of the new row."""
        raise NotImplementedError

    def insert_many(
        self,
        table: str,
        kinds: Mapping[str, str],
        rows: Sequence[Mapping[str, Any]],
        returning: Sequence[str] = (),
        *,
        unique: str | None = None,
    ) -> list[Row]:
        """Insert many rows (the same columns each, already in storage form) in one go; the
        `returning` columns of the rows stored, in no particular order. With `unique` (a
        unique column the caller checked), a row another writer stored meanwhile is left out
        (ON CONFLICT DO NOTHING) instead of failing the transaction."""
        if not rows:
            return []
        return self._insert_many(table, kinds, list(rows[0]), rows, returning, unique)

    def _insert_many(
        self,
        table: str,
        kinds: Mapping[str, str],
        columns: list[str],
        rows: Sequence[Mapping[str, Any]],
        returning: Sequence[str],
        unique: str | None,
    ) -> list[Row]:
        """`insert_many` of at least one row, the way this driver sends many rows."""
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError


class SqliteConn(Conn):
    """A `Conn` over a stdlib `sqlite3` connection (isolation_level=None: we say BEGIN)."""

    dialect = SQLITE

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def _bound(self, params: Params | None) -> dict[str, Any]:
        bind = self.dialect.bind
        return {k: bind(v) for k, v in (params or {}).items()}

    def _execute(self, sql: str, params: Params | None) -> sqlite3.Cursor:
        try:
            return self.raw.execute(sql, self._bound(params))
        except sqlite3.IntegrityError as exc:
            raise IntegrityProblem(str(exc)) from None

    def _names(self, result: Any) -> list[str]:
        return [d[0] for d in result.description]

    def result(self, sql: str, params: Params | None = None) -> tuple[tuple[str, ...], list[Row]]:
        cursor = self._execute(sql, params)
        return tuple(d[0] for d in cursor.description), cursor.fetchall()

    def rows(self, sql: str, params: Params | None = None) -> list[Row]:
        return self._execute(sql, params).fetchall()  # sqlite3's rows are tuples already

    def insert(self, sql: str, params: Params) -> int:
        cursor = self._execute(sql, params)
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """The driver's executemany with `?` placeholders (the bulk paths)."""
        try:
            self.raw.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise IntegrityProblem(str(exc)) from None

    def _insert_many(
        self,
        table: str,
        kinds: Mapping[str, str],
        columns: list[str],
        rows: Sequence[Mapping[str, Any]],
        returning: Sequence[str],
        unique: str | None,
    ) -> list[Row]:
        # Writers are one at a time here (BEGIN IMMEDIATE): `unique` was checked exactly by
        # the caller, and the new rows are those above the largest id before the insert.
        before = int(self.scalar(f"SELECT MAX(id) FROM {table}") or 0) if returning else 0
        pick = itemgetter(*columns)
        values = [pick(r) for r in rows] if len(columns) > 1 else [(r[columns[0]],) for r in rows]
        marks = ", ".join("?" for _column in columns)
        self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
        if not returning:
            return []
        stored = self.rows(
            f"SELECT {', '.join(returning)} FROM {table} WHERE id > :before", {"before": before}
        )
        if len(stored) != len(rows):  # ids are not ascending near the 64-bit limit
            raise StorageError(
                _("{table}: could not read back the rows just stored").format(table=table)
            )
        return stored

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.raw.in_transaction:
            self.raw.execute("ROLLBACK")


_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
"""A `:name` parameter, as SQLAlchemy's `text()` finds them (never `::` casts, `10:30`, `\\:`)."""
_ESCAPED_COLON = re.compile(r"\\(:[\w$]*)(?![:\w$])")


@lru_cache(maxsize=2048)
def pyformat(sql: str) -> str:
    """`sql` with its `:name` parameters as psycopg's `%(name)s`, its `%` doubled and `\\:`
    unescaped: the text SQLAlchemy's `text()` sent to psycopg (once per SQL text)."""
    marked = _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))
    return _ESCAPED_COLON.sub(r"\1", marked)


def _text(sql: str, params: Params | None) -> str:
    """What psycopg is sent for `sql`: `pyformat` with parameters; without, the text as it is
    (psycopg then reads no placeholder, and `%` is itself), `\\:` unescaped as text() did."""
    if params:
        return pyformat(sql)
    return _ESCAPED_COLON.sub(r"\1", sql) if "\\:" in sql else sql


STREAM_PAGE = 2000
"""Rows a server-side cursor of `PsycopgConn.stream` fetches at a time."""


class PsycopgConn(Conn):
    """A `Conn` over a psycopg 3 connection to a PostgreSQL server, inside its transaction.

    psycopg opens the transaction itself at the first statement, with the connection's
    isolation level and read-only flag (`Database._connect` sets them). Values come back as
    psycopg loads them (datetime, date, Decimal, JSON as Python objects), as they did through
    SQLAlchemy's `text()`.
    """

    dialect = POSTGRESQL

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._cursors = 0  # the server-side cursors of `stream` so far (their names)

    def _execute(self, sql: str, params: Params | None) -> Any:
        return self._send(_text(sql, params), params or None)

    def _send(self, sql: str, params: Any) -> Any:
        """psycopg's cursor of `sql` (`%(name)s` or `%s` placeholders); IntegrityProblem when
        a constraint refuses it."""
        try:
            return self.raw.execute(sql, params)
        except Exception as exc:
            if _is_integrity_error(exc):
                raise IntegrityProblem(_driver_message(exc)) from None
            raise

    def _names(self, result: Any) -> list[str]:
        return [column.name for column in result.description]

    def rows(self, sql: str, params: Params | None = None) -> list[Row]:
        found: list[Row] = self._execute(sql, params).fetchall()  # tuples already
        return found

    def result(self, sql: str, params: Params | None = None) -> tuple[tuple[str, ...], list[Row]]:
        cursor = self._execute(sql, params)
        return tuple(self._names(cursor)), cursor.fetchall()

    def maps(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        cursor = self._execute(sql, params)
        names = self._names(cursor)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def insert(self, sql: str, params: Params) -> int:
        return int(self._execute(f"{sql} RETURNING id", params).fetchone()[0])

    def stream(
        self, sql: str, params: Params | None = None
    ) -> tuple[tuple[str, ...], Iterator[Row]]:
        """The column names of `sql` and its rows as they are read, for lists too long to
        hold: a server-side cursor (DECLARE, then FETCH `STREAM_PAGE` rows at a time), as a
        plain cursor receives the whole result first. Other statements may run between its
        pages, and rows left unread cost nothing: the cursor ends with the transaction."""
        self._cursors += 1
        cursor = self.raw.cursor(name=f"crm_stream_{self._cursors}")
        cursor.itersize = STREAM_PAGE
        try:
            cursor.execute(_text(sql, params), params or None)
        except Exception as exc:
            if _is_integrity_error(exc):
                raise IntegrityProblem(_driver_message(exc)) from None
            raise
        return tuple(self._names(cursor)), iter(cursor)

    def _insert_many(
        self,
        table: str,
        kinds: Mapping[str, str],
        columns: list[str],
        rows: Sequence[Mapping[str, Any]],
        returning: Sequence[str],
        unique: str | None,
    ) -> list[Row]:
        # One INSERT … SELECT FROM unnest(one array per column): the statement text is the
        # same for every batch (the server parses it once) and the values go as a few arrays.
        arrays = tuple([row.get(c) for row in rows] for c in columns)
        casts = ", ".join(f"%s::{self.dialect.pg_arrays[kinds[c]]}" for c in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({casts})"
        if unique is not None:
            sql += f" ON CONFLICT ({unique}) DO NOTHING"
        if returning:
            sql += f" RETURNING {', '.join(returning)}"
            stored: list[Row] = self._send(sql, arrays).fetchall()
            return stored
        self._send(sql, arrays)
        return []

    def commit(self) -> None:
        self.raw.commit()

    def rollback(self) -> None:
        if not self.raw.closed and not self.raw.broken:
            self.raw.rollback()  # nothing is sent when no transaction is open


def in_list(prefix: str, values: Iterable[Any], params: dict[str, Any]) -> str:
    """`:p0, :p1, …` for an IN (…) list, the values added to `params`."""
    names = []
    for i, value in enumerate(values):
        params[f"{prefix}{i}"] = value
        names.append(f":{prefix}{i}")
    return ", ".join(names) or "NULL"


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards and the escape character made literal (ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
