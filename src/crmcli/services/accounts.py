"""Account and contact use cases."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any

from crmcli import clock
from crmcli.domain.models import (
    Account,
    Activity,
    Contact,
    ContactType,
    LeadStatus,
    Opportunity,
    Party,
)
from crmcli.domain.records import record
from crmcli.domain.values import clean_text, normalise_email
from crmcli.errors import Ambiguous, InvalidTransition, NotFound, ValidationError
from crmcli.i18n import N_, _, ngettext
from crmcli.services.common import new_tags, required_name, retag
from crmcli.store.db import Database
from crmcli.store.uow import UnitOfWork

if TYPE_CHECKING:
    from crmcli.store.repos.removal import Removed

ACCOUNT_FIELDS = ("name", "industry", "website", "phone", "notes")
CONTACT_FIELDS = ("name", "email", "phone", "title", "notes")


def _clean(fields: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if key not in allowed:
            raise ValidationError(_("{field}: not a field that can be set here").format(field=key))
        if key == "name":
            out[key] = required_name(value)
        elif key == "email":
            out[key] = normalise_email(value) if value.strip() else None
        else:
            out[key] = clean_text(value, field=key)
    return out


@record
class AccountFound:
    """An account looked up for a command, and whether the lookup created it."""

    account: Account
    created: bool


def find_or_create_account(uow: UnitOfWork, ref: str) -> AccountFound:
    """The account an id or exact name refers to, created when the name is new."""
    account = uow.accounts.find(ref, exact_only=True)
    if account is not None:
        return AccountFound(account, created=False)
    similar = uow.accounts.starting_with(ref)
    if similar:
        listed = "; ".join(f"{a.id} {a.name}" for a in similar)
        raise Ambiguous(
            _(
                'no account is named exactly "{name}", but some start so: {accounts} '
                "(use the id or the full name, or create it first with `crm account add`)"
            ).format(name=ref.strip(), accounts=listed)
        )
    name = required_name(ref, field="account")
    account, created = uow.accounts.find_or_add({"name": name, "created_at": clock.utcnow()})
    return AccountFound(account, created)


def find_account(uow: UnitOfWork, ref: str) -> Account:
    """The account an id or unambiguous name refers to, or NotFound."""
    account = uow.accounts.find(ref)
    if account is None:
        raise NotFound(_('no account "{ref}"').format(ref=ref.strip()))
    return account


def find_contact(uow: UnitOfWork, ref: str) -> Contact:
    """The contact an id, e-mail or unambiguous name refers to, or NotFound."""
    contact = uow.contacts.find(ref)
    if contact is None:
        raise NotFound(_('no contact "{ref}"').format(ref=ref.strip()))
    return contact


def add_account(db: Database, name: str, *, tags: Sequence[str] = (), **fields: Any) -> Account:
    """Record a new company; refuses a name that normalises to an existing one."""
    values = {**_clean({"name": name, **fields}, ACCOUNT_FIELDS), "tags": new_tags(tags)}
    with db.write() as uow:
        result = uow.accounts.add({**values, "created_at": clock.utcnow()})
        uow.commit()
        return result


def list_accounts(
    db: Database,
    *,
    search: str | None = None,
    tags: Sequence[str] = (),
    limit: int | None = None,
    sort: str | None = None,
    reverse: bool = False,
) -> list[Account]:
    """Accounts by name (or by `sort`, a field of `sorting.SORT_FIELDS`, `reverse`d), at
    most `limit`."""
    with db.read() as uow:
        return uow.accounts.list(search=search, tags=tags, limit=limit, sort=sort, reverse=reverse)


@record
class AccountDetail:
    """An account with its contacts, deals and activities (and whom each one is for)."""

    account: Account
    contacts: list[Contact]
    opportunities: list[Opportunity]
    activities: list[Activity] = field(default_factory=list)
    parties: dict[int, Party] = field(default_factory=dict)


def show_account(db: Database, ref: str) -> AccountDetail:
    """An account, its contacts, its deals, and the activities on any of them."""
    with db.read() as uow:
        account = find_account(uow, ref)
        activities = uow.activities.around(account_id=account.id)
        return AccountDetail(
            account,
            uow.contacts.list(account_id=account.id),
            uow.opps.list(account_id=account.id),
            activities,
            uow.activities.parties(activities),
        )


@record
class ContactDetail:
    """A contact with their deals and activities (and whom each activity is for)."""

    contact: Contact
    opportunities: list[Opportunity]
    activities: list[Activity]
    parties: dict[int, Party]


def show_contact(db: Database, ref: str) -> ContactDetail:
    """A contact, the deals they are the contact of, and the activities on them, naming them,
    or on those deals."""
    with db.read() as uow:
        contact = find_contact(uow, ref)
        activities = uow.activities.around(contact_id=contact.id)
        return ContactDetail(
            contact,
            uow.opps.list(contact_id=contact.id),
            activities,
            uow.activities.parties(activities),
        )


def edit_account(
    db: Database, ref: str, *, tag: Sequence[str] = (), untag: Sequence[str] = (), **fields: Any
) -> Account:
    """Change an account's details; `tag`/`untag` add and remove tags."""
    changes = _clean(fields, ACCOUNT_FIELDS)
    if not changes and not tag and not untag:
        raise ValidationError(_("nothing to change: give at least one option"))
    with db.write() as uow:
        account = find_account(uow, ref)
        changes.update(retag(account.tags, tag, untag))
        if not changes:
            return account
        result = uow.accounts.update(account, changes)
        uow.commit()
        return result


