"""Importing lead and deal files: one transaction, streamed, every bad row reported.

Rows are validated one by one (errors are values: a bad row is recorded with its line and
reason and the import goes on), then written in batches with one executemany each. The whole
file is one write transaction: a killed import leaves the database as it was; `--strict` and
`--dry-run` roll it back at the end, so a dry run reports exactly what a real run would do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from crmcli import clock
from crmcli.domain.duplicates import lead_match_key
from crmcli.domain.models import Lead, LeadStatus, Opportunity, OppStatus, Stage
from crmcli.domain.phones import phone_key
from crmcli.domain.rules import check_open
from crmcli.domain.tags import retagged
from crmcli.domain.values import normalise_name
from crmcli.errors import InvalidTransition, ValidationError
from crmcli.i18n import _
from crmcli.importing.headers import (
    LEAD_ALIASES,
    LEAD_FIELDS,
    OPP_ALIASES,
    OPP_FIELDS,
    and_list,
    build_mapping,
    parse_map_options,
)
from crmcli.importing.headers import Mapping as HeaderMapping
from crmcli.importing.reader import Table
from crmcli.importing.rows import LeadRow, LeadRowParser, OppRow, RowError, parse_opp_row
from crmcli.services import opportunities
from crmcli.services.common import default_owner
from crmcli.store.db import Database
from crmcli.store.uow import UnitOfWork

BATCH = 2000
FILLABLE = ("phone", "company", "title", "source", "budget", "timeline", "owner", "notes")


@dataclass(frozen=True, slots=True)  # a summary keeps one per rejected row: 10k in 1M rows
class RowProblem:
    """A rejected row: its line in the file, why, and its original cells."""

    line: int
    reason: str
    cells: list[str] = field(default_factory=list, compare=False, repr=False)


@dataclass
class ImportSummary:
    """What an import did (or, for a dry run, would do)."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    dry_run: bool = False
    committed: bool = False
    mapping: dict[str, str] = field(default_factory=dict)
    """{column header: field} for every column that fed a field, in file order."""
    unmapped: list[str] = field(default_factory=list)
    """The headers of the columns that fed no field (a lead keeps them as extras)."""
    ignored: list[str] = field(default_factory=list)
    """crm's own columns of a file crm wrote (id, status, links), not imported."""
    suggestions: dict[str, str | None] = field(default_factory=dict)
    """{unmapped header: the field it likely means, or None}, for a ``--map`` hint."""
    without_email: int = 0
    """Good lead rows without an e-mail (matched by name and company, or phone, instead)."""
    change_set: int | None = None
    """The journal's change set of the import (None: a dry run, or nothing written)."""


@dataclass(frozen=True)
class ImportOptions:
    """How to read and apply an import file."""

    source: str | None = None
    mapping: Sequence[str] = ()
    on_duplicate: str = "skip"
    dry_run: bool = False
    strict: bool = False


Progress = Callable[[int], None]
Reject = Callable[[RowProblem], None]


def _quiet_progress(_: int) -> None:
    return None


def _check_options(options: ImportOptions) -> None:
    if options.on_duplicate not in ("skip", "update"):
        raise ValidationError(
            _('--on-duplicate: "{value}" is not skip or update').format(value=options.on_duplicate)
        )


def _run(
    db: Database,
    summary: ImportSummary,
    body: Callable[[UnitOfWork], None],
    *,
    options: ImportOptions,
) -> ImportSummary:
    with db.write() as uow:
        uow.take_import_turn()
        body(uow)
        summary.committed = not (options.dry_run or (options.strict and summary.rejected))
        if summary.committed:  # a dry run, or --strict with rejects, is simply not committed
            uow.commit()
            summary.change_set = uow.journal.last_id
    return summary


