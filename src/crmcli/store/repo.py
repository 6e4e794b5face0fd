"""Queries and writes for one transaction. Returns domain records, never rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    Integer,
    RowMapping,
    String,
    Table,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator

from crmcli.domain.models import (
    Account,
    Activity,
    ActivityType,
    Contact,
    ContactType,
    HistoryEntry,
    Lead,
    LeadStatus,
    Opportunity,
    OppStatus,
    Stage,
)
from crmcli.domain.values import money_to_cents, normalise_name, parse_reference
from crmcli.errors import Ambiguous, Duplicate, NotFound, StorageError, ValidationError
from crmcli.store import sqlread
from crmcli.store.tables import (
    AccountRow,
    ActivityRow,
    ContactRow,
    HistoryRow,
    LeadRow,
    MetaRow,
    Money,
    OpportunityRow,
    StageRow,
)

LEADS: Table = LeadRow.__table__  # type: ignore[attr-defined]
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[attr-defined]
CONTACTS: Table = ContactRow.__table__  # type: ignore[attr-defined]
STAGES: Table = StageRow.__table__  # type: ignore[attr-defined]
OPPS: Table = OpportunityRow.__table__  # type: ignore[attr-defined]
HISTORY: Table = HistoryRow.__table__  # type: ignore[attr-defined]
META: Table = MetaRow.__table__  # type: ignore[attr-defined]
ACTIVITIES: Table = ActivityRow.__table__  # type: ignore[attr-defined]

MAX_CANDIDATES = 8
_PG_IMPORT_LOCK = 0x63726D696D70  # "crmimp": the advisory lock key imports take turns on
_MAX_ID_32 = 2**31 - 1
_MAX_ID_64 = 2**63 - 1


def _cents_or_none(value: Any) -> Any:
    return None if value is None else money_to_cents(value)


def _date_text(value: Any) -> Any:
    return None if value is None else value.isoformat()


@lru_cache(maxsize=16)  # a batch shares one timestamp
def _datetime_text(value: Any) -> Any:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _json_text(value: Any) -> Any:
    return None if value is None else json.dumps(value)


_SQLITE_STORAGE: dict[str, Callable[[Any], Any]] = {
    "budget": _cents_or_none,
    "timeline": _date_text,
    "created_at": _datetime_text,
    "updated_at": _datetime_text,
    "extras": _json_text,
}
"""How the lead columns' types store values in SQLite, for the raw bulk insert."""


def _sqlite_storage(column_type: Any) -> Callable[[Any], Any] | None:
    """How a column of this type stores a (non-None) value in SQLite, for the raw bulk insert:
    the forms SQLAlchemy's column types write (cents, ISO dates, "YYYY-MM-DD HH:MM:SS.ffffff",
    JSON text); None when the driver stores the value as it is."""
    if isinstance(column_type, Money):
        return money_to_cents
    if isinstance(column_type, DateTime):
        return _datetime_text
    if isinstance(column_type, Date):
        return _date_text
    if isinstance(column_type, JSON):
        return _json_text
    return None


_PG_STORAGE: dict[type[Any], Callable[[Any], Any]] = {
    Money: _cents_or_none,
    JSON: _json_text,
}
"""Values that go into PostgreSQL arrays in a storage form (others as they are)."""


def _pg_array_type(column_type: Any) -> str:
    """The PostgreSQL array type for values of a column, in their storage form."""
    if isinstance(column_type, TypeDecorator):  # Money (cents), SQLModel's AutoString
        column_type = column_type.impl_instance
    for kind, name in _PG_ARRAYS:
        if isinstance(column_type, kind):
            return name
    raise TypeError(f"no PostgreSQL array type for {column_type!r}")


_PG_ARRAYS: tuple[tuple[type[Any], str], ...] = (
    (BigInteger, "bigint[]"),
    (Integer, "integer[]"),
    (Boolean, "boolean[]"),
    (DateTime, "timestamp[]"),
    (Date, "date[]"),
    (JSON, "json[]"),
    (String, "text[]"),
)


def like_prefix(text: str) -> str:
    """A LIKE pattern matching values that start with `text` literally (escape: backslash)."""
    return escape_like(text) + "%"


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards and the escape character made literal."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_order(conn: Connection, column: Any) -> Any:
    """ORDER BY a text column as SQLite does on every backend: by code point, NULL first.

    PostgreSQL would otherwise sort by the server's collation (en_US ignores spaces and
    punctuation) and put NULL last.
    """
    if conn.dialect.name == "postgresql":
        return column.collate("C").nulls_first()
    return column


def _key(value: str | None) -> str | None:
    return normalise_name(value) if value else None


def lead_search_key(name: str, email: str | None, company: str | None) -> str:
    """What `lead list --search` matches: normalised name, e-mail and company."""
    return "\x1f".join(normalise_name(part) for part in (name, email or "", company or ""))


def _fields(cls: type[Any]) -> tuple[str, ...]:
    return tuple(cls.__dataclass_fields__)


_LEAD_FIELDS = _fields(Lead)
_ACCOUNT_FIELDS = _fields(Account)
_CONTACT_FIELDS = _fields(Contact)
_STAGE_FIELDS = _fields(Stage)


def _lead(row: RowMapping) -> Lead:
    data = {f: row[f] for f in _LEAD_FIELDS}
    data["status"] = LeadStatus(row["status"])
    data["extras"] = dict(row["extras"] or {})
    return Lead(**data)


