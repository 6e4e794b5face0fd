"""Accounts and their contacts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crmcli.domain.models import Account, Contact, ContactType, restore
from crmcli.domain.values import normalise_name
from crmcli.errors import Duplicate
from crmcli.i18n import _
from crmcli.store.ordering import By, Sorts, limited, order_by
from crmcli.store.repos.base import MAX_CANDIDATES, Repository
from crmcli.store.schema import COLUMNS, derived_keys, email_key, tags_of, to_rows
from crmcli.store.sql import escape_like, in_list

if TYPE_CHECKING:
    from crmcli.store.repos.removal import Removed

_ACCOUNT_FIELDS = tuple(Account.__dataclass_fields__)
_CONTACT_FIELDS = tuple(Contact.__dataclass_fields__)


_ACCOUNT_SORTS: Sorts = {
    "id": (),
    "name": (By("name_key", text=True),),
    "industry": (By("industry", null="industry", text=True),),
    "created_at": (By("created_at"),),
}
"""How `account list --sort` orders each field."""

_CONTACT_SORTS: Sorts = {
    "id": (),
    "name": (By("name_key", text=True),),
    "email": (By("email_key", null="email_key", text=True),),
    "account": (
        By(
            "(SELECT account.name_key FROM account WHERE account.id = contact.account_id)",
            null="contact.account_id",
            text=True,
        ),
    ),
    "type": (By("type", text=True),),
    "created_at": (By("created_at"),),
}
"""How `contact list --sort` orders each field: an account by its folded name (contacts
without one last)."""


def account_of(row: Mapping[str, Any]) -> Account:
    """An `Account` from an account row in domain form."""
    data = {f: row[f] for f in _ACCOUNT_FIELDS}
    data["tags"] = tags_of(row["tags"])
    return restore(Account, data)


def contact_of(row: Mapping[str, Any]) -> Contact:
    """A `Contact` from a contact row in domain form."""
    data = {f: row[f] for f in _CONTACT_FIELDS}
    data["type"] = ContactType(row["type"])
    data["tags"] = tags_of(row["tags"])
    return restore(Contact, data)


class _Bulk(Repository):
    def _ids_by(self, key: str, values: Iterable[str]) -> dict[str, int]:
        """The ids of the rows whose unique `key` column holds one of `values`, by value."""
        wanted = sorted(values)
        if not wanted:
            return {}
        params: dict[str, Any] = {}
        listed = in_list("k", wanted, params)
        sql = f"SELECT {key}, id FROM {self.table} WHERE {key} IN ({listed})"
        return {str(k): int(i) for k, i in self.conn.rows(sql, params)}

    def _store_missing(self, key: str, missing: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Store the rows (domain values with their keys) in one statement; their ids by key."""
        if not missing:
            return {}
        rows = to_rows(self.dialect, self.table, missing)
        stored = self.conn.insert_many(
            self.table, COLUMNS[self.table], rows, (key, "id"), unique=key
        )
        self.uow.journal.record_inserted(self.entity, [int(i) for _, i in stored])
        return {str(k): int(i) for k, i in stored}


