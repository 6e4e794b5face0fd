"""`crm lead|contact|account merge KEEP OTHER…`: join duplicates into the record kept.

One unit of work: take the row locks, combine the values (`domain/merge.py`), move every link
to an OTHER onto KEEP, delete the OTHERs, then write KEEP (after the deletes, so KEEP may take
an OTHER's unique e-mail). One change set, so `crm undo` gives everything back. A dry run does
all of it and rolls it back: what it shows is exactly what the merge would do. See
docs/design.md, "Merging records".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from crmcli import clock
from crmcli.domain.merge import Pick, Side, combine
from crmcli.domain.models import Account, Contact, Lead, LeadStatus
from crmcli.domain.records import record
from crmcli.errors import InvalidTransition, UsageError
from crmcli.i18n import N_, _
from crmcli.services.accounts import find_account, find_contact

if TYPE_CHECKING:
    from crmcli.store.db import Database
    from crmcli.store.uow import UnitOfWork

LEAD_FIELDS = (
    "name",
    "email",
    "phone",
    "company",
    "title",
    "source",
    "budget",
    "timeline",
    "owner",
)
"""The lead fields a merge fills (KEEP's value, else the first OTHER's); with notes and
extras. Status, disqualify reason and conversion links stay KEEP's."""

LEAD_RECORDED = ("disqualify_reason",)
"""Lead fields never filled whose differing OTHER values still go to the notes line."""

CONTACT_FIELDS = ("name", "email", "phone", "title", "account_id", "type")
ACCOUNT_FIELDS = ("name", "industry", "website", "phone")


@record
class Merge:
    """What a merge did (or, with `dry_run`, would do).

    Attributes:
        entity: lead, contact or account.
        kept: KEEP's id; removed: the OTHERs' ids, in the order given.
        fields: each merged field with its value and where it came from (None: KEEP).
        moved: how many links moved to KEEP, by kind (activities, deals, contacts, leads).
        record: KEEP as it is after the merge.
    """

    entity: str
    kept: int
    removed: list[int]
    fields: list[Pick]
    moved: dict[str, int]
    record: Lead | Contact | Account
    dry_run: bool = False


def _values(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


_REFUSALS = {
    "lead": (
        N_("lead merge: name at least one lead to merge into {keep}"),
        N_("lead {id} is both the one kept and one to merge into it: name each once"),
        N_("lead {id} is named twice: name each lead once"),
    ),
    "contact": (
        N_("contact merge: name at least one contact to merge into {keep}"),
        N_("contact {id} is both the one kept and one to merge into it: name each once"),
        N_("contact {id} is named twice: name each contact once"),
    ),
    "account": (
        N_("account merge: name at least one account to merge into {keep}"),
        N_("account {id} is both the one kept and one to merge into it: name each once"),
        N_("account {id} is named twice: name each account once"),
    ),
}
"""What `_distinct` refuses, by entity (English, translated where raised): no OTHER, KEEP
among the OTHERs, an OTHER named twice."""


def _distinct(entity: str, keep: int, others: Sequence[int]) -> None:
    """UsageError when KEEP is among the OTHERs or an OTHER is named twice."""
    none, kept_too, twice = _REFUSALS[entity]
    if not others:
        raise UsageError(_(none).format(keep=keep))
    seen: set[int] = set()
    for other in others:
        if other == keep:
            raise UsageError(_(kept_too).format(id=keep))
        if other in seen:
            raise UsageError(_(twice).format(id=other))
        seen.add(other)


def _finish(
    uow: UnitOfWork,
    entity: str,
    keep: Any,
    others: Sequence[Any],
    merged_fields: Sequence[str],
    recorded: Sequence[str] = (),
) -> tuple[list[Pick], dict[str, int], dict[str, Any]]:
    """Combine, move the links, delete the OTHERs: the picks, the moves and KEEP's changes."""
    combined = combine(
        entity,
        Side(keep.id, _values(keep)),
        [Side(o.id, _values(o)) for o in others],
        merged_fields,
        recorded=recorded,
    )
    ids = [o.id for o in others]
    moved = uow.merge.move_links(entity, ids, keep.id)
    uow.merge.remove(entity, ids)
    return list(combined.picks), moved, combined.changes


def _done(uow: UnitOfWork, result: Merge) -> Merge:
    if not result.dry_run:
        uow.commit()
    return result


def merge_leads(
    db: Database, keep: int | str, others: Sequence[int | str], *, dry_run: bool = False
) -> Merge:
    """Merge the OTHER leads into KEEP (each by id or e-mail); a converted OTHER is refused
    (only KEEP may be)."""
    if isinstance(keep, str) or any(isinstance(o, str) for o in others):
        with db.read() as uow:  # e-mails to ids; the merge then locks and reads them by id
            keep, others = uow.leads.find(keep).id, [uow.leads.find(o).id for o in others]
    assert isinstance(keep, int)
    ids = [o for o in others if isinstance(o, int)]
    _distinct("lead", keep, ids)
    others = ids
    with db.write() as uow:
        uow.merge.lock_all("lead", [keep, *others])
        kept = uow.leads.get(keep)
        merged = [uow.leads.get(i) for i in others]
        for other in merged:
            if other.status is LeadStatus.CONVERTED:
                raise InvalidTransition(
                    _("lead {id} is converted: only the lead kept may be converted").format(
                        id=other.id
                    )
                )
        picks, moved, changes = _finish(uow, "lead", kept, merged, LEAD_FIELDS, LEAD_RECORDED)
        if changes:
            kept = uow.leads.update(kept, {**changes, "updated_at": clock.utcnow()})
        result = Merge("lead", keep, list(others), picks, moved, kept, dry_run)
        return _done(uow, result)


def merge_contacts(
    db: Database, keep: str, others: Sequence[str], *, dry_run: bool = False
) -> Merge:
    """Merge the OTHER contacts (ids, e-mails or names) into KEEP."""
    return _merge_named(db, "contact", keep, others, dry_run=dry_run)


def merge_accounts(
    db: Database, keep: str, others: Sequence[str], *, dry_run: bool = False
) -> Merge:
    """Merge the OTHER accounts (ids or names) into KEEP: their contacts, deals, activities
    and converted leads move to KEEP (two deals of one name may then share an account)."""
    return _merge_named(db, "account", keep, others, dry_run=dry_run)


def _merge_named(
    db: Database, entity: str, keep: str, others: Sequence[str], *, dry_run: bool
) -> Merge:
    """A contact or account merge: the records are named by id or name, as elsewhere."""
    find = find_contact if entity == "contact" else find_account
    fields_ = CONTACT_FIELDS if entity == "contact" else ACCOUNT_FIELDS
    with db.write() as uow:
        repo = uow.contacts if entity == "contact" else uow.accounts
        keep_id = find(uow, keep).id
        ids = [find(uow, ref).id for ref in others]
        _distinct(entity, keep_id, ids)
        uow.merge.lock_all(entity, [keep_id, *ids])
        kept: Any = repo.get(keep_id)
        merged = [repo.get(i) for i in ids]
        picks, moved, changes = _finish(uow, entity, kept, merged, fields_)
        if "type" in changes:  # a contact's relationship type is stored by its value
            changes["type"] = changes["type"].value
        if changes:
            kept = repo.update(kept, changes)
        return _done(uow, Merge(entity, keep_id, ids, picks, moved, kept, dry_run))
