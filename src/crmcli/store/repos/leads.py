"""Leads: one at a time, in bulk for imports, and the list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmcli.domain.models import Lead, LeadStatus, restore
from crmcli.domain.values import normalise_name
from crmcli.errors import Duplicate
from crmcli.i18n import _
from crmcli.store.repos.base import Repository
from crmcli.store.schema import COLUMNS, by_value, derived_keys, email_key, to_rows
from crmcli.store.sql import escape_like, in_list

_FIELDS = tuple(Lead.__dataclass_fields__)


def _extras(value: dict[str, str] | None) -> dict[str, str]:
    return dict(value or {})


_CONVERTERS = (("status", by_value(LeadStatus)), ("extras", _extras))
"""How `_records` builds a `Lead` (what `lead_of` does for one row)."""


def lead_of(row: Mapping[str, Any]) -> Lead:
    """A `Lead` from a lead row in domain form."""
    data = {f: row[f] for f in _FIELDS}
    data["status"] = LeadStatus(row["status"])
    data["extras"] = _extras(row["extras"])
    return restore(Lead, data)


class LeadRepository(Repository):
    """The lead table."""

    table = "lead"
    kind = "lead"
    entity = "lead"

    def get(self, lead_id: int, *, lock: bool = False) -> Lead:
        """The lead with this id, or NotFound.

        `lock` takes the row lock (SELECT … FOR UPDATE on PostgreSQL; SQLite's write
        transaction already excludes other writers) until the transaction ends, so a change
        decided on what was read here cannot race another writer's.
        """
        return lead_of(self._row(lead_id, lock=lock))

    def by_email(self, email: str) -> Lead | None:
        """The lead that has this (normalised) e-mail, if any."""
        found = self._rows("WHERE email_key = :e", {"e": email.lower()})
        return lead_of(found[0]) if found else None

    def by_emails(self, emails: Sequence[str]) -> dict[str, Lead]:
        """The leads whose normalised e-mail is one of `emails`, keyed by that e-mail."""
        if not emails:
            return {}
        params: dict[str, Any] = {}
        listed = in_list("e", sorted(set(emails)), params)
        return {
            r["email_key"]: lead_of(r) for r in self._rows(f"WHERE email_key IN ({listed})", params)
        }

    def add(self, values: Mapping[str, Any]) -> Lead:
        """Store a new lead (domain fields); Duplicate when another has its e-mail."""
        row = {**values, "extras": values.get("extras") or None}
        if not email_key(row.get("email")):
            return self.get(self._insert(row))
        new_id = self._insert_unless_taken(row, "email_key")
        if new_id is None:
            other = self.by_email(str(row["email"]))
            assert other is not None
            raise Duplicate(
                _('lead {id} ("{name}") already has the e-mail {email}').format(
                    id=other.id, name=other.name, email=str(row["email"]).lower()
                )
            )
        return self.get(new_id)

    def update(self, lead: Lead, changes: Mapping[str, Any]) -> Lead:
        """Write `changes` (domain fields) to `lead`, keeping the derived keys in step."""
        try:
            self._update(lead.id, changes)
        except Duplicate:
            raise Duplicate(
                _("another lead already has the e-mail {email}").format(email=changes.get("email"))
            ) from None
        return self.get(lead.id)

    def delete(self, lead_id: int) -> None:
        """Remove a lead for good, with its activities."""
        self.uow.activities.delete_linked("lead_id", lead_id)
        self._delete(lead_id)

    def add_many(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Insert many new leads (domain fields; a field a row lacks is NULL) in one statement.

        Returns the rows that were not inserted because another lead took their e-mail
        meanwhile (a concurrent import on PostgreSQL: ON CONFLICT DO NOTHING); on SQLite,
        where the caller looked the e-mails up under the write lock, always none. The journal
        records the ids stored, as ranges.
        """
        if not rows:
            return []
        given = {c for row in rows for c in row} | {"email", "extras"}
        given |= derived_keys("lead", dict.fromkeys(given, "")).keys()
        columns = [c for c in COLUMNS["lead"] if c in given]  # the table's order
        prepared: list[dict[str, Any]] = []
        for values in rows:
            row = dict.fromkeys(columns)
            row.update(values)
            row["extras"] = row["extras"] or None  # as a single insert stores no extras
            row.update(derived_keys("lead", row))
            prepared.append(row)
        stored = self.conn.insert_many(
            "lead",
            COLUMNS["lead"],
            to_rows(self.dialect, "lead", prepared),
            ("id", "email_key"),
            unique="email_key",
        )
        self.uow.journal.record_inserted("lead", [int(r[0]) for r in stored])
        kept = {r[1] for r in stored}
        return [
            values
            for values, row in zip(rows, prepared, strict=True)
            if row["email_key"] is not None and row["email_key"] not in kept
        ]

    def list(
        self,
        *,
        statuses: Sequence[str] | None = None,
        exclude_statuses: Sequence[str] = (),
        source: str | None = None,
        search: str | None = None,
        owner: str | None = None,
        limit: int | None = None,
    ) -> list[Lead]:
        """Leads matching every given filter, oldest first. Text filters match literally."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if statuses:
            where.append(f"status IN ({in_list('st', statuses, params)})")
        if exclude_statuses:
            where.append(f"status NOT IN ({in_list('xst', exclude_statuses, params)})")
        if source:
            where.append("source_key = :source")
            params["source"] = normalise_name(source)
        if owner:
            where.append("owner_key = :owner")
            params["owner"] = normalise_name(owner)
        if search:
            where.append("search_key LIKE :search ESCAPE '\\'")
            params["search"] = "%" + escape_like(normalise_name(search)) + "%"
        rest = "ORDER BY id"
        if limit is not None:
            rest += " LIMIT :limit"
            params["limit"] = int(limit)
        return self._records(Lead, where, params, rest, converters=_CONVERTERS)
