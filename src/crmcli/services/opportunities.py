"""Opportunity use cases: add, edit, advance, win, lose, reopen, delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from crmcli import clock
from crmcli.domain.models import Account, HistoryEntry, Opportunity, OppStatus, Stage
from crmcli.domain.records import record
from crmcli.domain.rules import check_move, check_open, check_reopen, next_stage, ordered
from crmcli.domain.values import check_currency, clean_text, is_id_text
from crmcli.errors import CrmError, ValidationError
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
    each_or_refused,
    new_tags,
    required_name,
    retag,
)
from crmcli.store.db import Database
from crmcli.store.repos.opportunities import OppFilters
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
    tags: Sequence[str] = (),
) -> OppAdded:
    """Open a deal with an account (created when the name is new)."""
    clean = required_name(name)
    tagged = new_tags(tags)
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
                "tags": tagged,
                "created_at": now,
                "updated_at": now,
            }
        )
        uow.opps.history_add(opp, now)
        result = OppAdded(opp, found.account if found.created else None)
        uow.commit()
        return result


class OppQuery(TypedDict, total=False):
    """`crm opp list`'s filters and order, as the salesperson gives them (see
    `list_opportunities`)."""

    stage: str | None
    status: OppStatus | None
    owner: str | None
    account: str | None
    search: str | None
    min_amount: Decimal | None
    max_amount: Decimal | None
    close_after: date | None
    close_before: date | None
    tags: Sequence[str]
    limit: int | None
    sort: str | None
    reverse: bool


def list_opportunities(db: Database, **query: Unpack[OppQuery]) -> list[Opportunity]:
    """Deals matching every given filter, by id (or by `sort`, a field of
    `sorting.SORT_FIELDS`, `reverse`d), at most `limit`.

    `search` is text in the deal's or its account's name (case and accents ignored); the
    amount and close-date bounds include their own value (`--close-before 31/12` keeps the
    deals closing on the 31st); an amount typed in another currency is refused."""
    with opportunity_rows(db, **query) as rows:
        return list(rows())


@contextmanager
def opportunity_rows(
    db: Database, **query: Unpack[OppQuery]
) -> Iterator[Callable[[], Iterator[Opportunity]]]:
    """`list_opportunities` for a list of any length: inside one read transaction, a
    function giving the deals one at a time as they are read, afresh at each call (a table
    written to a pipe reads them twice: its column widths, then its lines)."""
    with db.read() as uow:
        for value, field in (
            (query.get("min_amount"), "--min-amount"),
            (query.get("max_amount"), "--max-amount"),
        ):
            if getattr(value, "currency", None) is not None:  # typed with a symbol or code
                check_currency(value, uow.settings.get("currency") or "", field=field)
        stage, account, status = query.get("stage"), query.get("account"), query.get("status")
        filters: OppFilters = {
            "stage_id": uow.stages.find(stage).id if stage else None,
            "status": status.value if status else None,
            "owner": query.get("owner"),
            "account_id": find_account(uow, account).id if account else None,
            "search": query.get("search"),
            "min_amount": query.get("min_amount"),
            "max_amount": query.get("max_amount"),
            "close_after": query.get("close_after"),
            "close_before": query.get("close_before"),
            "tags": query.get("tags", ()),
            "limit": query.get("limit"),
            "sort": query.get("sort"),
            "reverse": query.get("reverse", False),
        }
        yield lambda: uow.opps.each(**filters)


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
    tag: Sequence[str] = (),
    untag: Sequence[str] = (),
) -> OppAdded:
    """Change a deal's details. A probability given here is marked as set by hand;
    `tag`/`untag` add and remove tags."""
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
        changes.update(retag(opp.tags, tag, untag))
        if not changes:
            if tag or untag:
                return OppAdded(opp, None)
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
    moved = uow.opps.update(opp, _moved(target, probability, now))
    uow.opps.history_add(moved, now)
    return moved


def _moved(target: Stage, probability: int | None, now: datetime) -> dict[str, Any]:
    """What a stage move writes: the probability follows the stage unless given."""
    return {
        "stage_id": target.id,
        "probability": target.probability if probability is None else probability,
        "probability_manual": probability is not None,
        "updated_at": now,
    }


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
    won = uow.opps.update(opp, _won(amount, now))
    uow.opps.history_add(won, now)
    return won


def _won(amount: Decimal | None, now: datetime) -> dict[str, Any]:
    """What closing a deal as won writes."""
    changes: dict[str, Any] = {
        "status": OppStatus.WON.value,
        "probability": 100,
        "closed_at": now,
        "updated_at": now,
    }
    if amount is not None:
        changes["amount"] = amount
    return changes


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
    lost = uow.opps.update(opp, _lost(reason, competitor, now))
    uow.opps.history_add(lost, now)
    return lost


def _lost(reason: str | None, competitor: str | None, now: datetime) -> dict[str, Any]:
    """What closing a deal as lost writes."""
    return {
        "status": OppStatus.LOST.value,
        "probability": 0,
        "lost_reason": reason,
        "competitor": competitor,
        "closed_at": now,
        "updated_at": now,
    }


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


# -- many at once (`crm opp win 4 5 6`) --------------------------------------------------------
#
# One transaction and one change set for all; all or nothing: when any deal is refused (not
# found, closed, past the last stage…), nothing is written and `Refused` names each refused
# one. Deals named by id are read in one query (names one by one, as `find` resolves them).


def _found(uow: UnitOfWork, refs: Sequence[str]) -> list[tuple[str, str, Opportunity | CrmError]]:
    """The deals `refs` name, locked, each once (in the order first named), as items for
    `each_or_refused`: (its name in messages, the ref, the deal or the error to raise)."""
    ids = [int(r.strip()) for r in refs if is_id_text(r.strip())]
    by_id = uow.opps.get_many(ids, lock=True)
    seen: dict[int | str, tuple[str, str, Opportunity | CrmError]] = {}
    for ref in refs:
        text = ref.strip()
        found: Opportunity | CrmError
        if is_id_text(text):
            found = by_id.get(int(text)) or uow.opps.missing(int(text))
        else:
            try:
                found = uow.opps.find(text, lock=True)
            except CrmError as exc:
                found = exc
        if isinstance(found, Opportunity):
            seen.setdefault(found.id, (_("opportunity {ref}").format(ref=found.id), ref, found))
        else:
            seen.setdefault(text, (_("opportunity {ref}").format(ref=text), ref, found))
    return list(seen.values())


def _present(item: Opportunity | CrmError) -> Opportunity:
    if isinstance(item, CrmError):
        raise item
    return item


def _write_many(
    uow: UnitOfWork, decided: list[tuple[Opportunity, dict[str, Any]]], now: datetime
) -> list[Opportunity]:
    """Write each deal's changes (one UPDATE per batch of deals given the same changes), then
    a history entry each; the deals as they are now, in the order given."""
    groups: dict[str, tuple[dict[str, Any], list[Opportunity]]] = {}
    for opp, changes in decided:
        groups.setdefault(repr(sorted(changes.items())), (changes, []))[1].append(opp)
    written: dict[int, Opportunity] = {}
    for changes, opps in groups.values():
        written.update((o.id, o) for o in uow.opps.update_many(opps, changes))
    result = [written[opp.id] for opp, _changes in decided]
    for opp in result:
        uow.opps.history_add(opp, now)
    return result


def advance_opportunities(
    db: Database, refs: Sequence[str], *, to: str | None = None, probability: int | None = None
) -> list[Opportunity]:
    """`advance_opportunity` of every deal of `refs` (each to its next stage, or all `to`)."""
    checked_probability(probability)
    now = clock.utcnow()
    with db.write() as uow:
        uow.stages.lock(share=True)  # stages before the deals: see UnitOfWork.lock_stages
        items = _found(uow, refs)
        target = uow.stages.find(to) if to else None
        stages = uow.stages.all()

        def step(item: Opportunity | CrmError) -> tuple[Opportunity, dict[str, Any]]:
            opp = _present(item)
            check_open(opp, "advanced")
            where = target if target is not None else next_stage(stages, opp.stage_id)
            check_move(opp, where)
            return opp, _moved(where, probability, now)

        result = _write_many(uow, each_or_refused(items, step), now)
        uow.emit("opp-stage-changed", result)
        uow.commit()
        return result


def win_opportunities(
    db: Database, refs: Sequence[str], *, amount: Decimal | None = None
) -> list[Opportunity]:
    """Close every deal of `refs` as won (each at `amount`, when given)."""
    checked_amount(amount, db=db)
    now = clock.utcnow()
    return _close_all(db, refs, "won", _won(amount, now), now)


def lose_opportunities(
    db: Database, refs: Sequence[str], *, reason: str, competitor: str | None = None
) -> list[Opportunity]:
    """Close every deal of `refs` as lost, with the same reason (and competitor)."""
    text = clean_text(reason, field="reason")
    if not text:
        raise ValidationError(_("reason: must not be empty"))
    shown = clean_text(competitor, field="competitor") if competitor else None
    now = clock.utcnow()
    return _close_all(db, refs, "lost", _lost(text, shown, now), now)


def _close_all(
    db: Database, refs: Sequence[str], status: str, changes: dict[str, Any], now: datetime
) -> list[Opportunity]:
    """Write the same closing `changes` (won or lost, `status`) to every open deal of `refs`,
    all or none, and emit `opp-won`/`opp-lost` once for all of them."""
    with db.write() as uow:
        items = _found(uow, refs)

        def check(item: Opportunity | CrmError) -> tuple[Opportunity, dict[str, Any]]:
            opp = _present(item)
            check_open(opp, status)
            return opp, changes

        result = _write_many(uow, each_or_refused(items, check), now)
        uow.emit(f"opp-{status}", result)
        uow.commit()
        return result


def delete_opportunities(
    db: Database,
    refs: Sequence[str],
    *,
    dry_run: bool = False,
    expected: Sequence[Removal] | None = None,
) -> list[Removal]:
    """`delete_opportunity` of every deal of `refs`, in one change set. `dry_run` does all of
    it, then rolls it back (the preview shown before asking); with `expected` (that preview),
    a delete that would now take anything else is refused and nothing is written."""
    previewed = {r.record.id: r for r in expected or ()}
    with db.write() as uow:
        items = _found(uow, refs)

        def go(item: Opportunity | CrmError) -> Removal:
            opp = _present(item)
            # each as a dry run (no commit of its own); the one commit is below
            done = removal(
                uow,
                "opportunity",
                opp,
                uow.opps.delete,
                dry_run=True,
                expected=previewed.get(opp.id) if expected is not None else None,
            )
            return replace(done, dry_run=dry_run)

        result = each_or_refused(items, go)
        if not dry_run:
            uow.commit()
        return result