def _describe(
    summary: ImportSummary, mapping: HeaderMapping, aliases: dict[str, str], allowed: Sequence[str]
) -> None:
    """Say in `summary` which column fed which field, and which fed none."""
    summary.mapping = mapping.fed()
    summary.unmapped = mapping.unmapped()
    summary.ignored = mapping.unignored()
    summary.suggestions = mapping.suggestions(aliases, allowed)


def _counts(entity: str, summary: ImportSummary) -> dict[str, Any]:
    """The record of an `import-finished` event: what was imported, and how many of each."""
    counts = ("read", "inserted", "updated", "skipped", "rejected")
    return {"entity": entity, **{name: getattr(summary, name) for name in counts}}


def _reject(summary: ImportSummary, problem: RowProblem, on_reject: Reject) -> None:
    summary.rejected += 1
    summary.errors.append(RowProblem(problem.line, problem.reason))
    on_reject(problem)


# -- leads -------------------------------------------------------------------------------------


def _fill(current: dict[str, Any], row: LeadRow) -> dict[str, Any]:
    """The fields that `current` (a lead's values) lacks and that `row` can fill."""
    changes: dict[str, Any] = {
        name: getattr(row, name)
        for name in FILLABLE
        if current.get(name) is None and getattr(row, name) is not None
    }
    known = current.get("extras") or {}
    extras = {k: v for k, v in row.extras.items() if k not in known}
    if extras:
        changes["extras"] = {**known, **extras}
    if row.tags:  # the row's tags are added to the lead's
        had = tuple(current.get("tags") or ())
        tags = retagged(had, row.tags, ())
        if tags != had:
            changes["tags"] = tags
    return changes


def _values_of(lead: Lead) -> dict[str, Any]:
    return {name: getattr(lead, name) for name in (*FILLABLE, "extras", "tags")}


_NEW = LeadStatus.NEW.value
"""The status of an imported lead (read once: an enum member's `value` is a descriptor)."""


def _lead_values(row: LeadRow, now: Any, owner: str | None) -> dict[str, Any]:
    return {
        "name": row.name,
        "email": row.email,
        "phone": row.phone,
        "company": row.company,
        "title": row.title,
        "source": row.source,
        "budget": row.budget,
        "timeline": row.timeline,
        "owner": row.owner or owner,
        "notes": row.notes,
        "extras": row.extras,
        "tags": row.tags or None,
        "status": _NEW,
        "created_at": now,
        "updated_at": now,
    }


def _row_keys(row: LeadRow) -> tuple[str | None, str | None]:
    """A lead row's name-and-company key and phone key (what a row without e-mail is matched
    by), as the store derives them for a lead."""
    return lead_match_key(row.name, row.company), phone_key(row.phone)


class _KeylessMatches:
    """Where a batch's rows without an e-mail find their lead: the leads stored (looked up
    once per batch by name-and-company and phone keys) and the new ones earlier in the batch.
    """

    def __init__(self, uow: UnitOfWork, batch: list[LeadRow]) -> None:
        self.keys = {id(r): _row_keys(r) for r in batch if r.email is None}
        match_keys = [m for m, _p in self.keys.values() if m]
        phone_keys = [p for _m, p in self.keys.values() if p]
        self.stored = uow.leads.by_match_or_phone_keys(match_keys, phone_keys)
        self.new: tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]] = ({}, {})

    def find(self, row: LeadRow) -> tuple[dict[str, Any] | None, Lead | None]:
        """The new row's values, or the stored lead, that `row` (no e-mail) duplicates."""
        keys = self.keys[id(row)]
        for index, key in enumerate(keys):
            if key is not None and key in self.new[index]:
                return self.new[index][key], None
        for index, key in enumerate(keys):
            if key is not None and key in self.stored[index]:
                return None, self.stored[index][key]
        return None, None

    def add(self, row: LeadRow, values: dict[str, Any]) -> None:
        """A new lead of the batch that later rows without an e-mail may duplicate."""
        keys = self.keys[id(row)] if row.email is None else _row_keys(row)
        for index, key in enumerate(keys):
            if key is not None:
                self.new[index].setdefault(key, values)


