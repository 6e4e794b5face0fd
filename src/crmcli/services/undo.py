"""`crm undo`: revert one whole change set, as a change set of its own."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from crmcli.domain.models import Change
from crmcli.domain.records import record

if TYPE_CHECKING:
    from crmcli.store.db import Database


@record
class Undone:
    """What an undo reverted (or, with `dry_run`, would revert).

    Attributes:
        undone: the id of the change set reverted.
        command, actor, at: that change set's command line, who ran it, when (UTC).
        changes: what the undo itself does to each record (an undone insert is a delete…).
    """

    undone: int
    command: str
    actor: str | None
    at: datetime
    changes: list[Change]
    dry_run: bool


def undo(db: Database, change_set: int | None = None, *, dry_run: bool = False) -> Undone:
    """Revert `change_set` (default: the newest neither undone nor an undo) in one
    transaction; `dry_run` does all of it, then rolls it back."""
    with db.write() as uow:
        target = uow.undo.target(change_set)
        uow.undo.revert(target)
        changes = uow.journal.pending()
        if not dry_run:
            uow.commit()
        return Undone(
            undone=target.id,
            command=target.command,
            actor=target.actor,
            at=target.at,
            changes=changes,
            dry_run=dry_run,
        )
