"""Dumping and restoring whole tables, for `crm export` and `crm import`.

SQLAlchemy Core on the tables of `store/tables.py`, never per-row ORM objects. A dump is every
row of a table in id order as a plain dict of domain-level values (money as `Decimal` through
the `Money` type, dates as `date`, timestamps as naive UTC `datetime`), without the derived
`*_key` columns: those are recomputed on restore exactly as `repo.py` computes them on insert.
An activity's `due` is a naive *local* wall-clock time, not UTC: it is dumped as a `LocalTime`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator

from crmcli.domain.values import normalise_name
from crmcli.errors import ValidationError
from crmcli.store.repo import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    HISTORY,
    LEADS,
    META,
    OPPS,
    STAGES,
    lead_search_key,
)
from crmcli.store.tables import Money

Kind = Literal["int", "money", "bool", "date", "datetime", "localtime", "text", "json"]

TABLES: dict[str, Table] = {
    "stages": STAGES,
    "accounts": ACCOUNTS,
    "contacts": CONTACTS,
    "opportunities": OPPS,
    "leads": LEADS,
    "history": HISTORY,
    "activities": ACTIVITIES,
}
"""Every dumped table by entity name, in foreign-key order (the order of a restore)."""

RESTORE_ORDER = tuple(TABLES)

RECORD_TABLES = ("leads", "accounts", "contacts", "opportunities", "activities")
"""Tables that must be empty before a restore (stages are replaced, history needs deals)."""

LOCAL_TIMES = {("activities", "due")}
"""DateTime columns holding naive local wall-clock times (kind `localtime`), not UTC."""

CHUNK = 500


def _optional_key(value: str | None) -> str | None:
    # The same as repo._key: the normalised name, None for a missing or empty value.
    return normalise_name(value) if value else None


def _email_key(value: str | None) -> str | None:
    # The same as every *_insert of repo.py: lower-cased, None when empty.
    return (value or "").lower() or None


def _lead_keys(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "search_key": lead_search_key(row["name"], row.get("email"), row.get("company")),
        "email_key": _email_key(row.get("email")),
        "owner_key": _optional_key(row.get("owner")),
        "source_key": _optional_key(row.get("source")),
    }


def _name_key(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"name_key": normalise_name(row["name"])}


def _contact_keys(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"name_key": normalise_name(row["name"]), "email_key": _email_key(row.get("email"))}


def _opp_keys(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"name_key": normalise_name(row["name"]), "owner_key": _optional_key(row.get("owner"))}


def _owner_key(row: Mapping[str, Any]) -> dict[str, Any]:
    # As repo.activity_insert stores it.
    return {"owner_key": _optional_key(row.get("owner"))}


def _no_keys(row: Mapping[str, Any]) -> dict[str, Any]:
    return {}


DERIVED: dict[str, tuple[tuple[str, ...], Callable[[Mapping[str, Any]], dict[str, Any]]]] = {
    "stages": (("name_key",), _name_key),
    "accounts": (("name_key",), _name_key),
    "contacts": (("name_key", "email_key"), _contact_keys),
    "opportunities": (("name_key", "owner_key"), _opp_keys),
    "leads": (("search_key", "email_key", "owner_key", "source_key"), _lead_keys),
    "history": ((), _no_keys),
    "activities": (("owner_key",), _owner_key),
}
"""Per entity: the derived columns left out of a dump, and how a restore recomputes them."""


class LocalTime(datetime):
    """A naive local wall-clock time (an activity's `due`): JSON writes it without a `Z`.

    Equal to the `datetime` with the same fields; only its type tells it from a UTC timestamp.
    """

    @classmethod
    def of(cls, value: datetime) -> LocalTime:
        """`value` (naive) as a LocalTime."""
        return cls.combine(value.date(), value.time())


@dataclass(frozen=True)
class DumpField:
    """One column of a dump: its name, the kind of value it holds, and whether it may be None."""

    name: str
    kind: Kind
    nullable: bool

    @property
    def is_text(self) -> bool:
        """True for free text (the cells a spreadsheet could run as a formula)."""
        return self.kind in ("text", "json")


def _kind(column_type: Any) -> Kind:
    if isinstance(column_type, Money):
        return "money"
    if isinstance(column_type, TypeDecorator):  # SQLModel's AutoString and the like
        return _kind(column_type.impl_instance)
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, DateTime):
        return "datetime"
    if isinstance(column_type, Date):
        return "date"
    if isinstance(column_type, Integer):
        return "int"
    if isinstance(column_type, JSON):
        return "json"
    if isinstance(column_type, String):
        return "text"
    raise TypeError(f"no dump kind for column type {column_type!r}")


def fields(entity: str) -> tuple[DumpField, ...]:
    """The columns of an entity's dump, in table order (id first)."""
    table = TABLES[entity]
    derived = DERIVED[entity][0]
    return tuple(
        DumpField(
            c.name,
            "localtime" if (entity, c.name) in LOCAL_TIMES else _kind(c.type),
            bool(c.nullable) and not c.primary_key,
        )
        for c in table.columns
        if c.name not in derived
    )


def dump_rows(conn: Connection, entity: str) -> Iterator[dict[str, Any]]:
    """Every row of an entity's table in id order, as dicts of domain-level values.

    Local wall-clock times (`LOCAL_TIMES`) come as `LocalTime`, so JSON can tell them from UTC.
    """
    table = TABLES[entity]
    spec = fields(entity)
    columns = [table.c[f.name] for f in spec]
    local = [f.name for f in spec if f.kind == "localtime"]
    result = conn.execute(select(*columns).order_by(table.c.id))
    for row in result.mappings():
        values = dict(row)
        for name in local:
            if values[name] is not None:
                values[name] = LocalTime.of(values[name])
        yield values


def dump_currency(conn: Connection) -> str | None:
    """The currency recorded in `crm_meta`."""
    return conn.execute(select(META.c.value).where(META.c.key == "currency")).scalar()


def record_counts(conn: Connection) -> dict[str, int]:
    """How many leads, accounts, contacts, opportunities and activities the database holds."""
    return {
        entity: int(conn.execute(select(func.count()).select_from(TABLES[entity])).scalar_one())
        for entity in RECORD_TABLES
    }


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _restorable(entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
    names = [f.name for f in fields(entity)]
    values = {name: row[name] for name in names}
    if entity == "leads":
        values["extras"] = values["extras"] or None  # as repo.lead_insert stores it
    values.update(DERIVED[entity][1](values))
    return values


def restore(
    conn: Connection,
    rows: Mapping[str, Iterable[Mapping[str, Any]]],
    *,
    currency: str | None,
) -> dict[str, int]:
    """Insert dumped rows with their original ids into an empty database; counts per entity.

    `rows` maps entity names (`TABLES`) to dicts holding every column of `fields(entity)`.
    The caller's transaction makes this all or nothing. The stages a fresh database starts
    with are replaced by the restored ones.
    """
    counts = record_counts(conn)
    held = [f"{n} {entity}" for entity, n in counts.items() if n]
    if held:
        raise ValidationError(
            "import needs an empty database: this one has "
            + ", ".join(held)
            + " (use --db with a new file)"
        )
    conn.execute(delete(HISTORY))  # none can exist without deals; for completeness
    conn.execute(delete(STAGES))
    restored: dict[str, int] = {}
    for entity in RESTORE_ORDER:
        table = TABLES[entity]
        restored[entity] = 0
        for batch in _chunks(_restorable(entity, r) for r in rows.get(entity, ())):
            try:
                conn.execute(insert(table), batch)
            except IntegrityError as exc:
                raise ValidationError(
                    f"import refused by the database ({entity}): {exc.orig}"
                ) from None
            restored[entity] += len(batch)
    if currency is not None:
        if dump_currency(conn) is None:
            conn.execute(insert(META).values(key="currency", value=currency))
        else:
            conn.execute(update(META).where(META.c.key == "currency").values(value=currency))
    reset_sequences(conn)
    return restored


def reset_sequences(conn: Connection) -> None:
    """Make new rows get ids above the ones inserted with their own ids.

    SQLite's AUTOINCREMENT already keeps `sqlite_sequence` at the largest id inserted. On
    PostgreSQL each table's identity sequence is set past its largest id.
    """
    if conn.dialect.name != "postgresql":
        return
    for table in TABLES.values():
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
        )