def _apply_lead_batch(
    uow: UnitOfWork, batch: list[LeadRow], summary: ImportSummary, update: bool, owner: str | None
) -> None:
    now = clock.utcnow()
    existing = uow.leads.by_emails([r.email for r in batch if r.email])
    keyless = _KeylessMatches(uow, batch) if any(r.email is None for r in batch) else None
    summary.without_email += len(keyless.keys) if keyless is not None else 0
    current: dict[int, Lead] = {}  # leads updated in this batch, as they now are
    pending: dict[str, dict[str, Any]] = {}
    fresh: list[dict[str, Any]] = []
    for row in batch:
        values: dict[str, Any] | None
        if row.email is None:
            assert keyless is not None
            values, lead = keyless.find(row)
        else:
            values, lead = pending.get(row.email), existing.get(row.email)
        if values is not None:  # a duplicate of a row earlier in the file
            changes = _fill(values, row) if update else {}
            values.update(changes)
            summary.updated += bool(changes)
            summary.skipped += not changes
            continue
        if lead is None:
            values = _lead_values(row, now, owner)
            if row.email is not None:
                pending[row.email] = values
            if keyless is not None:
                keyless.add(row, values)
            fresh.append(values)
            continue
        lead = current.get(lead.id, lead)
        changes = _fill(_values_of(lead), row) if update else {}
        if changes:
            current[lead.id] = uow.leads.update(lead, {**changes, "updated_at": now})
            summary.updated += 1
        else:
            summary.skipped += 1
    taken = uow.leads.add_many(fresh)
    summary.inserted += len(fresh) - len(taken)
    if taken:
        _taken_meanwhile(uow, taken, summary, update, now)


def _taken_meanwhile(
    uow: UnitOfWork, rows: list[Mapping[str, Any]], summary: ImportSummary, update: bool, now: Any
) -> None:
    """New leads whose e-mail another writer stored since the batch was checked (a concurrent
    import on a server): duplicates after all, skipped or filled in like any other."""
    existing = uow.leads.by_emails([r["email"] for r in rows])
    for values in rows:
        lead = existing[values["email"]]
        current = _values_of(lead)
        changes: dict[str, Any] = {}
        if update:
            changes = {
                name: values[name]
                for name in FILLABLE
                if current.get(name) is None and values.get(name) is not None
            }
            known = current.get("extras") or {}
            extras = {k: v for k, v in (values.get("extras") or {}).items() if k not in known}
            if extras:
                changes["extras"] = {**known, **extras}
        if changes:
            existing[values["email"]] = uow.leads.update(lead, {**changes, "updated_at": now})
            summary.updated += 1
        else:
            summary.skipped += 1


def import_leads(
    db: Database,
    table: Table,
    options: ImportOptions,
    *,
    progress: Progress = _quiet_progress,
    on_reject: Reject | None = None,
) -> ImportSummary:
    """Import a lead file; duplicates (database and file) skip or fill.

    A row's duplicate is the lead with its normalised e-mail; for a row without an e-mail,
    the lead with its name and company (`lead_match_key`), else with its phone digits
    (`phone_key`)."""
    _check_options(options)
    mapping = build_mapping(
        table.headers,
        LEAD_ALIASES,
        overrides=parse_map_options(options.mapping),
        allowed_fields=LEAD_FIELDS,
    )
    if mapping.column("name") is None and mapping.column("first_name") is None:
        raise ValidationError(
            _(
                "{file}: no column gives the lead's name (headers: {headers});"
                " use --map 'Header=name'"
            ).format(file=table.name, headers=", ".join(table.headers))
        )
    summary = ImportSummary(dry_run=options.dry_run)
    _describe(summary, mapping, LEAD_ALIASES, LEAD_FIELDS)
    reject = on_reject or (lambda _: None)
    update = options.on_duplicate == "update"
    owner = default_owner()
    today = clock.today()  # relative timelines count from the date the import stamps

    def body(uow: UnitOfWork) -> None:
        parse = LeadRowParser(
            mapping,
            table.headers,
            today=today,
            source_override=options.source,
            currency=uow.settings.get("currency"),
        )
        batch: list[LeadRow] = []
        for line, cells in table.rows():
            summary.read += 1
            try:
                batch.append(parse(line, cells))
            except RowError as exc:
                _reject(summary, RowProblem(exc.line, exc.reason, cells), reject)
            if len(batch) >= BATCH:
                _apply_lead_batch(uow, batch, summary, update, owner)
                batch = []
                progress(summary.read)
        _apply_lead_batch(uow, batch, summary, update, owner)
        progress(summary.read)
        uow.emit("import-finished", [_counts("lead", summary)])

    return _run(db, summary, body, options=options)


