"""Transition rules for leads, opportunities and activities. Pure functions; they raise, they never write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from crmcli.domain.models import Activity, Lead, LeadStatus, Opportunity, OppStatus, Stage
from crmcli.errors import InvalidTransition, ValidationError
from crmcli.i18n import N_, _

# Which lead statuses each action may start from, and where it leads.
_LEAD_ACTIONS: dict[str, tuple[frozenset[LeadStatus], LeadStatus]] = {
    "contact": (frozenset({LeadStatus.NEW}), LeadStatus.CONTACTED),
    "qualify": (frozenset({LeadStatus.NEW, LeadStatus.CONTACTED}), LeadStatus.QUALIFIED),
    "disqualify": (
        frozenset({LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED}),
        LeadStatus.DISQUALIFIED,
    ),
    "convert": (frozenset({LeadStatus.QUALIFIED}), LeadStatus.CONVERTED),
    "archive": (
        frozenset(
            {
                LeadStatus.NEW,
                LeadStatus.CONTACTED,
                LeadStatus.QUALIFIED,
                LeadStatus.DISQUALIFIED,
            }
        ),
        LeadStatus.ARCHIVED,
    ),
    "reopen": (frozenset({LeadStatus.DISQUALIFIED, LeadStatus.ARCHIVED}), LeadStatus.NEW),
}

_LEAD_HINTS: dict[tuple[str, LeadStatus], str] = {
    ("convert", LeadStatus.CONVERTED): N_("it was already converted"),
    ("convert", LeadStatus.NEW): N_("qualify it first (crm lead qualify)"),
    ("convert", LeadStatus.CONTACTED): N_("qualify it first (crm lead qualify)"),
    ("qualify", LeadStatus.QUALIFIED): N_("it is already qualified"),
    ("reopen", LeadStatus.CONVERTED): N_(
        "a converted lead stays the record of its conversion (crm undo takes a conversion back)"
    ),
}
"""Why an action is refused, where a better reason than the statuses it needs can be given."""


def lead_transition(lead: Lead, action: str) -> LeadStatus:
    """Return the status `action` moves `lead` to, or raise InvalidTransition."""
    allowed, target = _LEAD_ACTIONS[action]
    if lead.status not in allowed:
        hint = _LEAD_HINTS.get((action, lead.status))
        starts = ", ".join(sorted(s.value for s in allowed))
        if hint is not None:
            reason = _(hint)
        elif action == "reopen":
            reason = _("only a lead that is {statuses} can be reopened").format(statuses=starts)
        else:
            reason = _("only a lead that is {statuses} can be {status}").format(
                statuses=starts, status=target.value
            )
        raise InvalidTransition(
            _("lead {id} is {status}: {reason}").format(
                id=lead.id, status=lead.status.value, reason=reason
            )
        )
    return target


def check_qualifiable(lead: Lead) -> None:
    """Refuse qualification unless the lead has both a budget and a timeline."""
    if lead.budget is None and lead.timeline is None:
        message = _(
            "lead {id} cannot be qualified: it needs a budget (--budget) and a timeline"
            " (--timeline)"
        )
    elif lead.budget is None:
        message = _("lead {id} cannot be qualified: it needs a budget (--budget)")
    elif lead.timeline is None:
        message = _("lead {id} cannot be qualified: it needs a timeline (--timeline)")
    else:
        return
    raise ValidationError(message.format(id=lead.id))


def ordered(stages: Sequence[Stage]) -> list[Stage]:
    """The stages in pipeline order."""
    return sorted(stages, key=lambda s: (s.position, s.id))


def next_stage(stages: Sequence[Stage], current_id: int | None) -> Stage:
    """The stage after `current_id`; past the last one is an error that suggests `opp win`."""
    pipeline = ordered(stages)
    if not pipeline:
        raise ValidationError(_("the pipeline has no stages: add one with `crm stage add`"))
    ids = [s.id for s in pipeline]
    if current_id not in ids:
        return pipeline[0]
    index = ids.index(current_id)
    if index + 1 >= len(pipeline):
        raise InvalidTransition(
            _('"{stage}" is the last stage: close the deal with `crm opp win`').format(
                stage=pipeline[index].name
            )
        )
    return pipeline[index + 1]


_CLOSED = {
    "advanced": N_(
        "opportunity {id} is {status}: it cannot be advanced (reopen it first with"
        " `crm opp reopen`)"
    ),
    "moved": N_(
        "opportunity {id} is {status}: it cannot be moved (reopen it first with `crm opp reopen`)"
    ),
    "won": N_(
        "opportunity {id} is {status}: it cannot be won (reopen it first with `crm opp reopen`)"
    ),
    "lost": N_(
        "opportunity {id} is {status}: it cannot be lost (reopen it first with `crm opp reopen`)"
    ),
    "given a probability": N_(
        "opportunity {id} is {status}: it cannot be given a probability (reopen it first with"
        " `crm opp reopen`)"
    ),
}
"""The refusal of each action on a closed opportunity (`check_open`)."""


def check_open(opp: Opportunity, action: str) -> None:
    """Refuse `action` (`advanced`, `moved`, `won`, `lost`, `given a probability`) on a closed
    opportunity."""
    if opp.status is not OppStatus.OPEN:
        template = _CLOSED.get(action)
        if template is None:  # an action with no message of its own: said in English
            message = _(
                "opportunity {id} is {status}: it cannot be {action}"
                " (reopen it first with `crm opp reopen`)"
            ).format(id=opp.id, status=opp.status.value, action=action)
        else:
            message = _(template).format(id=opp.id, status=opp.status.value)
        raise InvalidTransition(message)


def check_move(opp: Opportunity, target: Stage) -> None:
    """Refuse moving an opportunity to the stage it is already in."""
    check_open(opp, "moved")
    if opp.stage_id == target.id:
        raise InvalidTransition(
            _('opportunity {id} is already in stage "{stage}"').format(id=opp.id, stage=target.name)
        )


def check_reopen(opp: Opportunity) -> None:
    """Only a won or lost opportunity can be reopened."""
    if opp.status is OppStatus.OPEN:
        raise InvalidTransition(_("opportunity {id} is already open").format(id=opp.id))


def check_not_done(activity: Activity) -> None:
    """An activity is marked done once; a second time is refused."""
    if activity.done:
        if activity.done_at is None:
            message = _("activity {id} is already done (marked)").format(id=activity.id)
        else:
            message = _("activity {id} is already done (marked at {moment} UTC)").format(
                id=activity.id, moment=f"{activity.done_at:%Y-%m-%d %H:%M}"
            )
        raise InvalidTransition(message)


# -- activities: where a pending one stands -----------------------------------------------------

ACTIVITY_BUCKETS = ("overdue", "today", "upcoming")
"""The due-date windows of pending activities (see `activity_bucket`)."""

ACTIVITY_LINKS = {
    "lead": "lead_id",
    "contact": "contact_id",
    "account": "account_id",
    "opp": "opportunity_id",
}
"""The kinds of record an activity can be linked to, and the field that holds the link."""


def link_of(activity: Activity) -> tuple[str, int]:
    """The kind (a key of ACTIVITY_LINKS) and id of the one record an activity is on."""
    for kind, column in ACTIVITY_LINKS.items():
        record_id = getattr(activity, column)
        if record_id is not None:
            return kind, int(record_id)
    raise ValueError(f"activity {activity.id} belongs to no record")


def bucket_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The start of today and of tomorrow for the naive local time `now`."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return today, today + timedelta(days=1)


def activity_bucket(activity: Activity, now: datetime) -> str | None:
    """Where a pending activity stands: overdue, today or upcoming (None: done or no due date).

    Overdue: a timed due before `now`, or a date-only due on a day before today. Today: due
    today and not overdue. Upcoming: due after today. The activity repository's bucket filter
    is the same rule in SQL, over `bucket_bounds(now)`.
    """
    if activity.done or activity.due is None:
        return None
    due, today = activity.due, now.date()
    if (activity.due_has_time and due < now) or (not activity.due_has_time and due.date() < today):
        return "overdue"
    return "today" if due.date() == today else "upcoming"


# -- reports: what the figures mean ---------------------------------------------------------------

MAX_STALE_DAYS = (date(9999, 12, 31) - date(1900, 1, 1)).days
"""The largest `report stale --days`: the span of the calendar crm accepts (2,958,463 days).
A longer quiet period cannot exist, and past it `today - days` leaves the calendar (and, on
PostgreSQL, `days × 86,400` seconds leaves BIGINT); both backends refuse it the same way."""

DEFAULT_STALE_DAYS = 14
"""How many quiet days make a deal stale when neither `--days` nor its stage says."""

NO_GROUP = "(none)"
"""The group of deals without an owner (or leads without a source) in the grouped reports."""

SECONDS_PER_DAY = 86_400
