"""Opportunity use cases: add, edit, advance, win, lose, reopen, delete."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmcli import clock
from crmcli.domain.models import Account, HistoryEntry, Opportunity, OppStatus, Stage
from crmcli.domain.records import record
from crmcli.domain.rules import check_move, check_open, check_reopen, next_stage, ordered
from crmcli.domain.values import clean_text
from crmcli.errors import ValidationError
from crmcli.i18n import _
from crmcli.services.accounts import (
    Removal,
    find_account,
    find_contact,
    find_or_create_account,
    removal,
)
from crmcli.services.common import (
    checked_amount,
    checked_probability,
    default_owner,
    required_name,
)
from crmcli.store.db import Database
from crmcli.store.uow import UnitOfWork


@record
class OppAdded:
    """A new opportunity, and the account created for it if there was none."""

    opportunity: Opportunity
    created_account: Account | None


@record
class OppDetail:
    """An opportunity with its stage history (oldest first)."""

    opportunity: Opportunity
    history: list[HistoryEntry]


def _first_stage(uow: UnitOfWork) -> Stage:
    stages = ordered(uow.stages.all())
    if not stages:
        raise ValidationError(_("the pipeline has no stages: add one with `crm stage add`"))
    return stages[0]


def add_opportunity(
    db: Database,
    name: str,
    *,
    account: str,
    contact: str | None = None,
    amount: Decimal | None = None,
    probability: int | None = None,
    stage: str | None = None,
    close: date | None = None,
    owner: str | None = None,
) -> OppAdded:
    """Open a deal with an account (created when the name is new)."""
    clean = required_name(name)
    checked_amount(amount, db=db)
    checked_probability(probability)
    owner_name = clean_text(owner, field="owner") if owner is not None else default_owner()
    now = clock.utcnow()
    with db.write() as uow:
        found = find_or_create_account(uow, account)
        person = find_contact(uow, contact) if contact else None
        where = uow.stages.find(stage) if stage else _first_stage(uow)
        opp = uow.opps.add(
            {
                "name": clean,
                "account_id": found.account.id,
                "contact_id": person.id if person else None,
                "stage_id": where.id,
                "amount": amount if amount is not None else Decimal("0.00"),
                "probability": where.probability if probability is None else probability,
                "probability_manual": probability is not None,
                "status": OppStatus.OPEN.value,
                "expected_close": close,
                "owner": owner_name,
                "created_at": now,
                "updated_at": now,
            }
        )
        uow.opps.history_add(opp, now)
        result = OppAdded(opp, found.account if found.created else None)
        uow.commit()
        return result


def list_opportunities(
    db: Database,
    *,
    stage: str | None = None,
    status: OppStatus | None = None,
    owner: str | None = None,
    account: str | None = None,
) -> list[Opportunity]:
    """Deals matching every given filter, by id."""
    with db.read() as uow:
        return uow.opps.list(
            stage_id=uow.stages.find(stage).id if stage else None,
            status=status.value if status else None,
            owner=owner,
            account_id=find_account(uow, account).id if account else None,
        )


def show_opportunity(db: Database, ref: str) -> OppDetail:
    """A deal and its stage history."""
    with db.read() as uow:
        opp = uow.opps.find(ref)
        return OppDetail(opp, uow.opps.history(opp.id))


def edit_opportunity(
    db: Database,
    ref: str,
    *,
    name: str | None = None,
    account: str | None = None,
    contact: str | None = None,
    amount: Decimal | None = None,
    probability: int | None = None,
    close: date | None = None,
    owner: str | None = None,
) -> OppAdded:
    """Change a deal's details. A probability given here is marked as set by hand."""
    checked_amount(amount, db=db)
    checked_probability(probability)
    now = clock.utcnow()
    with db.write() as uow:
        opp = uow.opps.find(ref, lock=True)
        changes: dict[str, Any] = {}
        created = None
        if name is not None:
            changes["name"] = required_name(name)
        if account is not None:
            found = find_or_create_account(uow, account)
            changes["account_id"] = found.account.id
            created = found.account if found.created else None
        if contact is not None:
            changes["contact_id"] = find_contact(uow, contact).id if contact.strip() else None
        if amount is not None:
            changes["amount"] = amount
        if close is not None:
            changes["expected_close"] = close
        if owner is not None:
            changes["owner"] = clean_text(owner, field="owner")
        if probability is not None:
            check_open(opp, "given a probability")
            changes.update(probability=probability, probability_manual=True)
        if not changes:
            raise ValidationError(_("nothing to change: give at least one option"))
        updated = uow.opps.update(opp, {**changes, "updated_at": now})
        if probability is not None and probability != opp.probability:
            uow.opps.history_add(updated, now)
        result = OppAdded(updated, created)
        uow.commit()
        return result


