"""What points at a record (`journal.REFERENCES`), read and rewritten row by row through the
journaled helpers: what deleting and merging records share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmcli.store.repos.base import Repository
from crmcli.store.repos.journal import ENTITY_TABLES

if TYPE_CHECKING:
    from crmcli.store.uow import UnitOfWork


class EntityRows(Repository):
    """The rows of one journal entity's table, written through the journaled helpers."""

    def __init__(self, uow: UnitOfWork, entity: str) -> None:
        super().__init__(uow)
        self.entity = entity
        self.table = ENTITY_TABLES[entity]
        self.kind = "stage history row" if entity == "history" else entity


class Links:
    """The rows that point at records, inside one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.conn = uow.conn
        self._tables: dict[str, EntityRows] = {}

    def rows(self, entity: str) -> EntityRows:
        """The journaled table of `entity`."""
        if entity not in self._tables:
            self._tables[entity] = EntityRows(self.uow, entity)
        return self._tables[entity]

    def linked(self, entity: str, column: str, record_id: int) -> list[int]:
        """The ids of the `entity` rows whose `column` points at `record_id`, in id order."""
        sql = f"SELECT id FROM {ENTITY_TABLES[entity]} WHERE {column} = :r ORDER BY id"
        return [int(r[0]) for r in self.conn.rows(sql, {"r": record_id})]

    def lock(self, entity: str, record_id: int) -> None:
        """Take the record's row lock (PostgreSQL; SQLite's writer already excludes others), so
        nothing can be linked to it meanwhile; NotFound when it does not exist."""
        self.rows(entity)._row(record_id, lock=True)