# -- opportunities ---------------------------------------------------------------------------


def import_opportunities(
    db: Database,
    table: Table,
    options: ImportOptions,
    *,
    progress: Progress = _quiet_progress,
    on_reject: Reject | None = None,
) -> ImportSummary:
    """Import deals kept in a spreadsheet; duplicates are the same name at the same account."""
    _check_options(options)
    today = clock.today()  # relative close dates count from the date the import stamps
    mapping = build_mapping(
        table.headers,
        OPP_ALIASES,
        overrides=parse_map_options(options.mapping),
        allowed_fields=OPP_FIELDS,
    )
    missing = [f for f in ("name", "account") if mapping.column(f) is None]
    if missing:
        raise ValidationError(
            _(
                "{file}: no column for {fields} (headers: {headers}); use --map 'Header=field'"
            ).format(file=table.name, fields=and_list(missing), headers=", ".join(table.headers))
        )
    summary = ImportSummary(dry_run=options.dry_run)
    _describe(summary, mapping, OPP_ALIASES, OPP_FIELDS)
    reject = on_reject or (lambda _: None)
    owner = default_owner()
    update = options.on_duplicate == "update"
    status_column = mapping.column("status")

    def body(uow: UnitOfWork) -> None:
        currency = uow.settings.get("currency")
        ordered = uow.stages.all()
        if not ordered:
            raise ValidationError(_("the pipeline has no stages: add one with `crm stage add`"))
        stages = {normalise_name(s.name): s for s in ordered}
        names = ", ".join(f'"{s.name}"' for s in ordered)
        deals = _DealWriter(uow, update, owner, summary, reject)
        batch: list[_DealItem | RowProblem] = []
        for line, cells in table.rows():
            summary.read += 1
            try:
                row = parse_opp_row(
                    line, cells, mapping, table.headers, today=today, currency=currency
                )
                stage = stages.get(normalise_name(row.stage)) if row.stage else ordered[0]
                if stage is None:
                    raise RowError(
                        line,
                        _('stage: "{stage}" is not a stage ({stages})').format(
                            stage=row.stage, stages=names
                        ),
                    )
                given = _given(status_column, cells)
                keys = normalise_name(row.account), normalise_name(row.name)
                batch.append(_DealItem(row, stage, given, cells, *keys))
            except RowError as exc:  # reported in file order, with the rows applied
                batch.append(RowProblem(exc.line, exc.reason, cells))
            if len(batch) >= OPP_BATCH:
                deals.apply(batch)
                batch = []
                progress(summary.read)
        deals.apply(batch)
        progress(summary.read)
        uow.emit("import-finished", [_counts("opportunity", summary)])

    return _run(db, summary, body, options=options)


OPP_BATCH = 500
"""Deal rows checked, looked up and inserted together."""


@dataclass(frozen=True)
class _DealItem:
    """A parsed deal row and what it needs from the import."""

    row: OppRow
    stage: Stage
    status_given: bool
    cells: Sequence[str]
    account_key: str  # the row's account's and deal's name keys (normalise_name)
    name_key: str