@record
class ContactAdded:
    """A new contact, and the account created for it if there was none."""

    contact: Contact
    created_account: Account | None


def _contact_type(value: str | ContactType | None) -> ContactType | None:
    if value is None or isinstance(value, ContactType):
        return value
    try:
        return ContactType(value.strip().lower())
    except ValueError:
        names = ", ".join(t.value for t in ContactType)
        raise ValidationError(
            _('type: "{value}" is not one of {types}').format(value=value, types=names)
        ) from None


def add_contact(
    db: Database,
    name: str,
    *,
    account: str | None = None,
    type_: str | ContactType | None = None,
    tags: Sequence[str] = (),
    **fields: Any,
) -> ContactAdded:
    """Record a new person; an account named that does not exist yet is created."""
    values = {**_clean({"name": name, **fields}, CONTACT_FIELDS), "tags": new_tags(tags)}
    kind = _contact_type(type_) or ContactType.PROSPECT
    with db.write() as uow:
        found = find_or_create_account(uow, account) if account else None
        contact = uow.contacts.add(
            {
                **values,
                "type": kind.value,
                "account_id": found.account.id if found else None,
                "created_at": clock.utcnow(),
            }
        )
        result = ContactAdded(contact, found.account if found and found.created else None)
        uow.commit()
        return result


def list_contacts(
    db: Database,
    *,
    account: str | None = None,
    type_: str | None = None,
    tags: Sequence[str] = (),
    limit: int | None = None,
    sort: str | None = None,
    reverse: bool = False,
) -> list[Contact]:
    """Contacts by name (or by `sort`, a field of `sorting.SORT_FIELDS`, `reverse`d), at
    most `limit`, optionally of one account or one relationship type."""
    kind = _contact_type(type_)
    with db.read() as uow:
        account_id = find_account(uow, account).id if account else None
        return uow.contacts.list(
            account_id=account_id,
            type_=kind.value if kind else None,
            tags=tags,
            limit=limit,
            sort=sort,
            reverse=reverse,
        )


def get_contact(db: Database, ref: str) -> Contact:
    """One contact by id, e-mail or unambiguous name."""
    with db.read() as uow:
        return find_contact(uow, ref)


def edit_contact(
    db: Database,
    ref: str,
    *,
    account: str | None = None,
    type_: str | None = None,
    tag: Sequence[str] = (),
    untag: Sequence[str] = (),
    **fields: Any,
) -> ContactAdded:
    """Change a contact's details, account or relationship type; `tag`/`untag` add and
    remove tags."""
    changes = _clean(fields, CONTACT_FIELDS)
    kind = _contact_type(type_)
    if kind is not None:
        changes["type"] = kind.value
    with db.write() as uow:
        contact = find_contact(uow, ref)
        found = find_or_create_account(uow, account) if account else None
        if found is not None:
            changes["account_id"] = found.account.id
        changes.update(retag(contact.tags, tag, untag))
        if not changes:
            if tag or untag:
                return ContactAdded(contact, None)
            raise ValidationError(_("nothing to change: give at least one option"))
        updated = uow.contacts.update(contact, changes)
        result = ContactAdded(updated, found.account if found and found.created else None)
        uow.commit()
        return result


# -- deleting --------------------------------------------------------------------------------


@record
class Removal:
    """What deleting an account, a contact or a deal removes and unlinks: the result of the
    delete, and (with `dry_run`) the preview shown before asking.

    Attributes:
        entity: `account`, `contact` or `opportunity`.
        record: the record deleted, as it was.
        deleted: the ids of the other records deleted with it, by journal entity: `contact`,
            `opportunity`, `history` (stage history rows) and `activity`, each in the order
            they went (every key present).
        unlinked: the ids of the records that stay but no longer point at what went, by
            entity: `opportunity` (its contact cleared) and `lead` (its account, contact or
            deal cleared; a converted lead stays converted).
        converted_leads: how many of the unlinked leads are converted ones.
        dry_run: True for a preview: nothing was written.
    """

    entity: str
    record: Account | Contact | Opportunity
    deleted: Mapping[str, tuple[int, ...]]
    unlinked: Mapping[str, tuple[int, ...]]
    converted_leads: int
    dry_run: bool

    def same_effect(self, other: Removal) -> bool:
        """True when `other` deletes and unlinks exactly what this one does."""
        return (self.entity, self.record.id, self.deleted, self.unlinked) == (
            other.entity,
            other.record.id,
            other.deleted,
            other.unlinked,
        )


