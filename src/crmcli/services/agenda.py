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
from crmcli.store.db import Database


@record
class Agenda:
    """The salesperson's morning: what is overdue, what is due today, and forgotten deals.

    Attributes:
        now: the local time the buckets were computed at.
        no_next_step: open opportunities with no pending activity.
        *_total: how many there are in all, when a limit kept only the first ones.
        parties: whom each overdue and today's activity is for, by activity id.
    """

    now: datetime
    overdue: list[Activity]
    today: list[Activity]
    no_next_step: list[Opportunity]
    no_next_step_total: int = 0
    parties: dict[int, Party] = field(default_factory=dict)
    overdue_total: int = 0
    today_total: int = 0


def agenda(
    db: Database,
    *,
    owner: str | None = None,
    now: datetime | None = None,
    limit: int | None = None,
    due_limit: int | None = None,
) -> Agenda:
    """Overdue and today's pending activities (the first `due_limit` of each, soonest due
    first), then open deals with no next step (the first `limit`, soonest close first), each
    with how many there are in all, in one read. Buckets as `rules.bucket_bounds` draws them."""
    moment = clock.local_now() if now is None else now
    with db.read() as uow:
        deals = uow.opps.without_next_step(owner=owner, limit=limit)
        total = len(deals)
        if limit is not None and total >= limit:
            total = uow.opps.count_without_next_step(owner=owner)
        due: dict[str, list[Activity]] = {}
        totals: dict[str, int] = {}
        for bucket in ("overdue", "today"):
            found = uow.activities.list(now=moment, buckets=(bucket,), owner=owner, limit=due_limit)
            due[bucket], totals[bucket] = found, len(found)
            if due_limit is not None and len(found) >= due_limit:
                totals[bucket] = uow.activities.count(now=moment, buckets=(bucket,), owner=owner)
        parties = uow.activities.parties([*due["overdue"], *due["today"]])
    return Agenda(
        moment,
        due["overdue"],
        due["today"],
        deals,
        total,
        parties,
        overdue_total=totals["overdue"],
        today_total=totals["today"],
    )
