"""Stages: the company's pipeline, in order, each with a default probability."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmcli.domain.models import Stage
from crmcli.errors import Duplicate, NotFound
from crmcli.i18n import _
from crmcli.store.ordering import By, Sorts, limited, order_by
from crmcli.store.repos.base import Repository

_STAGE_FIELDS = tuple(Stage.__dataclass_fields__)


def stage_of(row: Mapping[str, Any]) -> Stage:
    """A `Stage` from a stage row."""
    return Stage(**{f: row[f] for f in _STAGE_FIELDS})


_SORTS: Sorts = {
    "id": (),
    "name": (By("name_key", text=True),),
    "position": (By("position"),),
    "probability": (By("probability"),),
    "expected_days": (By("expected_days", null="expected_days"),),
}
"""How `stage list --sort` orders each field."""


class StageRepository(Repository):
    """The stage table: the company's pipeline."""

    table = "stage"
    kind = "stage"
    entity = "stage"

    def all(self) -> list[Stage]:
        """Every stage in pipeline order."""
        return [stage_of(r) for r in self._rows("ORDER BY position, id")]

    def list(
        self, *, limit: int | None = None, sort: str | None = None, reverse: bool = False
    ) -> list[Stage]:
        """The stages in pipeline order (or by `sort`, one of `sorting.SORT_FIELDS["stage"]`,
        `reverse`d), at most `limit`."""
        params: dict[str, Any] = {}
        rest = "ORDER BY position, id"
        if sort is not None or reverse:
            rest = order_by(self.dialect, _SORTS, sort or "position", reverse=reverse, tie="id")
        return [stage_of(r) for r in self._rows(limited(rest, limit, params), params)]

    def find(self, ref: str) -> Stage:
        """The stage an id or name refers to (case-insensitive, Unicode-aware), or NotFound."""
        row = self._resolve(ref)
        if row is None:
            names = ", ".join(f'"{s.name}"' for s in self.all())
            raise NotFound(
                _('no stage "{ref}" (stages: {stages})').format(ref=ref.strip(), stages=names)
            )
        return stage_of(row)

    def lock(self, *, share: bool = False) -> None:
        """Hold every stage's row lock until the transaction ends (see LeadRepository.get).

        Changes to the pipeline itself (add, rename, move, remove, default probability) take
        it first, so two of them never interleave on a server. `share` takes the weakest lock
        (FOR KEY SHARE), for moving a deal into a stage: moves do not wait for each other,
        only for a pipeline change, and always lock stages before the deal, in the order a
        pipeline change does, so the two can never deadlock.
        """
        lock = self.dialect.for_key_share if share else self.dialect.for_update
        if suffix := lock("stage"):
            self.conn.rows(f"SELECT id FROM stage ORDER BY id{suffix}")

    def add(self, values: Mapping[str, Any]) -> Stage:
        """Store a new stage (its normalised name must be new)."""
        if self._by_name(values["name"]) is not None:
            raise Duplicate(_('a stage named "{name}" already exists').format(name=values["name"]))
        new_id = self._insert(values)
        return next(s for s in self.all() if s.id == new_id)

    def update(self, stage: Stage, changes: Mapping[str, Any]) -> None:
        """Write `changes` to `stage`."""
        if "name" in changes:
            clash = self._by_name(changes["name"])
            if clash is not None and clash["id"] != stage.id:
                raise Duplicate(
                    _('a stage named "{name}" already exists').format(name=clash["name"])
                )
        self._update(stage.id, changes)

    def reorder(self, ordered_ids: Sequence[int]) -> None:
        """Give the stages positions 1..n in this order."""
        for position, stage_id in enumerate(ordered_ids, start=1):
            self._update(stage_id, {"position": position})

    def delete(self, stage_id: int) -> None:
        """Remove a stage; closed deals in it keep their history but lose the link."""
        self.uow.opps.unlink_stage(stage_id)
        self._delete(stage_id)
