"""Whole databases as rows: what `crm export` and `crm db copy` read, and restore from.

A dump is every row of a table in id order, as a dict of domain values (`schema.from_row`:
money as `Decimal`, dates as `date`, timestamps as naive UTC `datetime`) in the order of the
table's columns, without the derived `*_key` columns: a restore recomputes them with
`schema.derived_keys`, as every insert does. An activity's `due` is a naive *local*
wall-clock time, not UTC: it is dumped as a `LocalTime`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal

from crmcli.domain.records import record
from crmcli.errors import ValidationError
from crmcli.i18n import _, ngettext
from crmcli.store.repos.journal import ENTITY_TABLES
from crmcli.store.schema import COLUMNS, derived_keys, from_row, to_row
from crmcli.store.sql import IntegrityProblem

if TYPE_CHECKING:
    from crmcli.store.uow import UnitOfWork

Kind = Literal["int", "money", "bool", "date", "datetime", "localtime", "text", "json"]

TABLES: dict[str, str] = {
    "stages": "stage",
    "accounts": "account",
    "contacts": "contact",
    "opportunities": "opportunity",
    "leads": "lead",
    "history": "opportunity_history",
    "activities": "activity",
}
"""The table of every dumped entity, in foreign-key order (the order of a restore)."""

_ENTITY_OF_TABLE = {table: entity for entity, table in ENTITY_TABLES.items()}
JOURNAL_ENTITIES = {name: _ENTITY_OF_TABLE[table] for name, table in TABLES.items()}
"""The journal's name of every dumped entity."""

RECORD_TABLES = ("leads", "accounts", "contacts", "opportunities", "activities")
"""Entities that must have no rows before a restore (stages are replaced, history needs deals)."""

REQUIRED: dict[str, frozenset[str]] = {
    "stages": frozenset({"name", "position", "probability"}),
    "accounts": frozenset({"name", "created_at"}),
    "contacts": frozenset({"name", "type", "created_at"}),
    "opportunities": frozenset(
        {
            "name",
            "account_id",
            "amount",
            "probability",
            "probability_manual",
            "status",
            "created_at",
            "updated_at",
        }
    ),
    "leads": frozenset({"name", "status", "created_at", "updated_at"}),
    "history": frozenset({"opportunity_id", "status", "probability", "at"}),
    "activities": frozenset(
        {"type", "subject", "due_has_time", "done", "created_at", "updated_at"}
    ),
}
"""The dumped columns besides `id` that are NOT NULL in the schema (a test checks them)."""

LOCAL_TIMES = {("activities", "due")}
"""Timestamp columns holding naive local wall-clock times (kind `localtime`), not UTC."""

DERIVED_SUFFIX = "_key"
"""The columns named so are derived keys: never dumped, recomputed on restore."""

CHUNK = 500
"""Rows per statement: per page read by a dump, per bulk insert of a restore."""

_KINDS: dict[str, Kind] = {
    "id": "int",
    "int": "int",
    "bigint": "int",
    "bool": "bool",
    "money": "money",
    "date": "date",
    "ts": "datetime",
    "json": "json",
    "text": "text",
}
"""The dump kind of each storage kind of `schema.COLUMNS`."""


class LocalTime(datetime):
    """A naive local wall-clock time (an activity's `due`): JSON writes it without a `Z`.

    Equal to the `datetime` with the same fields; only its type tells it from a UTC timestamp.
    """

    @classmethod
    def of(cls, value: datetime) -> LocalTime:
        """`value` (naive) as a LocalTime."""
        return cls.combine(value.date(), value.time())


@record
class DumpField:
    """One column of a dump: its name, the kind of value it holds, and whether it may be None."""

    name: str
    kind: Kind
    nullable: bool

    @property
    def is_text(self) -> bool:
        """True for free text (the cells a spreadsheet could run as a formula)."""
        return self.kind in ("text", "json")


def _fields_of(entity: str) -> tuple[DumpField, ...]:
    return tuple(
        DumpField(
            name,
            "localtime" if (entity, name) in LOCAL_TIMES else _KINDS[kind],
            name != "id" and name not in REQUIRED[entity],
        )
        for name, kind in COLUMNS[TABLES[entity]].items()
        if not name.endswith(DERIVED_SUFFIX)
    )


_FIELDS = {entity: _fields_of(entity) for entity in TABLES}


def fields(entity: str) -> tuple[DumpField, ...]:
    """The columns of an entity's dump, in table order (id first)."""
    return _FIELDS[entity]


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    found = iter(rows)
    while batch := list(islice(found, CHUNK)):
        yield batch


def _held(entity: str, count: int) -> str:
    # English names every entity by its key whatever the count ("1 leads"), as it always has.
    if entity == "leads":
        text = ngettext("{count} leads", "{count} leads", count)
    elif entity == "accounts":
        text = ngettext("{count} accounts", "{count} accounts", count)
    elif entity == "contacts":
        text = ngettext("{count} contacts", "{count} contacts", count)
    elif entity == "opportunities":
        text = ngettext("{count} opportunities", "{count} opportunities", count)
    elif entity == "activities":
        text = ngettext("{count} activities", "{count} activities", count)
    else:
        return f"{count} {entity}"
    return text.format(count=count)


