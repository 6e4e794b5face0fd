"""Undo: one change set walked back in reverse, recorded as a change set of its own.

Each recorded change is reversed in the opposite order it happened: an insert is deleted
(a bulk run of ids at once), an update gets its before-values back, a delete is inserted
again with its id and every stored value. Refused, before anything is written or with all
of it rolled back: a change set already undone, or itself an undo; a later change set (not
undone) that touched one of the same records; a record the undo would delete that something
else refers to now. See docs/design.md, "Undo".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmcli.errors import NotFound, ValidationError
from crmcli.store.repos.journal import ENTITY_TABLES, REFERENCES
from crmcli.store.schema import COLUMNS, load_value, to_row
from crmcli.store.sql import IntegrityProblem

if TYPE_CHECKING:
    from crmcli.store.uow import UnitOfWork


@dataclass(frozen=True)
class Target:
    """The change set an undo reverts."""

    id: int
    command: str
    actor: str | None
    at: Any


@dataclass(frozen=True)
class _Change:
    entity: str
    op: str
    first: int
    last: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _values(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))


class UndoRepository:
    """Reverting change sets, inside one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.conn = uow.conn

    # -- what to undo -------------------------------------------------------------------------

    def target(self, set_id: int | None) -> Target:
        """The change set to undo: `set_id`, or the newest that is neither undone nor an undo.
        NotFound or ValidationError when it cannot be undone at all."""
        conn = self.conn
        if set_id is None:
            found = conn.scalar(
                "SELECT cs.id FROM change_set AS cs WHERE cs.undone_by IS NULL AND NOT EXISTS"
                " (SELECT 1 FROM change_set AS u WHERE u.undone_by = cs.id)"
                " ORDER BY cs.id DESC LIMIT 1"
            )
            if found is None:
                raise NotFound("nothing to undo: no change recorded that is not undone already")
            set_id = int(found)
        head = conn.one(
            "SELECT id, at, actor, command, undone_by FROM change_set WHERE id = :id",
            {"id": set_id},
        )
        if head is None:
            raise NotFound(f"no change set with id {set_id}")
        if head["undone_by"] is not None:
            raise ValidationError(
                f"change set {set_id} was already undone by change set {head['undone_by']}"
            )
        undid = conn.scalar("SELECT id FROM change_set WHERE undone_by = :id", {"id": set_id})
        if undid is not None:
            raise ValidationError(
                f"change set {set_id} is itself the undo of change set {undid}: it cannot be"
                " undone (run the command again instead)"
            )
        return Target(
            id=set_id,
            command=head["command"],
            actor=head["actor"],
            at=load_value("ts", head["at"]),
        )

    def _changes(self, set_id: int) -> list[_Change]:
        rows = self.conn.rows(
            "SELECT entity, op, record_id, last_id, before_values, after_values FROM change"
            " WHERE change_set_id = :s ORDER BY id",
            {"s": set_id},
        )
        return [
            _Change(
                entity=str(entity),
                op=str(op),
                first=int(first),
                last=int(last if last is not None else first),
                before=_values(before),
                after=_values(after),
            )
            for entity, op, first, last, before, after in rows
        ]

    def check_later(self, target: Target) -> None:
        """ValidationError naming the first later change set (neither undone nor an undo)
        that touched one of the records `target` changed."""
        found = self.conn.one(
            "SELECT later.change_set_id AS id, later.entity AS entity,"
            " later.record_id AS first, COALESCE(later.last_id, later.record_id) AS last,"
            " mine.record_id AS mine_first, COALESCE(mine.last_id, mine.record_id) AS mine_last"
            " FROM change AS mine JOIN change AS later ON later.entity = mine.entity"
            " AND later.change_set_id > mine.change_set_id"
            " AND later.record_id <= COALESCE(mine.last_id, mine.record_id)"
            " AND COALESCE(later.last_id, later.record_id) >= mine.record_id"
            " JOIN change_set AS cs ON cs.id = later.change_set_id"
            " WHERE mine.change_set_id = :s AND cs.undone_by IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM change_set AS u WHERE u.undone_by = cs.id)"
            " ORDER BY later.change_set_id LIMIT 1",
            {"s": target.id},
        )
        if found is None:
            return
        record_id = max(int(found["first"]), int(found["mine_first"]))
        raise ValidationError(
            f"change set {target.id} cannot be undone: change set {found['id']}"
            f" ({self._command(int(found['id']))}) changed {_named(found['entity'], record_id)}"
            f" after it; undo that one first"
        )

    def _command(self, set_id: int) -> str:
        command = self.conn.scalar("SELECT command FROM change_set WHERE id = :id", {"id": set_id})
        return f"crm {command}" if command else "a command"

    # -- reverting ----------------------------------------------------------------------------

    def revert(self, target: Target) -> None:
        """Reverse every change of `target`, newest first, journaling each reversal; the new
        change set marks `target` undone when it is written."""
        self.check_later(target)
        journal = self.uow.journal
        journal.undoes = target.id
        for change in reversed(self._changes(target.id)):
            table = ENTITY_TABLES[change.entity]
            if change.op == "insert":
                self._check_unreferenced(target, change)
                self.conn.run(
                    f"DELETE FROM {table} WHERE id BETWEEN :a AND :b",
                    {"a": change.first, "b": change.last},
                )
                if change.after is None:
                    ids = range(change.first, change.last + 1)
                    journal.record_bulk(change.entity, "delete", ids)
                else:
                    journal.record(change.entity, change.first, "delete", change.after, None)
            elif change.op == "update":
                assert change.before is not None and change.after is not None
                row = self._stored_form(table, change.before)
                sets = ", ".join(f"{c} = :{c}" for c in row)
                self._guarded(
                    target,
                    change,
                    f"UPDATE {table} SET {sets} WHERE id = :id_",
                    {**row, "id_": change.first},
                )
                journal.record(change.entity, change.first, "update", change.after, change.before)
            else:  # delete: put the row back as it was stored, with its id
                assert change.before is not None
                row = self._stored_form(table, change.before)
                columns = list(row)
                self._guarded(
                    target,
                    change,
                    f"INSERT INTO {table} ({', '.join(columns)})"
                    f" VALUES ({', '.join(':' + c for c in columns)})",
                    row,
                )
                journal.record(change.entity, change.first, "insert", None, change.before)

    def _stored_form(self, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Journaled storage values (JSON text of either backend) as this backend stores them."""
        kinds = COLUMNS[table]
        known = {c: load_value(kinds[c], v) for c, v in values.items() if c in kinds}
        return to_row(self.conn.dialect, table, known)

    def _guarded(
        self, target: Target, change: _Change, sql: str, params: Mapping[str, Any]
    ) -> None:
        try:
            self.conn.run(sql, params)
        except IntegrityProblem as problem:
            raise ValidationError(
                f"change set {target.id} cannot be undone: putting back"
                f" {_named(change.entity, change.first)} clashes with the data now ({problem})"
            ) from None

    def _check_unreferenced(self, target: Target, change: _Change) -> None:
        """ValidationError when a record this insert made is referred to by something the
        undo does not remove (it was made or linked later)."""
        for entity, column in REFERENCES.get(change.entity, ()):
            found = self.conn.rows(
                f"SELECT id, {column} FROM {ENTITY_TABLES[entity]} WHERE {column} BETWEEN :a AND :b"
                " ORDER BY id LIMIT 1",
                {"a": change.first, "b": change.last},
            )
            if not found:
                continue
            child, parent = found[0]
            by = self.conn.scalar(
                "SELECT MAX(change_set_id) FROM change WHERE entity = :e"
                " AND record_id <= :i AND COALESCE(last_id, record_id) >= :i",
                {"e": entity, "i": int(child)},
            )
            made = f", changed by change set {by} ({self._command(int(by))})" if by else ""
            raise ValidationError(
                f"change set {target.id} cannot be undone: {_named(entity, int(child))}{made}"
                f" refers to {_named(change.entity, int(parent))} it made; undo or delete"
                " that first"
            )


def _named(entity: str, record_id: int) -> str:
    return f"{'stage history row' if entity == 'history' else entity} {record_id}"
