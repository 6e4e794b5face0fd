"""Activity use cases: add, list, show, edit, mark done, delete (the agenda: services/agenda.py).

Due dates are naive *local* times (a salesperson's "tomorrow 09:00" is on their wall clock), so
they are compared with `local_now()`, not with UTC. `CRM_NOW` pins that "now" as it pins
`clock.utcnow()`, which keeps tests and the guide reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from crmcli import clock
from crmcli.domain.models import Activity, ActivityType, Lead, Party
from crmcli.domain.records import record
from crmcli.domain.rules import ACTIVITY_BUCKETS, ACTIVITY_LINKS, check_not_done
from crmcli.domain.values import (
    clean_text,
    parse_activity_type,
    parse_lead_reference,
    parse_when,
)
from crmcli.errors import NotFound, UsageError, ValidationError
from crmcli.i18n import _
from crmcli.services.accounts import find_account, find_contact
from crmcli.services.common import default_owner, each_or_refused, required_name
from crmcli.services.opportunities import OppDetail
from crmcli.store.db import Database
from crmcli.store.uow import UnitOfWork

Due = tuple[datetime, bool]
"""A parsed due moment: (naive local datetime, has_time)."""

LINK_KINDS = tuple(ACTIVITY_LINKS)
"""What an activity can be linked to: lead, contact, account, opp."""

BUCKETS = ACTIVITY_BUCKETS
"""The due-date windows: overdue, today, upcoming."""


def local_now() -> datetime:
    """Now as a naive local time: the pinned `CRM_NOW` when set, else the wall clock."""
    return clock.local_now()


def parse_due(text: str, *, now: datetime | None = None) -> Due | None:
    """A due date or date and time as typed (``2026-12-15``, ``tomorrow 09:00``, ``+3d``…);
    None for an empty text (which clears a due date in `edit_activity`)."""
    if not text.strip():
        return None
    return parse_when(text, field="due", now=local_now() if now is None else now)


def _due_input(value: Due | str | None, now: datetime) -> Due | None:
    if isinstance(value, str):
        return parse_due(value, now=now)
    return value


def _activity_type(value: ActivityType | str) -> ActivityType:
    if isinstance(value, ActivityType):
        return value
    return parse_activity_type(value)


def _links(links: Mapping[str, str | int | None]) -> tuple[str, str | int, str | None]:
    """The record an activity belongs to (kind, ref) and the contact it was with, if a contact
    is named beside a deal or an account (`--opp 3 --contact Pedro`)."""
    person = links.get("contact")
    if person is not None and (links.get("opp") is not None or links.get("account") is not None):
        kind, ref = _one_link({k: v for k, v in links.items() if k != "contact"})
        return kind, ref, str(person)
    kind, ref = _one_link(links)
    return kind, ref, None


def _one_link(links: Mapping[str, str | int | None]) -> tuple[str, str | int]:
    given = [(kind, ref) for kind, ref in links.items() if ref is not None]
    options = ", ".join(f"--{kind}" for kind in LINK_KINDS)
    if not given:
        raise UsageError(
            _("an activity needs one record to belong to: give one of {options}").format(
                options=options
            )
        )
    if len(given) > 1:
        named = _(" and ").join(f"--{kind}" for kind, _ref in given)
        raise UsageError(
            _("an activity belongs to exactly one record: {options} given, keep one").format(
                options=named
            )
        )
    return given[0]


def _link_id(uow: UnitOfWork, kind: str, ref: str | int) -> int:
    """The id of the existing record `ref` names (NotFound otherwise)."""
    text = str(ref)
    if kind == "lead":  # the cli read it (an id or an e-mail); a text is read here alike
        return uow.leads.find(ref if isinstance(ref, int) else parse_lead_reference(text)).id
    if kind == "contact":
        return find_contact(uow, text).id
    if kind == "account":
        return find_account(uow, text).id
    if kind == "opp":
        return uow.opps.find(text).id
    raise UsageError(
        _('"{value}" is not one of {choices}').format(value=kind, choices=", ".join(LINK_KINDS))
    )


def _owner(owner: str | None) -> str | None:
    return clean_text(owner, field="owner") if owner is not None else default_owner()


def add_activity(
    db: Database,
    subject: str,
    *,
    type_: ActivityType | str,
    lead: int | str | None = None,
    contact: str | None = None,
    account: str | None = None,
    opp: str | None = None,
    due: Due | str | None = None,
    owner: str | None = None,
    notes: str | None = None,
    done_at: datetime | None = None,
) -> Activity:
    """Record a call, meeting, e-mail, task or note on exactly one existing record (and, on a
    deal or an account, the contact it is with).

    With `done_at` (naive UTC) it is recorded as already done then; a note is always born done
    (it records what happened, it is not a next step). Zero or several links are a usage error;
    a link to a record that does not exist is NotFound.
    """
    clean = required_name(subject, field="subject")
    kind = _activity_type(type_)
    link_kind, ref, person = _links(
        {"lead": lead, "contact": contact, "account": account, "opp": opp}
    )
    when = _due_input(due, local_now())
    now = clock.utcnow()
    if done_at is None and kind is ActivityType.NOTE:
        done_at = now
    values: dict[str, Any] = {
        "type": kind.value,
        "subject": clean,
        "due": when[0] if when else None,
        "due_has_time": when[1] if when else False,
        "done": done_at is not None,
        "done_at": done_at,
        "owner": _owner(owner),
        "notes": clean_text(notes, field="notes"),
    }
    with db.write() as uow:
        values[ACTIVITY_LINKS[link_kind]] = _link_id(uow, link_kind, ref)
        if person is not None:
            values["person_id"] = find_contact(uow, person).id
        result = uow.activities.add({**values, "created_at": now, "updated_at": now})
        uow.commit()
        return result


def log_activity(
    db: Database,
    subject: str,
    *,
    type_: ActivityType | str,
    at: Due | str | None = None,
    **links_and_details: Any,
) -> Activity:
    """Record an activity already done: at `at` (a local time or date as `--due` takes it;
    default now), which is also its due time."""
    now = local_now()
    typed = parse_when(at, field="at", now=now) if isinstance(at, str) and at.strip() else None
    when: Due = typed or (at if isinstance(at, tuple) else (now.replace(microsecond=0), True))
    if when[0] > now:
        raise ValidationError(
            _("at: {value} is in the future; log what already happened").format(
                value=when[0].isoformat(sep=" ", timespec="minutes")
            )
        )
    return add_activity(
        db,
        subject,
        type_=type_,
        due=when,
        done_at=clock.utc_of_local(when[0]),
        **links_and_details,
    )


def list_activities(
    db: Database,
    *,
    buckets: Sequence[str] = (),
    link: tuple[str, int | str] | None = None,
    include_done: bool = False,
    owner: str | None = None,
    now: datetime | None = None,
    limit: int | None = None,
    sort: str | None = None,
    reverse: bool = False,
) -> ActivityList:
    """Activities, soonest due first (or by `sort`, a field of `sorting.SORT_FIELDS`,
    `reverse`d), at most `limit`: pending ones unless `include_done`.

    `buckets` (overdue, today, upcoming; several make a union) select by due date; `link` is
    (kind, id or name) of the record they belong to, which must exist. Each comes with whom
    it is for (names, phones, e-mails).
    """
    unknown = [b for b in buckets if b not in BUCKETS]
    if unknown:
        raise UsageError(
            _('"{value}" is not one of {choices}').format(
                value=unknown[0], choices=", ".join(BUCKETS)
            )
        )
    if link is not None and link[0] not in ACTIVITY_LINKS:
        raise UsageError(
            _('--for: "{value}" is not one of {choices}').format(
                value=link[0], choices=", ".join(LINK_KINDS)
            )
        )
    moment = local_now() if now is None else now
    with db.read() as uow:
        where = (link[0], _link_id(uow, link[0], link[1])) if link is not None else None
        found = uow.activities.list(
            now=moment,
            include_done=include_done,
            buckets=buckets,
            link=where,
            owner=owner,
            limit=limit,
            sort=sort,
            reverse=reverse,
        )
        return ActivityList(found, uow.activities.parties(found))


@record
class ActivityList:
    """Activities and whom each one is for (by activity id)."""

    activities: list[Activity]
    parties: dict[int, Party]


def get_activity(db: Database, activity_id: int) -> Activity:
    """One activity by id."""
    with db.read() as uow:
        return uow.activities.get(activity_id)


def edit_activity(
    db: Database,
    activity_id: int,
    *,
    subject: str | None = None,
    type_: ActivityType | str | None = None,
    due: Due | str | None = None,
    clear_due: bool = False,
    owner: str | None = None,
    notes: str | None = None,
) -> Activity:
    """Change an activity's subject, type, due date, owner or notes.

    An empty `due` text (or `clear_due`) removes the due date; an empty owner or notes clears it.
    """
    changes: dict[str, Any] = {}
    if subject is not None:
        changes["subject"] = required_name(subject, field="subject")
    if type_ is not None:
        changes["type"] = _activity_type(type_).value
    if due is not None or clear_due:
        when = None if clear_due else _due_input(due, local_now())
        changes["due"] = when[0] if when else None
        changes["due_has_time"] = when[1] if when else False
    if owner is not None:
        changes["owner"] = clean_text(owner, field="owner")
    if notes is not None:
        changes["notes"] = clean_text(notes, field="notes")
    if not changes:
        raise ValidationError(_("nothing to change: give at least one option"))
    with db.write() as uow:
        activity = uow.activities.get(activity_id)
        result = uow.activities.update(activity, {**changes, "updated_at": clock.utcnow()})
        uow.commit()
        return result


def complete_activity(db: Database, activity_id: int) -> Activity:
    """Mark an activity done (once: a second time is an invalid transition)."""
    now = clock.utcnow()
    with db.write() as uow:
        activity = uow.activities.get(activity_id)
        check_not_done(activity)
        result = uow.activities.update(activity, {"done": True, "done_at": now, "updated_at": now})
        uow.commit()
        return result


def delete_activity(db: Database, activity_id: int) -> Activity:
    """Remove an activity for good; returns what was deleted."""
    with db.write() as uow:
        activity = uow.activities.get(activity_id)
        uow.activities.delete(activity.id)
        uow.commit()
        return activity


# -- many at once (`crm activity done 4 5 6`): one transaction, one change set, all or nothing


def _found(uow: UnitOfWork, ids: Sequence[int]) -> list[tuple[str, int, Activity | NotFound]]:
    """The activities `ids` name, each once, as items for `each_or_refused`."""
    found = uow.activities.get_many(ids)
    return [
        (_("activity {id}").format(id=i), i, found.get(i) or uow.activities.missing(i))
        for i in dict.fromkeys(ids)
    ]


def _present(item: Activity | NotFound) -> Activity:
    if isinstance(item, NotFound):
        raise item
    return item


def _undone(item: Activity | NotFound) -> Activity:
    activity = _present(item)
    check_not_done(activity)
    return activity


def get_activities(db: Database, ids: Sequence[int]) -> list[Activity]:
    """The activities of `ids`, each once (`Refused` naming any missing)."""
    with db.read() as uow:
        return each_or_refused(_found(uow, ids), _present)


def complete_activities(db: Database, ids: Sequence[int]) -> list[Activity]:
    """Mark every activity of `ids` done (all or nothing: one already done is refused)."""
    now = clock.utcnow()
    with db.write() as uow:
        activities = each_or_refused(_found(uow, ids), _undone)
        result = uow.activities.update_many(
            activities, {"done": True, "done_at": now, "updated_at": now}
        )
        uow.commit()
        return result


def delete_activities(db: Database, ids: Sequence[int]) -> list[Activity]:
    """Remove every activity of `ids` for good (all or nothing); returns what went."""
    with db.write() as uow:
        activities = each_or_refused(_found(uow, ids), _present)
        for activity in activities:
            uow.activities.delete(activity.id)
        uow.commit()
        return activities


# -- the records that show their activities ----------------------------------------------------


@record
class OppWithActivities:
    """An opportunity, its stage history and its activities (done ones included)."""

    detail: OppDetail
    activities: list[Activity]


def show_opportunity_with_activities(db: Database, ref: str) -> OppWithActivities:
    """`opp show`: a deal, its history and its activities, in one read transaction."""
    now = local_now()
    with db.read() as uow:
        opp = uow.opps.find(ref)
        activities = uow.activities.list(now=now, include_done=True, link=("opp", opp.id))
        return OppWithActivities(OppDetail(opp, uow.opps.history(opp.id)), activities)


@record
class LeadWithActivities:
    """A lead and its activities (done ones included)."""

    lead: Lead
    activities: list[Activity]


def show_lead_with_activities(db: Database, lead_id: int | str) -> LeadWithActivities:
    """`lead show`: a lead (by id or e-mail) and its activities, in one read transaction."""
    now = local_now()
    with db.read() as uow:
        lead = uow.leads.find(lead_id)
        activities = uow.activities.list(now=now, include_done=True, link=("lead", lead.id))
        return LeadWithActivities(lead, activities)