class _DealWriter:
    """Writes an import's deal rows a batch at a time, as `crm opp add` would one by one.

    Stages are resolved once per import; accounts and contacts once per distinct name key or
    e-mail, the new ones stored together at the start of the batch that first names them, in
    file order (every row that is not rejected on reading names its account and contact before
    anything can reject it). Existing deals are looked up once per batch, and new deals and
    their first history rows inserted together at its end. A row naming the same deal as an
    earlier row of the file is its duplicate. Rows that update an existing deal
    (--on-duplicate update) go one by one through `_update_state`, after the new deals before
    them are stored.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        update: bool,
        owner: str | None,
        summary: ImportSummary,
        reject: Reject,
    ) -> None:
        self.uow = uow
        self.update = update
        self.owner = owner
        self.summary = summary
        self.reject = reject
        self.accounts: dict[str, int] = {}  # name key -> id
        self.contacts: dict[str, int] = {}  # e-mail key -> id
        self.pending: dict[tuple[int, str], dict[str, Any]] = {}  # new deals, not yet stored

    def apply(self, batch: Sequence[_DealItem | RowProblem]) -> None:
        uow = self.uow
        now = clock.utcnow()
        items = [item for item in batch if isinstance(item, _DealItem)]
        accounts = [i.row.account for i in items if i.account_key not in self.accounts]
        self.accounts.update(uow.accounts.ids_find_or_add(accounts, now))
        contacts = [
            (i.row.contact_email, self.accounts[i.account_key])
            for i in items
            if i.row.contact_email and i.row.contact_email.lower() not in self.contacts
        ]
        self.contacts.update(uow.contacts.ids_find_or_add(contacts, now))
        existing = uow.opps.keys(self._key(item) for item in items)
        for item in batch:
            if isinstance(item, RowProblem):
                _reject(self.summary, item, self.reject)
                continue
            try:
                self._apply(item, existing, now)
            except RowError as exc:
                problem = RowProblem(exc.line, exc.reason, list(item.cells))
                _reject(self.summary, problem, self.reject)
        self._flush(existing)

    def _key(self, item: _DealItem) -> tuple[int, str]:
        """What makes a deal a duplicate: its account and its name key."""
        return self.accounts[item.account_key], item.name_key

    def _apply(self, item: _DealItem, existing: set[tuple[int, str]], now: datetime) -> None:
        row = item.row
        key = self._key(item)
        account_id = key[0]
        email = row.contact_email
        contact_id = self.contacts[email.lower()] if email else None
        if key in existing or key in self.pending:
            if not self.update:
                self.summary.skipped += 1
                return
            self._flush(existing)
            duplicate = self.uow.opps.by_account_and_name(account_id, row.name)
            assert duplicate is not None
            _update_deal(self.uow, item, duplicate, contact_id, self.owner, self.summary, now=now)
            return
        values = _new_deal(row, item.stage, account_id, contact_id, self.owner, now)
        self.pending[key] = {**values, "name_key": item.name_key}

    def _flush(self, existing: set[tuple[int, str]]) -> None:
        if self.pending:
            self.uow.opps.add_many(list(self.pending.values()))
            self.summary.inserted += len(self.pending)
            existing.update(self.pending)
            self.pending = {}


def _new_deal(
    row: OppRow,
    stage: Stage,
    account_id: int,
    contact_id: int | None,
    owner: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The values of a new deal from its row; a won or lost row's probability is the
    status's (100 or 0), as when a deal is added."""
    status = OppStatus(row.status)
    if status is OppStatus.WON:
        probability, manual = 100, False
    elif status is OppStatus.LOST:
        probability, manual = 0, False
    elif row.probability is not None:
        probability, manual = row.probability, True
    else:
        probability, manual = stage.probability, False
    return {
        "name": row.name,
        "account_id": account_id,
        "contact_id": contact_id,
        "stage_id": stage.id,
        "amount": row.amount,
        "probability": probability,
        "probability_manual": manual,
        "status": status.value,
        "expected_close": row.expected_close,
        "owner": row.owner or owner,
        "created_at": now,
        "updated_at": now,
        "closed_at": None if status is OppStatus.OPEN else now,
    }


