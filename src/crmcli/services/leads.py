"""Lead use cases: add, edit, qualify, disqualify, archive, delete, convert."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmcli import clock
from crmcli.domain.models import Account, Contact, Lead, LeadStatus, Opportunity, Stage
from crmcli.domain.records import record
from crmcli.domain.rules import check_qualifiable, lead_transition, ordered
from crmcli.domain.values import clean_text, normalise_email
from crmcli.errors import Duplicate, InvalidTransition, NotFound, ValidationError
from crmcli.i18n import _
from crmcli.services.common import (
    checked_amount,
    default_owner,
    each_or_refused,
    new_tags,
    required_name,
    retag,
)
from crmcli.store.db import Database

if TYPE_CHECKING:
    from crmcli.store.uow import UnitOfWork

LeadRef = int | str
"""A lead as named on the command line: its id, or its e-mail (matched case-insensitively)."""

LEAD_TEXT_FIELDS = ("name", "email", "phone", "company", "title", "source", "owner", "notes")
EDITABLE_FIELDS = (*LEAD_TEXT_FIELDS, "budget", "timeline")


def _clean_fields(db: Database, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Cleaned values for the given lead fields (None values are left out)."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in EDITABLE_FIELDS:
            raise ValidationError(
                _("{field}: not a lead detail that can be edited").format(field=key)
            )
        if value is None:
            continue
        if key == "name":
            out[key] = required_name(value)
        elif key == "email":
            out[key] = normalise_email(value) if value.strip() else None
        elif key in LEAD_TEXT_FIELDS:
            out[key] = clean_text(value, field=key)
        elif key == "budget":
            out[key] = checked_amount(value, field="budget", db=db)
        else:
            out[key] = value
    return out


def _refuse_taken_email(uow: UnitOfWork, email: str | None, lead_id: int | None = None) -> None:
    if not email:
        return
    other = uow.leads.by_email(email)
    if other is not None and other.id != lead_id:
        raise Duplicate(
            _('lead {id} ("{name}") already has the e-mail {email}').format(
                id=other.id, name=other.name, email=email
            )
        )


def add_lead(
    db: Database,
    name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    company: str | None = None,
    title: str | None = None,
    source: str | None = None,
    budget: Decimal | None = None,
    timeline: date | None = None,
    owner: str | None = None,
    notes: str | None = None,
    tags: Sequence[str] = (),
) -> Lead:
    """Record a new lead; refuses an e-mail another lead already has."""
    values = _clean_fields(
        db,
        {
            "name": name,
            "email": email,
            "phone": phone,
            "company": company,
            "title": title,
            "source": source,
            "owner": owner if owner is not None else default_owner(),
            "notes": notes,
            "budget": budget,
            "timeline": timeline,
        },
    )
    values["tags"] = new_tags(tags)
    now = clock.utcnow()
    with db.write() as uow:
        _refuse_taken_email(uow, values.get("email"))
        result = uow.leads.add(
            {**values, "status": LeadStatus.NEW.value, "created_at": now, "updated_at": now}
        )
        uow.emit("lead-added", [result])
        uow.commit()
        return result


def get_lead(db: Database, lead_id: LeadRef) -> Lead:
    """One lead, by id or e-mail."""
    with db.read() as uow:
        return uow.leads.find(lead_id)


def list_leads(
    db: Database,
    *,
    status: LeadStatus | None = None,
    source: str | None = None,
    search: str | None = None,
    owner: str | None = None,
    include_archived: bool = False,
    tags: Sequence[str] = (),
    limit: int | None = None,
    sort: str | None = None,
    reverse: bool = False,
) -> list[Lead]:
    """Leads by id (or by `sort`, a field of `sorting.SORT_FIELDS`, `reverse`d), at most
    `limit`; archived ones only when asked for (by --all or --status archived)."""
    with db.read() as uow:
        return uow.leads.list(
            statuses=[status.value] if status else None,
            exclude_statuses=() if include_archived or status else (LeadStatus.ARCHIVED.value,),
            source=source,
            search=search,
            owner=owner,
            tags=tags,
            limit=limit,
            sort=sort,
            reverse=reverse,
        )


def edit_lead(
    db: Database,
    lead_id: LeadRef,
    *,
    tag: Sequence[str] = (),
    untag: Sequence[str] = (),
    **fields: Any,
) -> Lead:
    """Change a lead's details (not its status). An empty string clears an optional field;
    `tag`/`untag` add and remove tags."""
    changes = _clean_fields(db, fields)
    if not changes and not tag and not untag:
        raise ValidationError(_("nothing to change: give at least one option"))
    with db.write() as uow:
        lead = uow.leads.find(lead_id, lock=True)
        changes.update(retag(lead.tags, tag, untag))
        if not changes:
            return lead
        if "email" in changes:
            _refuse_taken_email(uow, changes["email"], lead.id)
        result = uow.leads.update(lead, {**changes, "updated_at": clock.utcnow()})
        uow.commit()
        return result


def _transition(db: Database, lead_id: LeadRef, action: str, **changes: Any) -> Lead:
    with db.write() as uow:
        lead = uow.leads.find(lead_id, lock=True)
        status = lead_transition(lead, action)
        result = uow.leads.update(
            lead, {**changes, "status": status.value, "updated_at": clock.utcnow()}
        )
        uow.commit()
        return result


def mark_contacted(db: Database, lead_id: LeadRef) -> Lead:
    """new → contacted."""
    return _transition(db, lead_id, "contact")


def qualify_lead(
    db: Database, lead_id: LeadRef, *, budget: Decimal | None = None, timeline: date | None = None
) -> Lead:
    """Mark a lead qualified; it must have (or be given) both a budget and a timeline."""
    checked_amount(budget, field="budget", db=db)
    with db.write() as uow:
        lead = uow.leads.find(lead_id, lock=True)
        status = lead_transition(lead, "qualify")
        changes: dict[str, Any] = {}
        if budget is not None:
            changes["budget"] = budget
        if timeline is not None:
            changes["timeline"] = timeline
        check_qualifiable(replace(lead, **changes))
        changes.update(status=status.value, updated_at=clock.utcnow())
        result = uow.leads.update(lead, changes)
        uow.emit("lead-qualified", [result])
        uow.commit()
        return result


def disqualify_lead(db: Database, lead_id: LeadRef, reason: str) -> Lead:
    """Mark a lead disqualified, recording why."""
    text = _reason(reason)
    return _transition(db, lead_id, "disqualify", disqualify_reason=text)


def archive_lead(db: Database, lead_id: LeadRef) -> Lead:
    """Hide a lead from default lists (any lead not converted)."""
    return _transition(db, lead_id, "archive")


def reopen_lead(db: Database, lead_id: LeadRef) -> Lead:
    """disqualified or archived → new. A disqualification's reason moves into the notes (dated),
    so the lead is new again without forgetting why it was turned down."""
    with db.write() as uow:
        lead = uow.leads.find(lead_id, lock=True)
        status = lead_transition(lead, "reopen")
        now = clock.utcnow()
        changes: dict[str, Any] = {"status": status.value, "updated_at": now}
        if lead.disqualify_reason:
            line = f"Disqualified before {now.date().isoformat()}: {lead.disqualify_reason}"
            changes["notes"] = f"{lead.notes}\n{line}" if lead.notes else line
            changes["disqualify_reason"] = None
        result = uow.leads.update(lead, changes)
        uow.commit()
        return result


def delete_lead(db: Database, lead_id: LeadRef) -> Lead:
    """Remove a lead for good; a converted lead is kept (its conversion is history)."""
    with db.write() as uow:
        lead = uow.leads.find(lead_id, lock=True)
        _check_deletable(lead)
        uow.leads.delete(lead.id)
        uow.commit()
        return lead


def _check_deletable(lead: Lead) -> None:
    if lead.status is LeadStatus.CONVERTED:
        raise InvalidTransition(
            _("lead {id} was converted: it is kept as the record of that conversion").format(
                id=lead.id
            )
        )


def _deletable(item: Lead | NotFound) -> Lead:
    lead = _present(item)
    _check_deletable(lead)
    return lead


def _reason(reason: str) -> str:
    text = clean_text(reason, field="reason")
    if not text:
        raise ValidationError(_("reason: must not be empty"))
    return text


# -- many at once (`crm lead archive 6 7 9`) ---------------------------------------------------
#
# One transaction and one change set for all; all or nothing: when any lead is refused (not
# found, a transition its status does not allow…), nothing is written and `Refused` names
# each refused one. The leads are read in one query and written in one UPDATE per batch.


def _lead_named(ref: LeadRef) -> str:
    return _("lead {ref}").format(ref=ref)


def _found(
    uow: UnitOfWork, refs: Sequence[LeadRef], *, lock: bool = True
) -> list[tuple[str, LeadRef, Lead | NotFound]]:
    """The leads `refs` name, locked, each once (in the order first named), as items for
    `each_or_refused`: (its name in messages, the ref, the lead or the NotFound to raise)."""
    seen: dict[int | str, tuple[str, LeadRef, Lead | NotFound]] = {}
    for ref, lead in zip(refs, uow.leads.find_many(refs, lock=lock), strict=True):
        if isinstance(lead, NotFound):
            seen.setdefault(ref, (_lead_named(ref), ref, lead))
        else:
            seen.setdefault(lead.id, (_lead_named(lead.id), ref, lead))
    return list(seen.values())


def _present(lead: Lead | NotFound) -> Lead:
    if isinstance(lead, NotFound):
        raise lead
    return lead


def _transition_many(
    db: Database,
    refs: Sequence[LeadRef],
    action: str,
    changes: Mapping[str, Any],
    *,
    check: Callable[[Lead], None] | None = None,
    event: str | None = None,
) -> list[Lead]:
    now = clock.utcnow()
    with db.write() as uow:
        leads = _found(uow, refs)

        def decide(item: Lead | NotFound) -> tuple[Lead, LeadStatus]:
            lead = _present(item)
            status = lead_transition(lead, action)
            if check is not None:
                check(replace(lead, **changes))
            return lead, status

        decided = each_or_refused(leads, decide)
        by_status: dict[LeadStatus, list[Lead]] = {}
        for lead, status in decided:
            by_status.setdefault(status, []).append(lead)
        updated: dict[int, Lead] = {}
        for status, group in by_status.items():
            values = {**changes, "status": status.value, "updated_at": now}
            updated.update((lead.id, lead) for lead in uow.leads.update_many(group, values))
        result = [updated[lead.id] for lead, _status in decided]
        if event is not None:
            uow.emit(event, result)
        uow.commit()
        return result


def mark_contacted_many(db: Database, refs: Sequence[LeadRef]) -> list[Lead]:
    """new → contacted, for every lead of `refs` (all or nothing)."""
    return _transition_many(db, refs, "contact", {})


def qualify_leads(
    db: Database,
    refs: Sequence[LeadRef],
    *,
    budget: Decimal | None = None,
    timeline: date | None = None,
) -> list[Lead]:
    """Qualify every lead of `refs` (all or nothing); `budget` and `timeline` go to each."""
    checked_amount(budget, field="budget", db=db)
    changes: dict[str, Any] = {}
    if budget is not None:
        changes["budget"] = budget
    if timeline is not None:
        changes["timeline"] = timeline
    return _transition_many(
        db, refs, "qualify", changes, check=check_qualifiable, event="lead-qualified"
    )


def disqualify_leads(db: Database, refs: Sequence[LeadRef], reason: str) -> list[Lead]:
    """Disqualify every lead of `refs` with the same reason (all or nothing)."""
    return _transition_many(db, refs, "disqualify", {"disqualify_reason": _reason(reason)})


def archive_leads(db: Database, refs: Sequence[LeadRef]) -> list[Lead]:
    """Archive every lead of `refs` (all or nothing)."""
    return _transition_many(db, refs, "archive", {})


def get_leads(db: Database, refs: Sequence[LeadRef]) -> list[Lead]:
    """The leads `refs` name, each once (`Refused` when any is missing): what a bulk delete
    names before asking."""
    with db.read() as uow:
        return each_or_refused(_found(uow, refs, lock=False), _present)


def delete_leads(db: Database, refs: Sequence[LeadRef]) -> list[Lead]:
    """Remove every lead of `refs` for good (all or nothing: a converted one is refused)."""
    with db.write() as uow:
        leads = each_or_refused(_found(uow, refs), _deletable)
        for lead in leads:
            uow.leads.delete(lead.id)
        uow.commit()
        return leads


# -- conversion ------------------------------------------------------------------------------


@record
class PlanStep:
    """One record a conversion creates or reuses."""

    action: str  # "create" or "reuse"
    name: str
    id: int | None = None


@record
class OpportunityPlan:
    """The opportunity a conversion would open."""

    name: str
    amount: Decimal
    stage: str
    probability: int
    expected_close: date | None
    owner: str | None


@record
class ConversionPlan:
    """What converting a lead creates and reuses."""

    lead_id: int
    account: PlanStep
    contact: PlanStep
    opportunity: OpportunityPlan | None


@record
class Conversion:
    """The result of a conversion (records are None for a dry run)."""

    plan: ConversionPlan
    lead: Lead
    account: Account | None = None
    contact: Contact | None = None
    opportunity: Opportunity | None = None
    dry_run: bool = False


@record
class ConvertOptions:
    """The choices `lead convert` offers."""

    account: str | None = None
    opportunity: str | None = None
    amount: Decimal | None = None
    stage: str | None = None
    no_opportunity: bool = False


def _plan(uow: UnitOfWork, lead: Lead, opts: ConvertOptions) -> tuple[ConversionPlan, Stage | None]:
    lead_transition(lead, "convert")
    account_name = opts.account or lead.company
    if not account_name or not account_name.strip():
        raise ValidationError(
            _("lead {id} has no company: give the account with --account NAME").format(id=lead.id)
        )
    # --account is a reference the user typed (an id or an exact name); the lead's company is
    # a name from data, found by its name key only: a company called `1` is not account 1.
    account = (
        uow.accounts.find(account_name, exact_only=True)
        if opts.account
        else uow.accounts.by_name(account_name)
    )
    account_step = (
        PlanStep("reuse", account.name, account.id)
        if account
        else PlanStep("create", required_name(account_name, field="account"))
    )
    contact = uow.contacts.by_email(lead.email) if lead.email else None
    contact_step = (
        PlanStep("reuse", contact.name, contact.id) if contact else PlanStep("create", lead.name)
    )
    if opts.no_opportunity:
        return ConversionPlan(lead.id, account_step, contact_step, None), None
    stages = ordered(uow.stages.all())
    if opts.stage:
        stage = uow.stages.find(opts.stage)
    elif stages:
        stage = stages[0]
    else:
        raise ValidationError(_("the pipeline has no stages: add one with `crm stage add`"))
    name = opts.opportunity or f"{account_step.name} – {lead.name}"
    opp = OpportunityPlan(
        name=required_name(name, field="opportunity"),
        amount=opts.amount if opts.amount is not None else (lead.budget or Decimal("0.00")),
        stage=stage.name,
        probability=stage.probability,
        expected_close=lead.timeline,
        owner=lead.owner or default_owner(),
    )
    return ConversionPlan(lead.id, account_step, contact_step, opp), stage


def _contact_for(
    uow: UnitOfWork, lead: Lead, contact_id: int | None, account_id: int, now: Any
) -> Contact:
    """The plan's contact: the one reused (linked to the account if it had none), else a new
    one at the account (or one with the lead's e-mail that was added since the plan was made)."""
    if contact_id is None:
        contact = _new_contact(uow, lead, account_id, now)
    else:
        contact = uow.contacts.get(contact_id)
    if contact.account_id is None:
        contact = uow.contacts.update(contact, {"account_id": account_id})
    return contact


def _new_contact(uow: UnitOfWork, lead: Lead, account_id: int, now: Any) -> Contact:
    values = {
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "title": lead.title,
        "account_id": account_id,
        "type": "prospect",
        "created_at": now,
    }
    try:
        return uow.contacts.add(values)
    except Duplicate:  # a contact with this e-mail was added since the plan was made
        existing = uow.contacts.by_email(lead.email or "")
        if existing is None:
            raise
        return existing


def convert_lead(
    db: Database, lead_id: LeadRef, options: ConvertOptions | None = None, *, dry_run: bool = False
) -> Conversion:
    """Turn a qualified lead into a contact, an account and (usually) an opportunity, atomically."""
    opts = options or ConvertOptions()
    checked_amount(opts.amount, db=db)
    if dry_run:
        with db.read() as uow:
            lead = uow.leads.find(lead_id)
            plan, _stage = _plan(uow, lead, opts)
            return Conversion(plan=plan, lead=lead, dry_run=True)
    now = clock.utcnow()
    with db.write() as uow:
        # The lead's row lock makes conversions of one lead take turns: the second one reads
        # it again after the first committed, finds it converted and is refused.
        lead = uow.leads.find(lead_id, lock=True)
        plan, stage = _plan(uow, lead, opts)
        if plan.account.id is not None:
            account = uow.accounts.get(plan.account.id)
        else:  # reused after all if someone created it since the plan was made
            account, _created = uow.accounts.find_or_add(
                {"name": plan.account.name, "created_at": now}
            )
        contact = _contact_for(uow, lead, plan.contact.id, account.id, now)
        opportunity = None
        if plan.opportunity is not None and stage is not None:
            opportunity = uow.opps.add(
                {
                    "name": plan.opportunity.name,
                    "account_id": account.id,
                    "contact_id": contact.id,
                    "stage_id": stage.id,
                    "amount": plan.opportunity.amount,
                    "probability": stage.probability,
                    "probability_manual": False,
                    "status": "open",
                    "expected_close": plan.opportunity.expected_close,
                    "owner": plan.opportunity.owner,
                    "lead_id": lead.id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            uow.opps.history_add(opportunity, now)
        lead = uow.leads.update(
            lead,
            {
                "status": LeadStatus.CONVERTED.value,
                "contact_id": contact.id,
                "account_id": account.id,
                "opportunity_id": opportunity.id if opportunity else None,
                "updated_at": now,
            },
        )
        result = Conversion(plan, lead, account, contact, opportunity)
        made = [lead, account, contact, *([opportunity] if opportunity else [])]
        uow.emit("lead-converted", made)
        uow.commit()
        return result