class AccountRepository(_Bulk):
    """The account table."""

    table = "account"
    kind = "account"
    entity = "account"

    def get(self, account_id: int) -> Account:
        """The account with this id, or NotFound."""
        return account_of(self._row(account_id))

    def find(self, ref: str, *, exact_only: bool = False) -> Account | None:
        """The account an id or name refers to, None if no name matches."""
        row = self._resolve(ref, exact_only=exact_only)
        return account_of(row) if row else None

    def by_name(self, name: str) -> Account | None:
        """The account with exactly this name (compared by name key), never read as an id."""
        row = self._by_name(name)
        return account_of(row) if row else None

    def starting_with(self, text: str) -> list[Account]:
        """Accounts whose normalised name starts with `text`'s (at most a few)."""
        params = {"p": escape_like(normalise_name(text)) + "%", "n": MAX_CANDIDATES}
        rows = self._rows("WHERE name_key LIKE :p ESCAPE '\\' ORDER BY id LIMIT :n", params)
        return [account_of(r) for r in rows]

    def add(self, values: Mapping[str, Any]) -> Account:
        """Store a new account (its normalised name must be new)."""
        account, created = self.find_or_add(values)
        if not created:
            raise Duplicate(
                _('account "{name}" already exists (id {id})').format(
                    name=account.name, id=account.id
                )
            )
        return account

    def find_or_add(self, values: Mapping[str, Any]) -> tuple[Account, bool]:
        """The account with this normalised name, stored first if none has it; (account, new).

        Never duplicates an account, even when two writers create the same one at once on
        PostgreSQL (ON CONFLICT on the unique name key): the later one reuses it.
        """
        new_id = self._insert_unless_taken(values, "name_key")
        if new_id is not None:
            return self.get(new_id), True
        found = self._rows("WHERE name_key = :k", {"k": normalise_name(values["name"])})
        return account_of(found[0]), False

    def ids_find_or_add(self, names: Sequence[str], at: datetime) -> dict[str, int]:
        """The ids of the accounts with these names, by name key; those no account has yet are
        stored first (created `at`), in the order given, the first spelling of a key winning.

        Never duplicates an account, even when another writer creates the same one at once on
        PostgreSQL (ON CONFLICT on the unique name key): that one is used.
        """
        wanted: dict[str, str] = {}
        for name in names:
            wanted.setdefault(normalise_name(name), name)
        found = self._ids_by("name_key", wanted)
        missing = [
            {"name": name, **derived_keys("account", {"name": name}), "created_at": at}
            for key, name in wanted.items()
            if key not in found
        ]
        found.update(self._store_missing("name_key", missing))
        found.update(self._ids_by("name_key", wanted.keys() - found.keys()))
        return found

    def update(self, account: Account, changes: Mapping[str, Any]) -> Account:
        """Write `changes` to `account`."""
        if "name" in changes:
            clash = self.by_name(changes["name"])
            if clash is not None and clash.id != account.id:
                raise Duplicate(
                    _('account "{name}" already exists (id {id})').format(
                        name=clash.name, id=clash.id
                    )
                )
        self._update(account.id, changes)
        return self.get(account.id)

    def list(
        self,
        *,
        search: str | None = None,
        tags: Sequence[str] = (),
        limit: int | None = None,
        sort: str | None = None,
        reverse: bool = False,
    ) -> list[Account]:
        """Accounts by name (or by `sort`, one of `sorting.SORT_FIELDS["account"]`,
        `reverse`d), at most `limit`."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if search:
            where.append("name_key LIKE :p ESCAPE '\\'")
            params["p"] = "%" + escape_like(normalise_name(search)) + "%"
        where += self._tagged(tags, params)
        rest = f"ORDER BY {self.dialect.text_order('name_key')}, id"
        if sort is not None or reverse:
            rest = order_by(self.dialect, _ACCOUNT_SORTS, sort or "name", reverse=reverse, tie="id")
        rest = limited(rest, limit, params)
        return [account_of(r) for r in self._filtered(where, params, rest)]

    def dependents(self, account_id: int) -> dict[str, int]:
        """How many contacts, deals, activities and leads point at the account, by entity
        (`contact opportunity activity lead`), its row lock taken first so none is added
        before a delete decided on these counts."""
        from crmcli.store.repos.removal import Remover

        remover = Remover(self.uow)
        remover.lock(self.entity, account_id)
        return remover.dependents(self.entity, account_id)

    def delete(self, account_id: int) -> Removed:
        """Remove the account for good with its deals, contacts (as `ContactRepository.delete`
        removes them) and activities; leads pointing at it are unlinked. Each row journaled."""
        from crmcli.store.repos.removal import Remover

        return Remover(self.uow).remove(self.entity, account_id)


class ContactRepository(_Bulk):
    """The contact table."""

    table = "contact"
    kind = "contact"
    entity = "contact"

    def get(self, contact_id: int) -> Contact:
        """The contact with this id, or NotFound."""
        return contact_of(self._row(contact_id))

    def find(self, ref: str) -> Contact | None:
        """The contact an id, e-mail or unambiguous name refers to."""
        row = self._resolve(ref, extra_key="email_key")
        return contact_of(row) if row else None

    def by_email(self, email: str) -> Contact | None:
        """The contact with this (normalised) e-mail, if any."""
        found = self._rows("WHERE email_key = :e", {"e": email.lower()})
        return contact_of(found[0]) if found else None

    def add(self, values: Mapping[str, Any]) -> Contact:
        """Store a new contact (its e-mail, if any, must be new)."""
        key = email_key(values.get("email"))
        if not key:
            return self.get(self._insert(values))
        new_id = self._insert_unless_taken(values, "email_key")
        if new_id is None:
            raise Duplicate(_("a contact with the e-mail {email} already exists").format(email=key))
        return self.get(new_id)

    def ids_find_or_add(self, contacts: Sequence[tuple[str, int]], at: datetime) -> dict[str, int]:
        """The ids of the contacts with these (normalised) e-mails, by e-mail; each of the
        (e-mail, account id) pairs no contact has yet is stored first as a prospect of that
        account named by its e-mail, in the order given (see AccountRepository.ids_find_or_add)."""
        wanted: dict[str, tuple[str, int]] = {}
        for email, account_id in contacts:
            wanted.setdefault(email.lower(), (email, account_id))
        found = self._ids_by("email_key", wanted)
        missing = [
            {
                "name": email,
                "email": email,
                **derived_keys("contact", {"name": email, "email": email}),
                "account_id": account_id,
                "type": ContactType.PROSPECT.value,
                "created_at": at,
            }
            for key, (email, account_id) in wanted.items()
            if key not in found
        ]
        found.update(self._store_missing("email_key", missing))
        found.update(self._ids_by("email_key", wanted.keys() - found.keys()))
        return found

    def update(self, contact: Contact, changes: Mapping[str, Any]) -> Contact:
        """Write `changes` to `contact`."""
        if "email" in changes:
            key = email_key(changes["email"])
            clash = self.by_email(key) if key else None
            if clash is not None and clash.id != contact.id:
                raise Duplicate(
                    _("contact {id} already has the e-mail {email}").format(id=clash.id, email=key)
                )
        self._update(contact.id, changes)
        return self.get(contact.id)

    def list(
        self,
        *,
        account_id: int | None = None,
        type_: str | None = None,
        tags: Sequence[str] = (),
        limit: int | None = None,
        sort: str | None = None,
        reverse: bool = False,
    ) -> list[Contact]:
        """Contacts by name (or by `sort`, one of `sorting.SORT_FIELDS["contact"]`,
        `reverse`d), at most `limit`, optionally of one account or one relationship type."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if account_id is not None:
            where.append("account_id = :a")
            params["a"] = account_id
        if type_:
            where.append("type = :t")
            params["t"] = type_
        where += self._tagged(tags, params)
        rest = f"ORDER BY {self.dialect.text_order('name_key')}, id"
        if sort is not None or reverse:
            rest = order_by(self.dialect, _CONTACT_SORTS, sort or "name", reverse=reverse, tie="id")
        rest = limited(rest, limit, params)
        return [contact_of(r) for r in self._filtered(where, params, rest)]

    def delete(self, contact_id: int) -> Removed:
        """Remove the contact for good with its activities; the deals and leads pointing at it
        are unlinked (contact_id NULL). Each row journaled."""
        from crmcli.store.repos.removal import Remover

        return Remover(self.uow).remove(self.entity, contact_id)