def _given(index: int | None, cells: Sequence[str]) -> bool:
    """True when the row has a non-blank cell in column `index` (None: no such column)."""
    return index is not None and index < len(cells) and bool(cells[index].strip())


def _update_state(
    uow: UnitOfWork, row: OppRow, opp: Opportunity, *, status_given: bool, now: datetime
) -> Opportunity | None:
    """Bring an existing deal to the stage, probability and status its row states, through
    the transitions `crm opp advance/edit/win/lose` use (their checks, their history); None
    when the row asks for nothing new. A change the rules refuse (moving a won deal, winning
    a lost one, reopening from a sheet) rejects the row before anything of it is written.

    As when a deal is added, a won or lost row's probability is the status's (100 or 0)."""
    stage = None
    if row.stage:
        key = normalise_name(row.stage)
        stage = next((s for s in uow.stages.all() if normalise_name(s.name) == key), None)

    def wanted(deal: Opportunity) -> tuple[bool, bool, OppStatus]:
        status = OppStatus(row.status) if status_given else deal.status
        to_stage = stage is not None and stage.id != deal.stage_id
        to_probability = (
            status is OppStatus.OPEN
            and row.probability is not None
            and row.probability != deal.probability
        )
        return to_stage, to_probability, status

    to_stage, to_probability, status = wanted(opp)
    if not (to_stage or to_probability or status is not opp.status):
        return None
    uow.stages.lock(share=True)  # stages before the deal, as crm opp advance does
    current = uow.opps.get(opp.id, lock=True)  # decided on the locked row: no race
    to_stage, to_probability, status = wanted(current)
    if current.status is not OppStatus.OPEN:
        if status is OppStatus.OPEN:
            raise RowError(
                row.line,
                _(
                    "status: opportunity {id} is {status}; a sheet does not"
                    " reopen a deal (crm opp reopen)"
                ).format(id=current.id, status=current.status.value),
            )
        if status is not current.status:
            action = status.value  # won a lost deal, or lost a won one
        elif to_stage or to_probability:
            action = "moved" if to_stage else "given a probability"
        else:
            return None
        try:
            check_open(current, action)
        except InvalidTransition as exc:
            raise RowError(row.line, str(exc)) from None
    if to_stage and stage is not None:
        current = opportunities.move(uow, current, stage, probability=row.probability, now=now)
    elif to_probability and row.probability is not None:
        current = opportunities.set_probability(uow, current, row.probability, now)
    if status is OppStatus.WON:
        current = opportunities.win(uow, current, amount=None, now=now)
    elif status is OppStatus.LOST:
        current = opportunities.lose(uow, current, reason=None, competitor=None, now=now)
    return current


def _update_deal(
    uow: UnitOfWork,
    item: _DealItem,
    duplicate: Opportunity,
    contact_id: int | None,
    owner: str | None,
    summary: ImportSummary,
    *,
    now: datetime,
) -> None:
    """Fill in what an existing deal lacks and bring it to the row's stage and status."""
    row = item.row
    moved = _update_state(uow, row, duplicate, status_given=item.status_given, now=now)
    if moved is not None:
        duplicate = moved
    changes: dict[str, Any] = {}
    if duplicate.contact_id is None and contact_id is not None:
        changes["contact_id"] = contact_id
    if duplicate.expected_close is None and row.expected_close is not None:
        changes["expected_close"] = row.expected_close
    if duplicate.owner is None and (row.owner or owner):
        changes["owner"] = row.owner or owner
    if duplicate.amount == Decimal("0.00") and row.amount:
        changes["amount"] = row.amount
    if changes:
        uow.opps.update(duplicate, {**changes, "updated_at": now})
    if changes or moved is not None:
        summary.updated += 1
    else:
        summary.skipped += 1