def advance_opportunity(
    db: Database, ref: str, *, to: str | None = None, probability: int | None = None
) -> Opportunity:
    """Move a deal to the next stage (or `to`); the probability follows the stage unless given."""
    checked_probability(probability)
    now = clock.utcnow()
    with db.write() as uow:
        uow.stages.lock(share=True)  # stages before the deal: see UnitOfWork.lock_stages
        opp = uow.opps.find(ref, lock=True)
        check_open(opp, "advanced")
        target = uow.stages.find(to) if to else next_stage(uow.stages.all(), opp.stage_id)
        result = move(uow, opp, target, probability=probability, now=now)
        uow.emit("opp-stage-changed", [result])
        uow.commit()
        return result


def move(
    uow: UnitOfWork, opp: Opportunity, target: Stage, *, probability: int | None, now: datetime
) -> Opportunity:
    """The stage move of a locked open deal, with its history entry (advance, opp import).

    The probability follows the stage unless given (then it is marked as set by hand).
    """
    check_move(opp, target)
    moved = uow.opps.update(
        opp,
        {
            "stage_id": target.id,
            "probability": target.probability if probability is None else probability,
            "probability_manual": probability is not None,
            "updated_at": now,
        },
    )
    uow.opps.history_add(moved, now)
    return moved


def set_probability(
    uow: UnitOfWork, opp: Opportunity, probability: int, now: datetime
) -> Opportunity:
    """A probability set by hand on a locked open deal, with its history entry (opp import)."""
    check_open(opp, "given a probability")
    changed = uow.opps.update(
        opp, {"probability": probability, "probability_manual": True, "updated_at": now}
    )
    uow.opps.history_add(changed, now)
    return changed


def win_opportunity(db: Database, ref: str, *, amount: Decimal | None = None) -> Opportunity:
    """Close a deal as won (probability 100), optionally at its final amount."""
    checked_amount(amount, db=db)
    now = clock.utcnow()
    with db.write() as uow:
        opp = uow.opps.find(ref, lock=True)
        result = win(uow, opp, amount=amount, now=now)
        uow.emit("opp-won", [result])
        uow.commit()
        return result


def win(uow: UnitOfWork, opp: Opportunity, *, amount: Decimal | None, now: datetime) -> Opportunity:
    """Close a locked open deal as won (probability 100), with history (opp win, opp import)."""
    check_open(opp, "won")
    changes: dict[str, Any] = {
        "status": OppStatus.WON.value,
        "probability": 100,
        "closed_at": now,
        "updated_at": now,
    }
    if amount is not None:
        changes["amount"] = amount
    won = uow.opps.update(opp, changes)
    uow.opps.history_add(won, now)
    return won


def lose_opportunity(
    db: Database, ref: str, *, reason: str, competitor: str | None = None
) -> Opportunity:
    """Close a deal as lost (probability 0), with why and maybe who won it."""
    text = clean_text(reason, field="reason")
    if not text:
        raise ValidationError(_("reason: must not be empty"))
    now = clock.utcnow()
    with db.write() as uow:
        opp = uow.opps.find(ref, lock=True)
        shown = clean_text(competitor, field="competitor") if competitor else None
        result = lose(uow, opp, reason=text, competitor=shown, now=now)
        uow.emit("opp-lost", [result])
        uow.commit()
        return result


def lose(
    uow: UnitOfWork, opp: Opportunity, *, reason: str | None, competitor: str | None, now: datetime
) -> Opportunity:
    """Close a locked open deal as lost (probability 0), with history (opp lose, opp import;
    a spreadsheet's lost deal has no reason column)."""
    check_open(opp, "lost")
    lost = uow.opps.update(
        opp,
        {
            "status": OppStatus.LOST.value,
            "probability": 0,
            "lost_reason": reason,
            "competitor": competitor,
            "closed_at": now,
            "updated_at": now,
        },
    )
    uow.opps.history_add(lost, now)
    return lost


def reopen_opportunity(db: Database, ref: str) -> Opportunity:
    """Reopen a won or lost deal in its stage, at the stage's default probability."""
    now = clock.utcnow()
    with db.write() as uow:
        uow.stages.lock(share=True)  # stages before the deal: see UnitOfWork.lock_stages
        opp = uow.opps.find(ref, lock=True)
        check_reopen(opp)
        stage = uow.stages.find(str(opp.stage_id)) if opp.stage_id else _first_stage(uow)
        reopened = uow.opps.update(
            opp,
            {
                "status": OppStatus.OPEN.value,
                "stage_id": stage.id,
                "probability": stage.probability,
                "probability_manual": False,
                "lost_reason": None,
                "competitor": None,
                "closed_at": None,
                "updated_at": now,
            },
        )
        uow.opps.history_add(reopened, now)
        uow.commit()
        return reopened


def delete_opportunity(
    db: Database, ref: str, *, dry_run: bool = False, expected: Removal | None = None
) -> Removal:
    """Remove a deal for good, in one change set: its stage history and activities go; leads
    converted into it stay converted, unlinked. `dry_run` does all of it, then rolls it back
    (the preview shown before asking); with `expected` (that preview), a delete that would
    now take anything else is refused and nothing is written."""
    with db.write() as uow:
        opp = uow.opps.find(ref, lock=True)
        return removal(uow, "opportunity", opp, uow.opps.delete, dry_run=dry_run, expected=expected)
