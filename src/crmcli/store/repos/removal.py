"""Deleting an account, a contact or a deal with everything that points at it.

What may point at a record of each entity is `journal.REFERENCES` (what undo checks too). Of
that, what belongs to the record goes with it (`GOES_WITH`, each one removed the same way in
turn); everything else stays, its link cleared (set NULL). Children go first and every row is
deleted or updated through the repositories' `_delete`/`_update`, so the journal records each
one and `crm undo` can put all of it back; the database's ON DELETE CASCADE finds nothing left
to do. See docs/design.md, "Deleting records".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crmcli.store.repos.journal import ENTITY_TABLES, REFERENCES
from crmcli.store.repos.links import Links

GOES_WITH: dict[str, tuple[str, ...]] = {
    "account": ("opportunity", "contact", "activity"),
    "contact": ("activity",),
    "opportunity": ("history", "activity"),
}
"""What is deleted with a record of each entity, in the order it goes (an account's deals
before its contacts: a deal may name one of them). Whatever else REFERENCES lists for the
entity is unlinked, after."""

KEPT = {("activity", "person_id")}
"""Links from an entity that goes with the record (GOES_WITH) that are cleared instead: a deal's
call stays with the deal when the person it was with is deleted."""

DELETED = ("contact", "opportunity", "history", "activity")
"""The entities a removal may delete besides the record itself (the keys of `deleted`)."""

UNLINKED = ("opportunity", "lead", "activity")
"""The entities a removal may unlink (the keys of `unlinked`): a deal keeps going without its
contact, a converted lead stays converted without its account, contact or deal, a deal's
activity without the person it was with."""


@dataclass
class Removed:
    """What one removal deleted and unlinked besides the record itself: ids by journal
    entity, each list in the order its rows went, without repeats. A record unlinked and then
    deleted in the same removal is only in `deleted`."""

    deleted: dict[str, list[int]] = field(default_factory=lambda: {e: [] for e in DELETED})
    unlinked: dict[str, list[int]] = field(default_factory=lambda: {e: [] for e in UNLINKED})


class Remover(Links):
    """Counting and removing what points at a record, inside one unit of work."""

    def dependents(self, entity: str, record_id: int) -> dict[str, int]:
        """How many rows of each entity in REFERENCES point at this record."""
        counts: dict[str, int] = {}
        for child, column in REFERENCES[entity]:
            sql = f"SELECT COUNT(*) FROM {ENTITY_TABLES[child]} WHERE {column} = :r"
            counts[child] = counts.get(child, 0) + int(self.conn.scalar(sql, {"r": record_id}))
        return counts

    def remove(self, entity: str, record_id: int) -> Removed:
        """Delete the record, what goes with it (GOES_WITH, recursively) and unlink the rest;
        every row journaled, children first."""
        found = Removed()
        self._remove(entity, record_id, found)
        for child, ids in found.unlinked.items():
            gone = set(found.deleted.get(child, ()))
            found.unlinked[child] = [i for i in ids if i not in gone]
        return found

    def _remove(self, entity: str, record_id: int, found: Removed) -> None:
        self.lock(entity, record_id)
        goes = GOES_WITH[entity]
        references = REFERENCES[entity]
        for child in goes:
            for column in (c for e, c in references if e == child and (e, c) not in KEPT):
                for child_id in self.linked(child, column, record_id):
                    if child in GOES_WITH:
                        self._remove(child, child_id, found)
                    else:
                        self.rows(child)._delete(child_id)
                    found.deleted[child].append(child_id)
        for child, column in references:
            if child in goes and (child, column) not in KEPT:
                continue
            for child_id in self.linked(child, column, record_id):
                self.rows(child)._update(child_id, {column: None})
                if child_id not in found.unlinked[child]:
                    found.unlinked[child].append(child_id)
        self.rows(entity)._delete(record_id)
