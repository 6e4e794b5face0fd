"""The journal: one change set per command that changes data, written in its transaction.

Each change says which record (`entity`, id), what happened to it (`op`: insert, update,
delete) and, as JSON text in storage form, the values before and after: an insert keeps the
row stored, an update the columns it changed (before and after), a delete the whole row. That
is what undo and "as of" reports stand on. A bulk insert (an import) is recorded compactly:
one change per run of consecutive ids (`record_id` to `last_id`), no values.

Entities: `lead account contact opportunity activity stage`, and `history` for the stage
history rows of deals (kept for undo, never listed by `crm history`).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from crmcli.domain.models import Change, ChangeSet
from crmcli.store.schema import COLUMNS, load_value, to_row
from crmcli.store.sql import TS_FORMAT, in_list

if TYPE_CHECKING:
    from crmcli.store.uow import UnitOfWork

LISTED = ("lead", "account", "contact", "opportunity", "activity", "stage")
"""The entities `crm history` lists (the contract's names)."""

ENTITY_TABLES = {**{entity: entity for entity in LISTED}, "history": "opportunity_history"}
"""The table of each journal entity."""

REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "lead": (("activity", "lead_id"),),
    "account": (
        ("contact", "account_id"),
        ("opportunity", "account_id"),
        ("activity", "account_id"),
        ("lead", "account_id"),
    ),
    "contact": (
        ("opportunity", "contact_id"),
        ("activity", "contact_id"),
        ("activity", "person_id"),
        ("lead", "contact_id"),
    ),
    "opportunity": (
        ("history", "opportunity_id"),
        ("activity", "opportunity_id"),
        ("lead", "opportunity_id"),
    ),
    "stage": (("opportunity", "stage_id"), ("history", "stage_id")),
}
"""What may point at a record of each entity: (entity, column). A record an undo or a delete removes
must have none of these left (the database would cascade, null or refuse otherwise)."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime(TS_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _text(values: Mapping[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps(values, default=_plain, ensure_ascii=False, separators=(",", ":"))


def ranges(ids: Sequence[int]) -> list[tuple[int, int]]:
    """Runs of consecutive ids: [1, 2, 3, 7] -> [(1, 3), (7, 7)] (in any order, each id once:
    ids that come ascending, as a bulk insert's do, are not copied to be sorted)."""
    found: list[tuple[int, int]] = []
    for i in ids:
        if found and i == found[-1][1] + 1:
            found[-1] = (found[-1][0], i)
        elif found and found[-1][0] <= i <= found[-1][1]:
            continue  # an id again
        elif found and i < found[-1][0]:
            return ranges(sorted(ids))
        else:
            found.append((i, i))
    return found


@dataclass
class Journal:
    """The changes of one unit of work, written as one change set when it commits."""

    uow: UnitOfWork
    changes: list[dict[str, Any]] = field(default_factory=list)
    """In the order they happened: one dict per record, or per batch of a bulk path (its
    `ids`), so an undo can walk them back in reverse."""
    undoes: int | None = None
    """The change set this one undoes (marked `undone_by` when it is written)."""
    last_id: int | None = None
    """The id of the change set `flush` wrote last (None until one is written)."""

    def record(
        self,
        entity: str,
        record_id: int,
        op: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        """One record changed (values in storage form)."""
        self.record_text(entity, record_id, op, _text(before), _text(after))

    def record_text(
        self, entity: str, record_id: int, op: str, before: str | None, after: str | None
    ) -> None:
        """One record changed, its values already the journal's JSON text (an undo hands
        back the text of the change it reverses, without decoding and encoding it again)."""
        self.changes.append(
            {
                "entity": entity,
                "op": op,
                "record_id": record_id,
                "last_id": None,
                "before_values": before,
                "after_values": after,
            }
        )

    def record_inserted(self, entity: str, ids: Iterable[int]) -> None:
        """Many records inserted by a bulk path (kept as id ranges, no values)."""
        self.record_bulk(entity, "insert", ids)

    def record_bulk(self, entity: str, op: str, ids: Iterable[int]) -> None:
        """Many records inserted or deleted at once, kept as id ranges without values (bulk
        inserts, and an undo's removal of them)."""
        found = array("q", ids)  # 8 bytes an id: a million-row import holds them all
        if not found:
            return
        last = self.changes[-1] if self.changes else None
        if last is not None and "ids" in last and (last["entity"], last["op"]) == (entity, op):
            last["ids"].extend(found)
        else:
            self.changes.append({"entity": entity, "op": op, "ids": found})

    def pending(self) -> list[Change]:
        """The listed changes not yet written, in order (what a dry run would record)."""
        found: list[Change] = []
        for change in self.changes:
            if change["entity"] not in LISTED:
                continue
            ids = change["ids"] if "ids" in change else [change["record_id"]]
            found += [Change(entity=change["entity"], id=int(i), op=change["op"]) for i in ids]
        return found

    @property
    def empty(self) -> bool:
        """True when nothing was changed."""
        return not self.changes

    def flush(self) -> None:
        """Write the change set (before the commit, in the same transaction), if any."""
        if self.empty:
            return
        conn = self.uow.conn
        head = to_row(
            conn.dialect,
            "change_set",
            {"at": self.uow.now(), "actor": self.uow.actor, "command": self.uow.command or ""},
        )
        set_id = conn.insert(
            "INSERT INTO change_set (at, actor, command) VALUES (:at, :actor, :command)", head
        )
        self.last_id = set_id
        rows: list[dict[str, Any]] = []
        for change in self.changes:
            if "ids" not in change:
                rows.append({"change_set_id": set_id, **change})
                continue
            rows += [
                {
                    "change_set_id": set_id,
                    "entity": change["entity"],
                    "op": change["op"],
                    "record_id": first,
                    "last_id": last,
                    "before_values": None,
                    "after_values": None,
                }
                for first, last in ranges(change["ids"])
            ]
        conn.insert_many("change", COLUMNS["change"], rows)
        if self.undoes is not None:
            conn.run(
                "UPDATE change_set SET undone_by = :u WHERE id = :s",
                {"u": set_id, "s": self.undoes},
            )
        self.changes, self.undoes = [], None

    # -- reading ------------------------------------------------------------------------------

    def change_sets(
        self, *, limit: int | None = None, record: tuple[str, int] | None = None
    ) -> list[ChangeSet]:
        """Change sets, newest first, with their listed changes; `record` (entity, id) keeps
        those that touched that record."""
        conn = self.uow.conn
        params: dict[str, Any] = {}
        where = ""
        if record is not None:
            where = (
                " WHERE id IN (SELECT change_set_id FROM change WHERE entity = :e"
                " AND record_id <= :i AND COALESCE(last_id, record_id) >= :i)"
            )
            params.update(e=record[0], i=record[1])
        sql = f"SELECT id, at, actor, command, undone_by FROM change_set{where} ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = limit
        heads = conn.rows(sql, params)
        if not heads:
            return []
        marks: dict[str, Any] = {}
        listed = in_list("s", (h[0] for h in heads), marks)
        entities = in_list("e", LISTED, marks)
        changes: dict[int, list[Change]] = {int(h[0]): [] for h in heads}
        for set_id, entity, op, first, last in conn.rows(
            "SELECT change_set_id, entity, op, record_id, last_id FROM change"
            f" WHERE change_set_id IN ({listed}) AND entity IN ({entities}) ORDER BY id",
            marks,
        ):
            for record_id in range(int(first), int(last if last is not None else first) + 1):
                changes[int(set_id)].append(Change(entity=entity, id=record_id, op=op))
        return [
            ChangeSet(
                id=int(h[0]),
                at=load_value("ts", h[1]),
                actor=h[2],
                command=h[3],
                undone=h[4] is not None,
                changes=tuple(changes[int(h[0])]),
            )
            for h in heads
        ]
