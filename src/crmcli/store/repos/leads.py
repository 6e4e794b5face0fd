"""Leads: one at a time, in bulk for imports, and the list."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from crmcli.domain.models import Lead, LeadStatus, restore
from crmcli.domain.values import normalise_name
from crmcli.errors import Duplicate, NotFound
from crmcli.i18n import _
from crmcli.store.ordering import By, Sorts, case_rank, limited, order_by
from crmcli.store.repos.base import BATCH, Repository
from crmcli.store.schema import (
    COLUMNS,
    by_value,
    derived_keys,
    email_key,
    new_lead_keys,
    storers,
    tags_of,
)
from crmcli.store.sql import Dialect, escape_like, in_list

_FIELDS = tuple(Lead.__dataclass_fields__)
INSERT_CHUNK = 500
"""Rows of `add_many` put in storage form and inserted together (an import's batch of 2,000
is dedupe-checked at once, then inserted in chunks of this many)."""
_KEYED = frozenset(("name", "email", "company", "phone", "tags", "notes", "owner", "source"))
"""The columns `new_lead_keys` reads: a bulk insert that gives them all takes that path."""


def _extras(value: dict[str, str] | None) -> dict[str, str]:
    return dict(value or {})


_CONVERTERS = (("status", by_value(LeadStatus)), ("extras", _extras), ("tags", tags_of))
"""How `_records` builds a `Lead` (what `lead_of` does for one row)."""


def _sorts(dialect: Dialect) -> Sorts:
    """How `lead list --sort` orders each field: names and companies by their folded keys
    (parts of `search_key`), statuses in their life-cycle order."""
    return {
        "id": (),
        "name": (By(dialect.key_part("search_key", 1), text=True),),
        "company": (By(dialect.key_part("search_key", 3), null="company", text=True),),
        "email": (By("email_key", null="email_key", text=True),),
        "status": (By(case_rank("status", [s.value for s in LeadStatus])),),
        "source": (By("source_key", null="source_key", text=True),),
        "budget": (By("budget", null="budget"),),
        "timeline": (By("timeline", null="timeline"),),
        "owner": (By("owner_key", null="owner_key", text=True),),
        "created_at": (By("created_at"),),
    }


def lead_of(row: Mapping[str, Any]) -> Lead:
    """A `Lead` from a lead row in domain form."""
    data = {f: row[f] for f in _FIELDS}
    data["status"] = LeadStatus(row["status"])
    data["extras"] = _extras(row["extras"])
    data["tags"] = tags_of(row["tags"])
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

    def find(self, ref: int | str, *, lock: bool = False) -> Lead:
        """The lead `ref` names, or NotFound: an int is its id, a text its e-mail (matched by
        the e-mail key, case-insensitively). `lock` as in `get`."""
        if isinstance(ref, int):
            return self.get(ref, lock=lock)
        suffix = self.dialect.for_update(self.table) if lock else ""
        found = self._rows(f"WHERE email_key = :e{suffix}", {"e": ref.strip().lower()})
        if not found:
            raise NotFound(_("no lead with the e-mail {email}").format(email=ref.strip()))
        return lead_of(found[0])

    def find_many(self, refs: Sequence[int | str], *, lock: bool = False) -> list[Lead | NotFound]:
        """`find` of each ref, in their order, in two queries (ids, e-mails) per batch: each a
        lead or the NotFound `find` would raise. An id beyond 64 bits is an OverflowError."""
        ids = [r for r in refs if isinstance(r, int)]
        by_id = {i: lead_of(row) for i, row in self._rows_by_id(ids, lock=lock).items()}
        emails = sorted({r.strip().lower() for r in refs if isinstance(r, str)})
        by_email: dict[str, Lead] = {}
        suffix = self.dialect.for_update(self.table) if lock else ""
        for start in range(0, len(emails), BATCH):
            params: dict[str, Any] = {}
            listed = in_list("e", emails[start : start + BATCH], params)
            for row in self._rows(f"WHERE email_key IN ({listed}){suffix}", params):
                by_email[row["email_key"]] = lead_of(row)
        found: list[Lead | NotFound] = []
        for ref in refs:
            lead = by_id.get(ref) if isinstance(ref, int) else by_email.get(ref.strip().lower())
            if lead is not None:
                found.append(lead)
            elif isinstance(ref, int):
                found.append(self.missing(ref))
            else:
                found.append(NotFound(_("no lead with the e-mail {email}").format(email=ref)))
        return found

    def by_email(self, email: str) -> Lead | None:
        """The lead that has this (normalised) e-mail, if any."""
        found = self._rows("WHERE email_key = :e", {"e": email.lower()})
        return lead_of(found[0]) if found else None

    def by_emails(self, emails: Sequence[str]) -> dict[str, Lead]:
        """The leads whose normalised e-mail is one of `emails`, keyed by that e-mail."""
        if not emails:
            return {}
        params: dict[str, Any] = {}
        wanted = sorted(set(emails))
        if self.dialect.name == "sqlite":  # one JSON parameter, not a placeholder each (an
            # import asks for 2000 at a time: preparing and binding those costs more than the
            # look-ups themselves)
            params["e"] = json.dumps(wanted)
            where = "WHERE email_key IN (SELECT value FROM json_each(:e))"
        else:
            where = f"WHERE email_key IN ({in_list('e', wanted, params)})"
        return {r["email_key"]: lead_of(r) for r in self._rows(where, params)}

    def by_match_or_phone_keys(
        self, match_keys: Sequence[str], phone_keys: Sequence[str]
    ) -> tuple[dict[str, Lead], dict[str, Lead]]:
        """The leads whose `match_key` (name and company) is one of `match_keys`, and those
        whose `phone_key` is one of `phone_keys`, each keyed by that key: the oldest (lowest
        id) lead of a key. One statement (an import asks once per batch)."""
        if not match_keys and not phone_keys:
            return {}, {}
        params: dict[str, Any] = {}
        conditions = []
        if match_keys:
            conditions.append(f"match_key IN ({in_list('m', sorted(set(match_keys)), params)})")
        if phone_keys:
            conditions.append(f"phone_key IN ({in_list('p', sorted(set(phone_keys)), params)})")
        by_match: dict[str, Lead] = {}
        by_phone: dict[str, Lead] = {}
        wanted_match, wanted_phone = set(match_keys), set(phone_keys)
        rows = self._rows(f"WHERE {' OR '.join(conditions)} ORDER BY id", params)
        for r in rows:
            lead = None
            if r["match_key"] in wanted_match and r["match_key"] not in by_match:
                lead = lead_of(r)
                by_match[r["match_key"]] = lead
            if r["phone_key"] in wanted_phone and r["phone_key"] not in by_phone:
                by_phone[r["phone_key"]] = lead or lead_of(r)
        return by_match, by_phone

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

    def update_many(self, leads: Sequence[Lead], changes: Mapping[str, Any]) -> list[Lead]:
        """Write the same `changes` (domain fields, not the e-mail) to every lead, batched
        (`_update_many`); the leads as they are now, in the order given."""
        ids = [lead.id for lead in leads]
        self._update_many(ids, changes)
        stored = self._rows_by_id(ids)
        return [lead_of(stored[i]) for i in ids]

    def delete(self, lead_id: int) -> None:
        """Remove a lead for good, with its activities."""
        self.uow.activities.delete_linked("lead_id", lead_id)
        self._delete(lead_id)

    def add_many(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Insert many new leads (domain fields; a field a row lacks is NULL), one statement
        per `INSERT_CHUNK` rows.

        Returns the rows that were not inserted because another lead took their e-mail
        meanwhile (a concurrent import on PostgreSQL: ON CONFLICT DO NOTHING); on SQLite,
        where the caller looked the e-mails up under the write lock, always none. The journal
        records the ids stored, as ranges.
        """
        if not rows:
            return []
        given = set().union(*rows) | {"email", "extras"}
        given |= derived_keys("lead", dict.fromkeys(given, "")).keys()
        columns = [c for c in COLUMNS["lead"] if c in given]  # the table's order
        blank = dict.fromkeys(columns)
        convert = storers(self.dialect, "lead", columns)
        # Every searched column given (an import's rows): the keys the lean way, the folded
        # sources, owners and companies shared by the batch's rows.
        full = given.issuperset(_KEYED)
        folded: dict[str, str] = {}
        taken: list[Mapping[str, Any]] = []
        for start in range(0, len(rows), INSERT_CHUNK):  # a chunk's rows in storage form at a
            # time: the memory of a 1M-row import stays flat (its journal ids are what grows)
            chunk = rows[start : start + INSERT_CHUNK]
            prepared: list[dict[str, Any]] = []
            for values in chunk:
                row = {**blank, **values}
                row["extras"] = row["extras"] or None  # as a single insert stores no extras
                row.update(new_lead_keys(row, folded) if full else derived_keys("lead", row))
                for column, store in convert:  # in storage form (`to_rows`), in place: ours
                    row[column] = store(row[column])
                prepared.append(row)
            stored = self.conn.insert_many(
                "lead", COLUMNS["lead"], prepared, ("id", "email_key"), unique="email_key"
            )
            self.uow.journal.record_inserted("lead", [int(r[0]) for r in stored])
            kept = {r[1] for r in stored}
            taken += [
                values
                for values, row in zip(chunk, prepared, strict=True)
                if row["email_key"] is not None and row["email_key"] not in kept
            ]
        return taken

    def list(
        self,
        *,
        statuses: Sequence[str] | None = None,
        exclude_statuses: Sequence[str] = (),
        source: str | None = None,
        search: str | None = None,
        owner: str | None = None,
        tags: Sequence[str] = (),
        limit: int | None = None,
        sort: str | None = None,
        reverse: bool = False,
    ) -> list[Lead]:
        """Leads matching every given filter, oldest first (or by `sort`, one of
        `sorting.SORT_FIELDS["lead"]`, `reverse`d). Text filters match literally."""
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
        where += self._tagged(tags, params)
        rest = "ORDER BY id"
        if sort is not None or reverse:
            rest = order_by(
                self.dialect, _sorts(self.dialect), sort or "id", reverse=reverse, tie="id"
            )
        rest = limited(rest, limit, params)
        return self._records(Lead, where, params, rest, converters=_CONVERTERS)