_CHANGED = {
    "account": N_(
        'account {id} "{name}" changed since the question (what else it takes is not what was'
        " shown): nothing was deleted; run the command again"
    ),
    "contact": N_(
        'contact {id} "{name}" changed since the question (what else it takes is not what was'
        " shown): nothing was deleted; run the command again"
    ),
    "opportunity": N_(
        'opportunity {id} "{name}" changed since the question (what else it takes is not what'
        " was shown): nothing was deleted; run the command again"
    ),
}
"""The refusal of a delete whose preview no longer holds, by entity."""


def _still_has(account: Account, contacts: int, deals: int) -> str:
    """Why an account with contacts or deals is not deleted without --cascade."""
    if contacts and deals:
        text = _(
            'account {id} "{name}" still has {contacts} and {deals}: use --cascade to delete'
            " them too"
        )
        return text.format(
            id=account.id,
            name=account.name,
            contacts=ngettext("{count} contact", "{count} contacts", contacts).format(
                count=contacts
            ),
            deals=ngettext("{count} deal", "{count} deals", deals).format(count=deals),
        )
    if contacts:
        text = ngettext(
            'account {id} "{name}" still has {count} contact: use --cascade to delete it too',
            'account {id} "{name}" still has {count} contacts: use --cascade to delete them too',
            contacts,
        )
        return text.format(id=account.id, name=account.name, count=contacts)
    text = ngettext(
        'account {id} "{name}" still has {count} deal: use --cascade to delete it too',
        'account {id} "{name}" still has {count} deals: use --cascade to delete them too',
        deals,
    )
    return text.format(id=account.id, name=account.name, count=deals)


def removal(
    uow: UnitOfWork,
    entity: str,
    record: Account | Contact | Opportunity,
    remove: Callable[[int], Removed],
    *,
    dry_run: bool,
    expected: Removal | None,
) -> Removal:
    """Run `remove(record.id)` (a repository's `delete`) and say what it did; commit unless
    `dry_run`. With `expected` (the preview a person confirmed), a delete that would now remove
    or unlink anything else is refused and nothing is written."""
    removed = remove(record.id)
    unlinked_leads = removed.unlinked["lead"]
    done = Removal(
        entity=entity,
        record=record,
        deleted={k: tuple(v) for k, v in removed.deleted.items()},
        unlinked={k: tuple(v) for k, v in removed.unlinked.items()},
        converted_leads=sum(
            1 for i in unlinked_leads if uow.leads.get(i).status is LeadStatus.CONVERTED
        ),
        dry_run=dry_run,
    )
    if expected is not None and not done.same_effect(expected):
        raise InvalidTransition(_(_CHANGED[entity]).format(id=record.id, name=record.name))
    if not dry_run:
        uow.commit()
    return done


def delete_account(
    db: Database,
    ref: str,
    *,
    cascade: bool = False,
    dry_run: bool = False,
    expected: Removal | None = None,
) -> Removal:
    """Remove an account for good, in one change set: its activities go and the leads pointing
    at it are unlinked. One that still has contacts or deals is refused unless `cascade`, which
    deletes them too (each as `delete_contact` / `delete_opportunity` would). `dry_run` does
    all of it, then rolls it back (the preview); see `removal` for `expected`."""
    with db.write() as uow:
        account = find_account(uow, ref)
        counts = uow.accounts.dependents(account.id)
        contacts, deals = counts.get("contact", 0), counts.get("opportunity", 0)
        if not cascade and (contacts or deals):
            raise InvalidTransition(_still_has(account, contacts, deals))
        return removal(
            uow,
            "account",
            account,
            uow.accounts.delete,
            dry_run=dry_run,
            expected=expected,
        )


def delete_contact(
    db: Database, ref: str, *, dry_run: bool = False, expected: Removal | None = None
) -> Removal:
    """Remove a contact for good, in one change set: its activities go; the deals and leads
    pointing at it stay, unlinked. `dry_run` and `expected` as for `delete_account`."""
    with db.write() as uow:
        contact = find_contact(uow, ref)
        return removal(
            uow, "contact", contact, uow.contacts.delete, dry_run=dry_run, expected=expected
        )
