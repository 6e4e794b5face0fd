"""Likely duplicates (`crm duplicates`): groups of leads, contacts or accounts that share an
e-mail, a phone or a name, each with the merge command that would join them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmcli.domain.duplicates import ENTITIES, DuplicateGroup, group_duplicates
from crmcli.errors import UsageError
from crmcli.i18n import _

if TYPE_CHECKING:
    from crmcli.store.db import Database


def entity_kinds(entity: str | None) -> tuple[str, ...]:
    """The kinds to look at: `entity` (lead, contact or account), or all three when None."""
    if entity is None:
        return ENTITIES
    kind = entity.strip().lower()
    if kind not in ENTITIES:
        raise UsageError(
            _('--entity: "{entity}" is not one of {choices}').format(
                entity=entity, choices=", ".join(ENTITIES)
            )
        )
    return (kind,)


def find_duplicates(db: Database, *, entity: str | None = None) -> list[DuplicateGroup]:
    """The groups of likely duplicates of one kind (or of each kind, leads first), each
    oldest record first, in one read transaction."""
    kinds = entity_kinds(entity)
    with db.read() as uow:
        return [
            group
            for kind in kinds
            for group in group_duplicates(kind, uow.duplicates.matches(kind))
        ]
