"""Merging records: the row locks, moving every link from the OTHERs to KEEP, removing the
OTHERs.

What may point at a record of each entity is `journal.REFERENCES` (what undo and delete check
too): a merge moves each of those links to KEEP, then deletes the OTHERs, each row through the
repositories' `_update`/`_delete`, so the journal records every one and `crm undo` puts all of
it back. The merged values themselves are the domain's (`domain/merge.py`) and are written by
the entity's own repository. See docs/design.md, "Merging records".
"""

from __future__ import annotations

from collections.abc import Iterable

from crmcli.errors import ValidationError
from crmcli.i18n import _
from crmcli.store.repos.journal import REFERENCES
from crmcli.store.repos.links import Links

LINK_KINDS = {
    "activity": "activities",
    "opportunity": "deals",
    "contact": "contacts",
    "lead": "leads",
}
"""How a merge's result names the rows of each entity it moved (`"moved": {"deals": 2}`)."""


class MergeRepository(Links):
    """The writes of a merge that are the same for every kind of record."""

    def lock_all(self, entity: str, ids: Iterable[int]) -> None:
        """Take the row locks of these records, lowest id first (PostgreSQL; SQLite's writer
        already excludes others): nothing can be linked to an OTHER, nor either changed, until
        the merge ends, and two merges of the same records take turns instead of deadlocking.
        NotFound for an id that does not exist."""
        for record_id in sorted(set(ids)):
            super().lock(entity, record_id)

    def kinds(self, entity: str) -> list[str]:
        """The kinds of link a merge of `entity` moves, in the order it reports them."""
        return list(
            dict.fromkeys(LINK_KINDS[child] for child, _column in REFERENCES.get(entity, ()))
        )

    def move_links(self, entity: str, others: Iterable[int], keep_id: int) -> dict[str, int]:
        """Point everything that points at one of `others` at `keep_id` instead (each row
        journaled as an update); how many rows moved, by kind (`kinds`), zeros included."""
        moved = dict.fromkeys(self.kinds(entity), 0)
        for other_id in others:
            for child, column in REFERENCES.get(entity, ()):
                rows = self.rows(child)
                for child_id in self.linked(child, column, other_id):
                    rows._update(child_id, {column: keep_id})
                    moved[LINK_KINDS[child]] += 1
        return moved

    def remove(self, entity: str, ids: Iterable[int]) -> None:
        """Delete the OTHERs (journaled), once nothing points at them any more."""
        rows = self.rows(entity)
        for record_id in ids:
            for child, column in REFERENCES.get(entity, ()):
                left = self.linked(child, column, record_id)
                if left:  # move_links ran in this transaction under the row locks
                    raise ValidationError(
                        _(
                            "{entity} {id} is still linked from {child} {child_id}: not merged"
                        ).format(entity=entity, id=record_id, child=child, child_id=left[0])
                    )
            rows._delete(record_id)
