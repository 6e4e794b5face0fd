"""The morning agenda: overdue and today's activities, then open deals with no next step.

Its own module so `crm agenda` loads only what it reads (not the activity and account use
cases). Due dates are naive local times, compared with `clock.local_now()`.
"""

from __future__ import annotations

from dataclasses import field
from datetime import datetime

from crmcli import clock
from crmcli.domain.models import Activity, Opportunity, Party
from crmcli.domain.records import record
from crmcli.domain.rules import activity_bucket
from crmcli.store.db import Database


@record
class Agenda:
    """The salesperson's morning: what is overdue, what is due today, and forgotten deals.

    Attributes:
        now: the local time the buckets were computed at.
        no_next_step: open opportunities with no pending activity.
        parties: whom each overdue and today's activity is for, by activity id.
    """

    now: datetime
    overdue: list[Activity]
    today: list[Activity]
    no_next_step: list[Opportunity]
    no_next_step_total: int = 0
    parties: dict[int, Party] = field(default_factory=dict)


def agenda(
    db: Database,
    *,
    owner: str | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> Agenda:
    """Overdue and today's pending activities, then open deals with no next step (the first
    `limit` of them, soonest close first, and how many there are in all), in one read; the
    due activities in one query, split into overdue and today by `rules.activity_bucket`."""
    moment = clock.local_now() if now is None else now
    with db.read() as uow:
        deals = uow.opps.without_next_step(owner=owner, limit=limit)
        total = len(deals)
        if limit is not None and total >= limit:
            total = uow.opps.count_without_next_step(owner=owner)
        due = uow.activities.list(now=moment, buckets=("overdue", "today"), owner=owner)
        parties = uow.activities.parties(due)
    overdue: list[Activity] = []
    today: list[Activity] = []
    for activity in due:
        (overdue if activity_bucket(activity, moment) == "overdue" else today).append(activity)
    return Agenda(moment, overdue, today, deals, total, parties)
