"""`crm db copy`: move a whole database into another one, e.g. a personal file into the team's
PostgreSQL server, so a salesperson joins the team without retyping anything."""

from __future__ import annotations

from collections.abc import Callable

from crmcli.domain.records import record
from crmcli.errors import NotFound, ValidationError
from crmcli.i18n import _
from crmcli.store.db import Database
from crmcli.store.repos.dump import TABLES, held_records


@record
class CopyResult:
    """What `db copy` copied, from where to where (both safe to print)."""

    source: str
    target: str
    currency: str
    copied: dict[str, int]


def _quiet(_: str) -> None:
    return None


def copy_database(
    db: Database, target: str, *, notify: Callable[[str], None] = _quiet
) -> CopyResult:
    """Copy every record of `db` into the empty database `target`, ids kept, in one transaction.

    The target is created (or its schema brought up to date) first; it must hold no leads,
    accounts, contacts, deals or activities. Its stages are replaced by the source's, and it
    takes the source's currency. Reading happens in one snapshot of the source, writing in one
    transaction of the target: on any error the target is left without a single copied row.
    """
    if db.path is not None and not db.path.exists():
        raise NotFound(_("no database at {target}: nothing to copy").format(target=db.display))
    dest = Database(target, notify=notify, announce=False, actor=db.actor, command=db.command)
    if dest.display == db.display or (
        dest.path is not None and db.path is not None and dest.path.resolve() == db.path.resolve()
    ):
        raise ValidationError(_("--to names the database being copied: give another one"))
    try:
        with db.read() as source, dest.write() as out:
            held = held_records(out.dump.record_counts())
            if held:
                raise ValidationError(
                    _(
                        "{target} is not empty (it holds {records}): "
                        "db copy only fills a new, empty database"
                    ).format(target=dest.display, records=held)
                )
            rows = {entity: source.dump.dump_rows(entity) for entity in TABLES}
            copied = out.dump.restore(rows, currency=source.dump.currency())
            stored = out.dump.currency() or ""
            out.commit()
    finally:
        dest.dispose()
    return CopyResult(db.display, dest.display, stored, copied)