def held_records(counts: Mapping[str, int]) -> str:
    """What a database that is not empty holds, for a message: `3 leads, 1 accounts` (the
    entities with records only; empty text when there are none)."""
    return ", ".join(_held(entity, n) for entity, n in counts.items() if n)


class DumpRepository:
    """Every row of the dumped tables, read in id order or restored with their own ids."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.conn = uow.conn

    def dump_rows(self, entity: str) -> Iterator[dict[str, Any]]:
        """Every row of an entity's table in id order, as dicts of domain values.

        Read `CHUNK` rows at a time; a read unit's snapshot keeps the pages consistent.
        Local wall-clock times (`LOCAL_TIMES`) come as `LocalTime`, so JSON can tell them from
        UTC.
        """
        table = TABLES[entity]
        spec = fields(entity)
        local = [f.name for f in spec if f.kind == "localtime"]
        select = f"SELECT {', '.join(f.name for f in spec)} FROM {table}"
        page = self.conn.maps(f"{select} ORDER BY id LIMIT {CHUNK}")
        while page:
            after, full = page[-1]["id"], len(page) == CHUNK  # before the caller has the rows
            for row in page:
                values = from_row(table, row)
                for name in local:
                    if values[name] is not None:
                        values[name] = LocalTime.of(values[name])
                yield values
            if not full:
                return
            page = self.conn.maps(
                f"{select} WHERE id > :after ORDER BY id LIMIT {CHUNK}", {"after": after}
            )

    def history_of(self, first: int, last: int) -> dict[int, list[dict[str, Any]]]:
        """The stage history of the deals with ids `first`..`last`, by deal, each deal's
        entries in id order (as `dump_rows("history")` gives them), without the deal's id:
        `crm export` writes every deal with its history a page of deals at a time."""
        select = ", ".join(f.name for f in fields("history"))
        found: dict[int, list[dict[str, Any]]] = {}
        for row in self.conn.maps(
            f"SELECT {select} FROM opportunity_history WHERE opportunity_id BETWEEN :first"
            " AND :last ORDER BY opportunity_id, id",
            {"first": first, "last": last},
        ):
            values = from_row("opportunity_history", row)
            found.setdefault(int(values.pop("opportunity_id")), []).append(values)
        return found

    def currency(self) -> str | None:
        """The currency recorded in the database's settings."""
        return self.uow.settings.get("currency")

    def record_counts(self) -> dict[str, int]:
        """How many leads, accounts, contacts, opportunities and activities the database holds."""
        return {
            entity: int(self.conn.scalar(f"SELECT COUNT(*) FROM {TABLES[entity]}"))
            for entity in RECORD_TABLES
        }

    def restore(
        self, rows: Mapping[str, Iterable[Mapping[str, Any]]], *, currency: str | None
    ) -> dict[str, int]:
        """Insert dumped rows with their own ids into an empty database; counts per entity.

        `rows` maps entities (`TABLES`) to dicts holding every column of `fields(entity)`.
        The stages a fresh database starts with are replaced by the restored ones (their
        deletion journaled); the inserted ids are journaled as ranges. All or nothing with
        the unit of work.
        """
        held = held_records(self.record_counts())
        if held:
            raise ValidationError(
                _(
                    "import needs an empty database: this one has {records} (use --db with a new file)"
                ).format(records=held)
            )
        for entity in ("history", "stages"):  # no history can exist without deals
            self._delete_all(entity)
        restored: dict[str, int] = {}
        for entity, table in TABLES.items():
            restored[entity] = 0
            for batch in _chunks(self._restorable(entity, r) for r in rows.get(entity, ())):
                try:
                    self.conn.insert_many(table, COLUMNS[table], batch)
                except IntegrityProblem as problem:
                    raise ValidationError(
                        _("import refused by the database ({entity}): {problem}").format(
                            entity=entity, problem=problem
                        )
                    ) from None
                self.uow.journal.record_inserted(
                    JOURNAL_ENTITIES[entity], [int(r["id"]) for r in batch]
                )
                restored[entity] += len(batch)
        if currency is not None:
            self.uow.settings.set("currency", currency)
        self.reset_sequences()
        return restored

    def _restorable(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """A dumped row in storage form, its derived keys added."""
        table = TABLES[entity]
        values = {f.name: row[f.name] for f in fields(entity)}
        if entity == "leads":
            values["extras"] = values["extras"] or None  # as a new lead stores it
        values.update(derived_keys(table, values))
        return to_row(self.conn.dialect, table, values)

    def _delete_all(self, entity: str) -> None:
        """Remove every row of an entity's table, each journaled with its values."""
        table = TABLES[entity]
        for row in self.conn.maps(f"SELECT * FROM {table} ORDER BY id"):
            self.uow.journal.record(JOURNAL_ENTITIES[entity], int(row["id"]), "delete", row, None)
        self.conn.run(f"DELETE FROM {table}")

    def reset_sequences(self) -> None:
        """Make new rows get ids above the ones inserted with their own ids.

        SQLite's AUTOINCREMENT already keeps `sqlite_sequence` at the largest id inserted; on
        PostgreSQL each table's identity sequence is set past its largest id
        (`Dialect.reset_ids`).
        """
        statement = self.conn.dialect.reset_ids
        if statement is None:
            return
        for table in TABLES.values():
            self.conn.rows(statement.format(table=table))