def _account(row: RowMapping) -> Account:
    return Account(**{f: row[f] for f in _ACCOUNT_FIELDS})


def _contact(row: RowMapping) -> Contact:
    data = {f: row[f] for f in _CONTACT_FIELDS}
    data["type"] = ContactType(row["type"])
    return Contact(**data)


def _stage(row: RowMapping) -> Stage:
    return Stage(**{f: row[f] for f in _STAGE_FIELDS})


def _opp(row: RowMapping) -> Opportunity:
    return Opportunity(
        id=row["id"],
        name=row["name"],
        account_id=row["account_id"],
        stage_id=row["stage_id"],
        stage=row["stage_name"],
        amount=row["amount"],
        probability=row["probability"],
        probability_manual=bool(row["probability_manual"]),
        status=OppStatus(row["status"]),
        expected_close=row["expected_close"],
        owner=row["owner"],
        contact_id=row["contact_id"],
        lost_reason=row["lost_reason"],
        competitor=row["competitor"],
        lead_id=row["lead_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        closed_at=row["closed_at"],
    )


_ACTIVITY_FIELDS = _fields(Activity)

ACTIVITY_LINKS = {
    "lead": "lead_id",
    "contact": "contact_id",
    "account": "account_id",
    "opp": "opportunity_id",
}
"""The kinds of record an activity can be linked to, and the column that holds the link."""

ACTIVITY_BUCKETS = ("overdue", "today", "upcoming")
"""The due-date windows `Repo.activity_list` can select (see its docstring)."""


def _activity(row: RowMapping) -> Activity:
    data = {f: row[f] for f in _ACTIVITY_FIELDS}
    data["type"] = ActivityType(row["type"])
    data["done"] = bool(row["done"])
    data["due_has_time"] = bool(row["due_has_time"])
    return Activity(**data)


_OPP_SELECT = select(OPPS, STAGES.c.name.label("stage_name")).select_from(
    OPPS.outerjoin(STAGES, OPPS.c.stage_id == STAGES.c.id)
)


class Repo:
    """All reads and writes of one transaction (`Database.read()` / `Database.write()`)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.reader = sqlread.AlchemyReader(conn)

    # -- generic -----------------------------------------------------------------------------

    def _insert(self, table: Table, values: Mapping[str, Any]) -> int:
        try:
            result = self.conn.execute(insert(table).values(**values))
        except IntegrityError as exc:
            if "unique" in str(exc.orig).lower():
                raise Duplicate(
                    f"{table.name} would duplicate an existing one: {exc.orig}"
                ) from None
            raise ValidationError(f"{table.name} refused by the database: {exc.orig}") from None
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def _check_id(self, kind: str, row_id: int) -> None:
        """NotFound for an id no row can have on this backend (PostgreSQL's INTEGER ids stop at
        2**31 - 1), so both backends answer "no … with id N" alike; OverflowError beyond 64
        bits, as SQLite's driver raises (the CLI's one "too large" line)."""
        if row_id > _MAX_ID_64:
            raise OverflowError(f"{kind} id {row_id} is too large")
        if row_id > _MAX_ID_32 and self.conn.dialect.name == "postgresql":
            raise NotFound(f"no {kind} with id {row_id}")

    def _insert_unless_taken(self, table: Table, values: Mapping[str, Any], key: str) -> int | None:
        """Insert a row unless one already holds its unique `key` value: the new id, or None.

        PostgreSQL: INSERT … ON CONFLICT (key) DO NOTHING RETURNING id. A concurrent
        transaction inserting the same key makes this one wait for it, then yield without an
        error (an error would abort the whole transaction). SQLite: writers are already one at
        a time (BEGIN IMMEDIATE), so a look-up before a plain insert is exact.
        """
        if self.conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = (
                pg_insert(table)
                .values(**values)
                .on_conflict_do_nothing(index_elements=[key])
                .returning(table.c.id)
            )
            new_id = self.conn.execute(statement).scalar()
            return None if new_id is None else int(new_id)
        taken = select(table.c.id).where(table.c[key] == values[key]).limit(1)
        if self.conn.execute(taken).first() is not None:
            return None
        return self._insert(table, values)

    def _update(self, table: Table, row_id: int, values: Mapping[str, Any]) -> None:
        if values:
            self.conn.execute(update(table).where(table.c.id == row_id).values(**values))

    def _resolve(
        self,
        table: Table,
        kind: str,
        ref: str,
        *,
        exact_only: bool = False,
        extra_key: str | None = None,
    ) -> RowMapping | None:
        """The row an id or unambiguous name refers to; None when nothing matches the name.

        An empty or blank `ref` is a UsageError (`parse_reference`), never a match.
        """
        parsed = parse_reference(ref, kind)
        if isinstance(parsed, int):
            self._check_id(kind, parsed)
            found = self.conn.execute(select(table).where(table.c.id == parsed)).mappings()
            row = found.first()
            if row is None:
                raise NotFound(f"no {kind} with id {parsed}")
            return row
        text = parsed
        key = normalise_name(text)
        matches = [table.c.name_key == key]
        if extra_key is not None:
            matches.append(table.c[extra_key] == text.lower())
        rows = list(self.conn.execute(select(table).where(or_(*matches))).mappings())
        if not rows and not exact_only:
            pattern = table.c.name_key.like(like_prefix(key), escape="\\")
            rows = list(
                self.conn.execute(select(table).where(pattern).limit(MAX_CANDIDATES + 1)).mappings()
            )
        if len(rows) > 1:
            listed = "; ".join(f"{r['id']} {r['name']}" for r in rows[:MAX_CANDIDATES])
            raise Ambiguous(f'{kind} "{text}" is ambiguous: {listed} (use the id)')
        return rows[0] if rows else None

    def _by_name(self, table: Table, name: str) -> RowMapping | None:
        """The row whose name has `name`'s matching key (`normalise_name`), if any.

        For names taken from data (a lead's company, a cell of an imported file, the new name of
        a rename), never for what a user typed as a reference: all-digit text here is a name
        (a company called `1`, `2024` or `3M`), not an id. See docs/design.md, "References vs
        names".
        """
        key = normalise_name(name)
        if not key:
            return None
        query = select(table).where(table.c.name_key == key).order_by(table.c.id).limit(1)
        return self.conn.execute(query).mappings().first()

    # -- meta --------------------------------------------------------------------------------

    def meta_get(self, key: str) -> str | None:
        """A setting of this database."""
        return self.conn.execute(select(META.c.value).where(META.c.key == key)).scalar()

    def meta_set(self, key: str, value: str) -> None:
        """Record a setting of this database."""
        if self.meta_get(key) is None:
            self.conn.execute(insert(META).values(key=key, value=value))
        else:
            self.conn.execute(update(META).where(META.c.key == key).values(value=value))

    # -- leads -------------------------------------------------------------------------------

    def lead_get(self, lead_id: int, *, lock: bool = False) -> Lead:
        """The lead with this id, or NotFound.

        `lock` takes the row lock (SELECT … FOR UPDATE on PostgreSQL; SQLite's write
        transaction already excludes other writers) until the transaction ends, so a change
        decided on what was read here cannot race another writer's.
        """
        self._check_id("lead", lead_id)
        query = select(LEADS).where(LEADS.c.id == lead_id)
        if lock:
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no lead with id {lead_id}")
        return _lead(row)

    def lead_by_email(self, email: str) -> Lead | None:
        """The lead that has this (normalised) e-mail, if any."""
        row = (
            self.conn.execute(select(LEADS).where(LEADS.c.email_key == email.lower()))
            .mappings()
            .first()
        )
        return _lead(row) if row else None

    def lead_insert(self, values: Mapping[str, Any]) -> Lead:
        """Store a new lead; `values` holds domain fields."""
        row = dict(values)
        row["search_key"] = lead_search_key(row["name"], row.get("email"), row.get("company"))
        row["email_key"] = (row.get("email") or "").lower() or None
        row["owner_key"] = _key(row.get("owner"))
        row["source_key"] = _key(row.get("source"))
        row["extras"] = row.get("extras") or None
        if not row["email_key"]:
            return self.lead_get(self._insert(LEADS, row))
        new_id = self._insert_unless_taken(LEADS, row, "email_key")
        if new_id is None:
            other = self.lead_by_email(row["email_key"])
            assert other is not None
            raise Duplicate(
                f'lead {other.id} ("{other.name}") already has the e-mail {row["email_key"]}'
            )
        return self.lead_get(new_id)

    def lead_update(self, lead: Lead, changes: Mapping[str, Any]) -> Lead:
        """Write `changes` (domain fields) to `lead`, keeping the derived keys in step."""
        row = dict(changes)
        if {"name", "email", "company"} & row.keys():
            row["search_key"] = lead_search_key(
                row.get("name", lead.name),
                row.get("email", lead.email),
                row.get("company", lead.company),
            )
        if "email" in row:
            row["email_key"] = (row["email"] or "").lower() or None
        if "owner" in row:
            row["owner_key"] = _key(row["owner"])
        if "source" in row:
            row["source_key"] = _key(row["source"])
        try:
            self._update(LEADS, lead.id, row)
        except IntegrityError:
            raise Duplicate(f"another lead already has the e-mail {row.get('email')}") from None
        return self.lead_get(lead.id)

    # -- bulk (imports) ------------------------------------------------------------------------

    def leads_by_emails(self, emails: Sequence[str]) -> dict[str, Lead]:
        """The leads whose normalised e-mail is one of `emails`, keyed by that e-mail."""
        if not emails:
            return {}
        query = select(LEADS).where(LEADS.c.email_key.in_(sorted(set(emails))))
        return {row["email_key"]: _lead(row) for row in self.conn.execute(query).mappings()}

    def lead_insert_many(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Insert many new leads in one executemany; rows hold domain fields.

        Returns the rows that were not inserted because another lead took their e-mail
        meanwhile (a concurrent import on PostgreSQL: ON CONFLICT DO NOTHING); on SQLite,
        where the caller looked the e-mails up under the write lock, always none.
        """
        if not rows:
            return []
        prepared = []
        for values in rows:
            row = dict(values)
            row["search_key"] = lead_search_key(row["name"], row.get("email"), row.get("company"))
            row["email_key"] = row.get("email") or None
            row["owner_key"] = _key(row.get("owner"))
            row["source_key"] = _key(row.get("source"))
            row["extras"] = row.get("extras") or None
            prepared.append(row)
        if self.conn.dialect.name == "postgresql":
            stored = self._insert_leads_postgresql(prepared)
            return [
                values
                for values, row in zip(rows, prepared, strict=True)
                if row["email_key"] is not None and row["email_key"] not in stored
            ]
        if self.conn.dialect.name != "sqlite":
            self.conn.execute(insert(LEADS), prepared)
            return []
        # The bulk path: SQLAlchemy's per-row parameter processing costs several times the
        # insert itself, so convert to SQLite's storage forms here (the same ones the column
        # types write: cents, ISO dates, "YYYY-MM-DD HH:MM:SS.ffffff", JSON text) and hand
        # the rows to the driver's executemany.
        columns = list(prepared[0])
        sql = f"INSERT INTO lead ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        special = [(c, f) for c, f in _SQLITE_STORAGE.items() if c in prepared[0]]
        for row in prepared:
            for column, convert in special:
                row[column] = convert(row[column])
        self.conn.exec_driver_sql(sql, list(map(itemgetter(*columns), prepared)))
        return []

    def _insert_leads_postgresql(self, prepared: list[dict[str, Any]]) -> set[str]:
        """The bulk path on PostgreSQL: one INSERT … SELECT FROM unnest(one array per column)
        … ON CONFLICT (email_key) DO NOTHING RETURNING email_key per batch. The statement text
        is the same for every batch (the driver parses it once) and values go as a few arrays,
        converted here as the SQLite path does; the e-mails actually stored are returned."""
        columns = list(prepared[0])
        arrays: list[list[Any]] = [[] for _ in columns]
        for row in prepared:
            for values, column in zip(arrays, columns, strict=True):
                values.append(row.get(column))
        for i, column in enumerate(columns):
            if column == "budget":
                arrays[i] = [_cents_or_none(v) for v in arrays[i]]
            elif column == "extras":
                arrays[i] = [_json_text(v) for v in arrays[i]]
        casts = ", ".join(f"%s::{_pg_array_type(LEADS.c[c].type)}" for c in columns)
        sql = (
            f"INSERT INTO lead ({', '.join(columns)}) SELECT * FROM unnest({casts})"
            " ON CONFLICT (email_key) DO NOTHING RETURNING email_key"
        )
        return {r[0] for r in self.conn.exec_driver_sql(sql, tuple(arrays)) if r[0]}

    def _insert_many(
        self,
        table: Table,
        rows: Sequence[Mapping[str, Any]],
        returning: Sequence[str] = (),
        *,
        unique: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """Insert many rows (the same columns each, domain values) in one statement; the
        `returning` columns of the rows stored, in no particular order. With `unique` (a
        unique column the caller checked), a row another writer stored meanwhile on
        PostgreSQL is left out (ON CONFLICT DO NOTHING) rather than failing the transaction.

        The bulk path for imports, the one `lead_insert_many` takes: values are converted here
        to their storage forms (by column type) and handed to the driver, skipping SQLAlchemy's
        per-row parameter processing. SQLite: one executemany; the new rows are read back as
        those above the largest id before it (writers are one at a time there). PostgreSQL:
        one INSERT … SELECT FROM unnest(one array per column) … RETURNING.
        """
        if not rows:
            return []
        columns = list(rows[0])
        if self.conn.dialect.name == "postgresql":
            arrays = [[row.get(c) for row in rows] for c in columns]
            for i, column in enumerate(columns):
                convert = _PG_STORAGE.get(type(table.c[column].type))
                if convert is not None:
                    arrays[i] = [convert(v) for v in arrays[i]]
            casts = ", ".join(f"%s::{_pg_array_type(table.c[c].type)}" for c in columns)
            sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({casts})"
            if unique is not None:
                sql += f" ON CONFLICT ({unique}) DO NOTHING"
            if returning:
                sql += f" RETURNING {', '.join(returning)}"
                return [tuple(r) for r in self.conn.exec_driver_sql(sql, tuple(arrays))]
            self.conn.exec_driver_sql(sql, tuple(arrays))
            return []
        if self.conn.dialect.name != "sqlite":
            self.conn.execute(insert(table), [dict(r) for r in rows])
            if not returning:
                return []
            raise NotImplementedError(f"bulk insert returning on {self.conn.dialect.name}")
        before = 0
        if returning:
            before = int(self.conn.execute(select(func.max(table.c.id))).scalar() or 0)
        converters = [_sqlite_storage(table.c[c].type) for c in columns]
        converted = [(c, f) for c, f in zip(columns, converters, strict=True) if f is not None]
        values: list[Any] = []
        pick = itemgetter(*columns)
        for row in rows:
            stored_row = dict(row)
            for column, convert in converted:
                if stored_row[column] is not None:
                    stored_row[column] = convert(stored_row[column])
            values.append(pick(stored_row) if len(columns) > 1 else (stored_row[columns[0]],))
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        self.conn.exec_driver_sql(sql, values)
        if not returning:
            return []
        query = select(*(table.c[c] for c in returning)).where(table.c.id > before)
        stored = [tuple(r) for r in self.conn.execute(query)]
        if len(stored) != len(rows):  # ids are not ascending near the 64-bit limit
            raise StorageError(f"{table.name}: could not read back the rows just stored")
        return stored

    def account_ids_find_or_insert(self, names: Sequence[str], at: datetime) -> dict[str, int]:
        """The ids of the accounts with these names, by name key; those no account has yet are
        stored first (created `at`), in the order given, the first spelling of a key winning.

        Never duplicates an account, even when another writer creates the same one at once on
        PostgreSQL (ON CONFLICT on the unique name key): that one is used.
        """
        wanted: dict[str, str] = {}
        for name in names:
            wanted.setdefault(normalise_name(name), name)
        found = self._ids_by(ACCOUNTS, "name_key", wanted)
        missing = [
            {"name": name, "name_key": key, "created_at": at}
            for key, name in wanted.items()
            if key not in found
        ]
        stored = self._insert_many(ACCOUNTS, missing, ("name_key", "id"), unique="name_key")
        found.update((str(k), int(i)) for k, i in stored)
        found.update(self._ids_by(ACCOUNTS, "name_key", wanted.keys() - found.keys()))
        return found

    def contact_ids_find_or_insert(
        self, contacts: Sequence[tuple[str, int]], at: datetime
    ) -> dict[str, int]:
        """The ids of the contacts with these (normalised) e-mails, by e-mail; each of the
        (e-mail, account id) pairs no contact has yet is stored first as a prospect of that
        account named by its e-mail, in the order given (see account_ids_find_or_insert)."""
        wanted: dict[str, tuple[str, int]] = {}
        for email, account_id in contacts:
            wanted.setdefault(email.lower(), (email, account_id))
        found = self._ids_by(CONTACTS, "email_key", wanted)
        missing = [
            {
                "name": email,
                "name_key": normalise_name(email),
                "email": email,
                "email_key": key,
                "account_id": account_id,
                "type": ContactType.PROSPECT.value,
                "created_at": at,
            }
            for key, (email, account_id) in wanted.items()
            if key not in found
        ]
        stored = self._insert_many(CONTACTS, missing, ("email_key", "id"), unique="email_key")
        found.update((str(k), int(i)) for k, i in stored)
        found.update(self._ids_by(CONTACTS, "email_key", wanted.keys() - found.keys()))
        return found

    def _ids_by(self, table: Table, key: str, values: Iterable[str]) -> dict[str, int]:
        """The ids of the rows whose unique `key` column holds one of `values`, by value."""
        wanted = sorted(values)
        if not wanted:
            return {}
        query = select(table.c[key], table.c.id).where(table.c[key].in_(wanted))
        return {str(k): int(i) for k, i in self.conn.execute(query)}

    def opp_keys(self, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (account id, name key) pairs some deal already has."""
        wanted = set(pairs)
        if not wanted:
            return set()
        query = select(OPPS.c.account_id, OPPS.c.name_key).where(
            OPPS.c.name_key.in_(sorted({k for _, k in wanted})),
            OPPS.c.account_id.in_(sorted({a for a, _ in wanted})),
        )
        found = {(int(a), str(k)) for a, k in self.conn.execute(query)}
        return found & wanted

    def opp_insert_many(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert many new opportunities (domain fields, no two with the same account and
        name key) in one statement, each with its first history row at its `created_at`;
        their ids, in the order of `rows`."""
        prepared = [
            {
                **row,
                "name_key": row.get("name_key") or normalise_name(row["name"]),
                "owner_key": _key(row.get("owner")),
            }
            for row in rows
        ]
        stored = self._insert_many(OPPS, prepared, returning=("id", "account_id", "name_key"))
        by_key = {(int(a), str(k)): int(i) for i, a, k in stored}
        ids = [by_key[(row["account_id"], row["name_key"])] for row in prepared]
        if ids:
            names = {s.id: s.name for s in self.stages()}
            history = [
                {
                    "opportunity_id": opp_id,
                    "stage_id": row["stage_id"],
                    "stage_name": names.get(row["stage_id"]),
                    "status": row["status"],
                    "probability": row["probability"],
                    "at": row["created_at"],
                }
                for opp_id, row in zip(ids, prepared, strict=True)
            ]
            self._insert_many(HISTORY, history)
        return ids

    def lead_delete(self, lead_id: int) -> None:
        """Remove a lead for good."""
        self.conn.execute(delete(LEADS).where(LEADS.c.id == lead_id))

    def lead_list(
        self,
        *,
        statuses: Sequence[str] | None = None,
        exclude_statuses: Sequence[str] = (),
        source: str | None = None,
        search: str | None = None,
        owner: str | None = None,
        limit: int | None = None,
    ) -> list[Lead]:
        """Leads matching every given filter, oldest first. Text filters match literally."""
        return sqlread.lead_list(
            self.reader,
            statuses=statuses,
            exclude_statuses=exclude_statuses,
            source=source,
            search=search,
            owner=owner,
            limit=limit,
        )

    # -- accounts ----------------------------------------------------------------------------

    def account_get(self, account_id: int) -> Account:
        """The account with this id, or NotFound."""
        self._check_id("account", account_id)
        row = (
            self.conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.id == account_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no account with id {account_id}")
        return _account(row)

    def account_find(self, ref: str, *, exact_only: bool = False) -> Account | None:
        """The account an id or name refers to, None if no name matches."""
        row = self._resolve(ACCOUNTS, "account", ref, exact_only=exact_only)
        return _account(row) if row else None

    def account_by_name(self, name: str) -> Account | None:
        """The account with exactly this name (compared by name key), never read as an id."""
        row = self._by_name(ACCOUNTS, name)
        return _account(row) if row else None

    def accounts_starting_with(self, text: str) -> list[Account]:
        """Accounts whose normalised name starts with `text`'s (at most a few)."""
        pattern = ACCOUNTS.c.name_key.like(like_prefix(normalise_name(text)), escape="\\")
        query = select(ACCOUNTS).where(pattern).order_by(ACCOUNTS.c.id).limit(MAX_CANDIDATES)
        return [_account(r) for r in self.conn.execute(query).mappings()]

    def account_insert(self, values: Mapping[str, Any]) -> Account:
        """Store a new account (its normalised name must be new)."""
        account, created = self.account_find_or_insert(values)
        if not created:
            raise Duplicate(f'account "{account.name}" already exists (id {account.id})')
        return account

    def account_find_or_insert(self, values: Mapping[str, Any]) -> tuple[Account, bool]:
        """The account with this normalised name, stored first if none has it; (account, new).

        Never duplicates an account, even when two writers create the same one at once on
        PostgreSQL (ON CONFLICT on the unique name key): the later one reuses it.
        """
        row = dict(values)
        row["name_key"] = normalise_name(row["name"])
        new_id = self._insert_unless_taken(ACCOUNTS, row, "name_key")
        if new_id is not None:
            return self.account_get(new_id), True
        query = select(ACCOUNTS).where(ACCOUNTS.c.name_key == row["name_key"])
        return _account(self.conn.execute(query).mappings().one()), False

    def account_update(self, account: Account, changes: Mapping[str, Any]) -> Account:
        """Write `changes` to `account`."""
        row = dict(changes)
        if "name" in row:
            row["name_key"] = normalise_name(row["name"])
            clash = self.account_by_name(row["name"])
            if clash is not None and clash.id != account.id:
                raise Duplicate(f'account "{clash.name}" already exists (id {clash.id})')
        self._update(ACCOUNTS, account.id, row)
        return self.account_get(account.id)

    def account_list(self, *, search: str | None = None) -> list[Account]:
        """Accounts by name."""
        query = select(ACCOUNTS)
        if search:
            pattern = "%" + escape_like(normalise_name(search)) + "%"
            query = query.where(ACCOUNTS.c.name_key.like(pattern, escape="\\"))
        query = query.order_by(text_order(self.conn, ACCOUNTS.c.name_key), ACCOUNTS.c.id)
        return [_account(r) for r in self.conn.execute(query).mappings()]

    # -- contacts ----------------------------------------------------------------------------

    def contact_get(self, contact_id: int) -> Contact:
        """The contact with this id, or NotFound."""
        self._check_id("contact", contact_id)
        row = (
            self.conn.execute(select(CONTACTS).where(CONTACTS.c.id == contact_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no contact with id {contact_id}")
        return _contact(row)

    def contact_find(self, ref: str) -> Contact | None:
        """The contact an id, e-mail or unambiguous name refers to."""
        row = self._resolve(CONTACTS, "contact", ref, extra_key="email_key")
        return _contact(row) if row else None

    def contact_by_email(self, email: str) -> Contact | None:
        """The contact with this (normalised) e-mail, if any."""
        query = select(CONTACTS).where(CONTACTS.c.email_key == email.lower())
        row = self.conn.execute(query).mappings().first()
        return _contact(row) if row else None

    def contact_insert(self, values: Mapping[str, Any]) -> Contact:
        """Store a new contact (its e-mail, if any, must be new)."""
        row = dict(values)
        row["name_key"] = normalise_name(row["name"])
        row["email_key"] = (row.get("email") or "").lower() or None
        if not row["email_key"]:
            return self.contact_get(self._insert(CONTACTS, row))
        new_id = self._insert_unless_taken(CONTACTS, row, "email_key")
        if new_id is None:
            raise Duplicate(f"a contact with the e-mail {row['email_key']} already exists")
        return self.contact_get(new_id)

    def contact_update(self, contact: Contact, changes: Mapping[str, Any]) -> Contact:
        """Write `changes` to `contact`."""
        row = dict(changes)
        if "name" in row:
            row["name_key"] = normalise_name(row["name"])
        if "email" in row:
            row["email_key"] = (row["email"] or "").lower() or None
            clash = self.contact_by_email(row["email_key"]) if row["email_key"] else None
            if clash is not None and clash.id != contact.id:
                raise Duplicate(f"contact {clash.id} already has the e-mail {row['email_key']}")
        self._update(CONTACTS, contact.id, row)
        return self.contact_get(contact.id)

    def contact_list(
        self, *, account_id: int | None = None, type_: str | None = None
    ) -> list[Contact]:
        """Contacts by name, optionally of one account or one relationship type."""
        query = select(CONTACTS)
        if account_id is not None:
            query = query.where(CONTACTS.c.account_id == account_id)
        if type_:
            query = query.where(CONTACTS.c.type == type_)
        query = query.order_by(text_order(self.conn, CONTACTS.c.name_key), CONTACTS.c.id)
        return [_contact(r) for r in self.conn.execute(query).mappings()]

    # -- stages ------------------------------------------------------------------------------

    def stages(self) -> list[Stage]:
        """Every stage in pipeline order."""
        query = select(STAGES).order_by(STAGES.c.position, STAGES.c.id)
        return [_stage(r) for r in self.conn.execute(query).mappings()]

    def stage_find(self, ref: str) -> Stage:
        """The stage an id or name refers to (case-insensitive, Unicode-aware), or NotFound."""
        row = self._resolve(STAGES, "stage", ref)
        if row is None:
            names = ", ".join(f'"{s.name}"' for s in self.stages())
            raise NotFound(f'no stage "{ref.strip()}" (stages: {names})')
        return _stage(row)

    def lock_stages(self, *, share: bool = False) -> None:
        """Hold every stage's row lock until the transaction ends (see lead_get).

        Changes to the pipeline itself (add, rename, move, remove, default probability) take
        it first, so two of them never interleave on a server. `share` takes the weakest lock
        (FOR KEY SHARE), for moving a deal into a stage: moves do not wait for each other,
        only for a pipeline change, and always lock stages before the deal, in the order a
        pipeline change does, so the two can never deadlock.
        """
        query = select(STAGES.c.id).order_by(STAGES.c.id)
        locked = (
            query.with_for_update(read=True, key_share=True) if share else query.with_for_update()
        )
        self.conn.execute(locked).all()

    def take_import_turn(self) -> None:
        """Wait until no other import is writing (PostgreSQL), as every writer does on SQLite.

        Two imports whose files share e-mails (or deal accounts) in different orders would
        otherwise each hold rows the other needs next: a deadlock, and one import lost. A
        transaction-level advisory lock makes imports take turns; other commands do not wait
        for it, only for the rows they share with an import.
        """
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_IMPORT_LOCK})")

    def stage_insert(self, values: Mapping[str, Any]) -> Stage:
        """Store a new stage (its normalised name must be new)."""
        row = dict(values)
        row["name_key"] = normalise_name(row["name"])
        if self._by_name(STAGES, row["name"]) is not None:
            raise Duplicate(f'a stage named "{row["name"]}" already exists')
        new_id = self._insert(STAGES, row)
        return next(s for s in self.stages() if s.id == new_id)

    def stage_update(self, stage: Stage, changes: Mapping[str, Any]) -> None:
        """Write `changes` to `stage`."""
        row = dict(changes)
        if "name" in row:
            row["name_key"] = normalise_name(row["name"])
            clash = self._by_name(STAGES, row["name"])
            if clash is not None and clash["id"] != stage.id:
                raise Duplicate(f'a stage named "{clash["name"]}" already exists')
        self._update(STAGES, stage.id, row)

    def stage_reorder(self, ordered_ids: Sequence[int]) -> None:
        """Give the stages positions 1..n in this order."""
        for position, stage_id in enumerate(ordered_ids, start=1):
            self._update(STAGES, stage_id, {"position": position})

    def stage_delete(self, stage_id: int) -> None:
        """Remove a stage; closed deals in it keep their history but lose the link."""
        self.conn.execute(delete(STAGES).where(STAGES.c.id == stage_id))

    def count_opps_in_stage(self, stage_id: int, *, status: str = "open") -> int:
        """How many deals of this status sit in this stage."""
        query = select(func.count()).where(
            and_(OPPS.c.stage_id == stage_id, OPPS.c.status == status)
        )
        return int(self.conn.execute(query).scalar_one())

    def opp_ids_in_stage(self, stage_id: int, *, status: str = "open") -> list[int]:
        """Ids of the deals of this status in this stage."""
        query = select(OPPS.c.id).where(and_(OPPS.c.stage_id == stage_id, OPPS.c.status == status))
        return [int(r[0]) for r in self.conn.execute(query)]

    # -- opportunities -----------------------------------------------------------------------

    def opp_get(self, opp_id: int, *, lock: bool = False) -> Opportunity:
        """The opportunity with this id, or NotFound; `lock` takes its row lock (see lead_get)."""
        self._check_id("opportunity", opp_id)
        query = _OPP_SELECT.where(OPPS.c.id == opp_id)
        if lock:
            query = query.with_for_update(of=OPPS)
        row = self.conn.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no opportunity with id {opp_id}")
        return _opp(row)

    def opp_find(self, ref: str, *, lock: bool = False) -> Opportunity:
        """The opportunity an id or unambiguous name refers to, or NotFound.

        With `lock`, the deal is read again under its row lock (see lead_get): a stage move,
        win or loss decided on it cannot race another one.
        """
        row = self._resolve(OPPS, "opportunity", ref)
        if row is None:
            raise NotFound(f'no opportunity "{ref.strip()}"')
        return self.opp_get(int(row["id"]), lock=lock)

    def opp_insert(self, values: Mapping[str, Any]) -> Opportunity:
        """Store a new opportunity."""
        row = dict(values)
        row["name_key"] = normalise_name(row["name"])
        row["owner_key"] = _key(row.get("owner"))
        return self.opp_get(self._insert(OPPS, row))

    def opp_by_account_and_name(self, account_id: int, name: str) -> Opportunity | None:
        """The first deal of this account with this (normalised) name, if any."""
        query = _OPP_SELECT.where(
            and_(OPPS.c.account_id == account_id, OPPS.c.name_key == normalise_name(name))
        ).order_by(OPPS.c.id)
        row = self.conn.execute(query).mappings().first()
        return _opp(row) if row else None

    def opp_update(self, opp: Opportunity, changes: Mapping[str, Any]) -> Opportunity:
        """Write `changes` to `opp`."""
        row = dict(changes)
        if "name" in row:
            row["name_key"] = normalise_name(row["name"])
        if "owner" in row:
            row["owner_key"] = _key(row["owner"])
        self._update(OPPS, opp.id, row)
        return self.opp_get(opp.id)

    def opp_list(
        self,
        *,
        stage_id: int | None = None,
        status: str | None = None,
        owner: str | None = None,
        account_id: int | None = None,
    ) -> list[Opportunity]:
        """Opportunities matching every given filter, by id."""
        query = _OPP_SELECT
        if stage_id is not None:
            query = query.where(OPPS.c.stage_id == stage_id)
        if status:
            query = query.where(OPPS.c.status == status)
        if owner:
            query = query.where(OPPS.c.owner_key == normalise_name(owner))
        if account_id is not None:
            query = query.where(OPPS.c.account_id == account_id)
        return [_opp(r) for r in self.conn.execute(query.order_by(OPPS.c.id)).mappings()]

    def history_add(self, opp: Opportunity, at: datetime) -> None:
        """Record the opportunity's current stage, status and probability at `at`."""
        self._insert(
            HISTORY,
            {
                "opportunity_id": opp.id,
                "stage_id": opp.stage_id,
                "stage_name": opp.stage,
                "status": opp.status.value,
                "probability": opp.probability,
                "at": at,
            },
        )

    def history(self, opp_id: int) -> list[HistoryEntry]:
        """Every stage and status change of an opportunity, oldest first."""
        query = (
            select(
                func.coalesce(STAGES.c.name, HISTORY.c.stage_name).label("stage"),
                HISTORY.c.status,
                HISTORY.c.probability,
                HISTORY.c.at,
            )
            .select_from(HISTORY.outerjoin(STAGES, HISTORY.c.stage_id == STAGES.c.id))
            .where(HISTORY.c.opportunity_id == opp_id)
            .order_by(HISTORY.c.at, HISTORY.c.id)
        )
        return [
            HistoryEntry(
                stage=r["stage"],
                status=OppStatus(r["status"]),
                probability=r["probability"],
                at=r["at"],
            )
            for r in self.conn.execute(query).mappings()
        ]

    # -- activities --------------------------------------------------------------------------

    def activity_get(self, activity_id: int) -> Activity:
        """The activity with this id, or NotFound."""
        self._check_id("activity", activity_id)
        query = select(ACTIVITIES).where(ACTIVITIES.c.id == activity_id)
        row = self.conn.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no activity with id {activity_id}")
        return _activity(row)

    def activity_insert(self, values: Mapping[str, Any]) -> Activity:
        """Store a new activity; `values` holds domain fields (exactly one link set)."""
        row = dict(values)
        row["owner_key"] = _key(row.get("owner"))
        return self.activity_get(self._insert(ACTIVITIES, row))

    def activity_update(self, activity: Activity, changes: Mapping[str, Any]) -> Activity:
        """Write `changes` (domain fields) to `activity`."""
        row = dict(changes)
        if "owner" in row:
            row["owner_key"] = _key(row["owner"])
        self._update(ACTIVITIES, activity.id, row)
        return self.activity_get(activity.id)

    def activity_delete(self, activity_id: int) -> None:
        """Remove an activity for good."""
        self.conn.execute(delete(ACTIVITIES).where(ACTIVITIES.c.id == activity_id))

    def activity_list(
        self,
        *,
        now: datetime,
        include_done: bool = False,
        buckets: Sequence[str] = (),
        link: tuple[str, int] | None = None,
        owner: str | None = None,
    ) -> list[Activity]:
        """Activities, soonest due first (those without a due date last), then by id.

        Pending ones only unless `include_done`. `buckets` (any of ACTIVITY_BUCKETS, combined as
        a union) select by due date relative to `now`, a naive local time: *overdue* — a timed
        due before `now`, or a date-only due before today; *today* — due today and not overdue;
        *upcoming* — due after today. `link` is (kind, id) with a kind of ACTIVITY_LINKS.
        """
        act = ACTIVITIES.c
        query = select(ACTIVITIES)
        if not include_done:
            query = query.where(act.done == false())
        if buckets:
            unknown = set(buckets) - set(ACTIVITY_BUCKETS)
            if unknown:
                raise ValueError(f"unknown activity bucket(s): {sorted(unknown)}")
            today = now.replace(hour=0, minute=0, second=0, microsecond=0)
            tomorrow = today + timedelta(days=1)
            overdue = or_(
                and_(act.due_has_time == true(), act.due < now),
                and_(act.due_has_time == false(), act.due < today),
            )
            windows = {
                "overdue": overdue,
                "today": and_(act.due >= today, act.due < tomorrow, ~overdue),
                "upcoming": act.due >= tomorrow,
            }
            query = query.where(and_(act.due.is_not(None), or_(*(windows[b] for b in buckets))))
        if link is not None:
            kind, record_id = link
            query = query.where(act[ACTIVITY_LINKS[kind]] == record_id)
        if owner:
            query = query.where(act.owner_key == normalise_name(owner))
        query = query.order_by(act.due.is_(None), act.due, act.id)
        return [_activity(r) for r in self.conn.execute(query).mappings()]

    def opps_without_next_step(
        self, owner: str | None = None, *, limit: int | None = None
    ) -> list[Opportunity]:
        """Open opportunities with no pending activity linked to them ("forgotten deals").

        One query (NOT EXISTS). Soonest expected close first (deals without one last), then by
        id. `owner` matches the deal's owner by key; `limit` keeps the first ones.
        """
        query = _OPP_SELECT.where(*self._no_next_step(owner))
        query = query.order_by(OPPS.c.expected_close.is_(None), OPPS.c.expected_close, OPPS.c.id)
        if limit is not None:
            query = query.limit(limit)
        return [_opp(r) for r in self.conn.execute(query).mappings()]

    def count_opps_without_next_step(self, owner: str | None = None) -> int:
        """How many open opportunities have no pending activity."""
        query = select(func.count()).select_from(OPPS).where(*self._no_next_step(owner))
        return int(self.conn.execute(query).scalar_one())

    @staticmethod
    def _no_next_step(owner: str | None) -> list[Any]:
        pending = (
            select(ACTIVITIES.c.id)
            .where(and_(ACTIVITIES.c.opportunity_id == OPPS.c.id, ACTIVITIES.c.done == false()))
            .correlate(OPPS)
        )
        conditions: list[Any] = [OPPS.c.status == "open", ~exists(pending)]
        if owner:
            conditions.append(OPPS.c.owner_key == normalise_name(owner))
        return conditions
