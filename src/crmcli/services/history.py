"""The journal, read back: what each command changed (`crm history`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmcli.domain.models import ChangeSet
from crmcli.errors import UsageError
from crmcli.i18n import _

if TYPE_CHECKING:
    from crmcli.store.db import Database

ENTITIES = ("lead", "account", "contact", "opportunity", "activity", "stage")
"""The kinds of record a change set lists (`crm history --for ENTITY ID`)."""

_ALIASES = {"opp": "opportunity"}


def entity_name(text: str) -> str:
    """A record kind as typed (`opp` for opportunity), or a UsageError naming the kinds."""
    name = _ALIASES.get(text.strip().lower(), text.strip().lower())
    if name not in ENTITIES:
        raise UsageError(
            _('--for: "{value}" is not one of {choices}').format(
                value=text, choices=", ".join(ENTITIES)
            )
        )
    return name


def history(
    db: Database, *, limit: int | None = None, record: tuple[str, int] | None = None
) -> list[ChangeSet]:
    """Change sets, newest first; `record` (entity, id) keeps those that touched it."""
    if record is not None:
        record = (entity_name(record[0]), record[1])
    with db.read() as uow:
        return uow.journal.change_sets(limit=limit, record=record)
