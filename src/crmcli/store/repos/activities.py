"""Activities: calls, meetings, e-mails, tasks and notes linked to one record each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from crmcli.domain.models import Activity, ActivityType, restore
from crmcli.domain.rules import ACTIVITY_BUCKETS, ACTIVITY_LINKS, bucket_bounds
from crmcli.domain.values import normalise_name
from crmcli.store.repos.base import Repository
from crmcli.store.schema import by_value

_FIELDS = tuple(Activity.__dataclass_fields__)


_CONVERTERS = (("type", by_value(ActivityType)),)


def activity_of(row: Mapping[str, Any]) -> Activity:
    """An `Activity` from an activity row in domain form."""
    data = {f: row[f] for f in _FIELDS}
    data["type"] = ActivityType(row["type"])
    data["done"] = bool(row["done"])
    data["due_has_time"] = bool(row["due_has_time"])
    return restore(Activity, data)


class ActivityRepository(Repository):
    """The activity table."""

    table = "activity"
    kind = "activity"
    entity = "activity"

    def get(self, activity_id: int) -> Activity:
        """The activity with this id, or NotFound."""
        return activity_of(self._row(activity_id))

    def add(self, values: Mapping[str, Any]) -> Activity:
        """Store a new activity; `values` holds domain fields (exactly one link set)."""
        return self.get(self._insert(values))

    def update(self, activity: Activity, changes: Mapping[str, Any]) -> Activity:
        """Write `changes` (domain fields) to `activity`."""
        self._update(activity.id, changes)
        return self.get(activity.id)

    def delete(self, activity_id: int) -> None:
        """Remove an activity for good."""
        self._delete(activity_id)

    def delete_linked(self, column: str, record_id: int) -> None:
        """Remove the activities linked to a record that is being removed (each journaled)."""
        if column not in ACTIVITY_LINKS.values():
            raise ValueError(column)
        sql = f"SELECT id FROM activity WHERE {column} = :r ORDER BY id"
        for (activity_id,) in self.conn.rows(sql, {"r": record_id}):
            self._delete(int(activity_id))

    def list(
        self,
        *,
        now: datetime,
        include_done: bool = False,
        buckets: Sequence[str] = (),
        link: tuple[str, int] | None = None,
        owner: str | None = None,
    ) -> list[Activity]:
        """Activities, soonest due first (those without a due date last), then by id.

        Pending ones only unless `include_done`. `buckets` (any of ACTIVITY_BUCKETS, combined as
        a union) select by due date relative to `now`, a naive local time, as
        `rules.bucket_bounds` defines them. `link` is (kind, id) with a kind of ACTIVITY_LINKS.
        """
        where: list[str] = []
        params: dict[str, Any] = {}
        if not include_done:
            where.append("done = :no")
            params["no"] = False
        if buckets:
            unknown = set(buckets) - set(ACTIVITY_BUCKETS)
            if unknown:
                raise ValueError(f"unknown activity bucket(s): {sorted(unknown)}")
            today, tomorrow = bucket_bounds(now)
            params.update(now=now, today=today, tomorrow=tomorrow, yes=True, no=False)
            overdue = (
                "((due_has_time = :yes AND due < :now) OR (due_has_time = :no AND due < :today))"
            )
            windows = {
                "overdue": overdue,
                "today": f"(due >= :today AND due < :tomorrow AND NOT {overdue})",
                "upcoming": "(due >= :tomorrow)",
            }
            where.append(f"due IS NOT NULL AND ({' OR '.join(windows[b] for b in buckets)})")
        if link is not None:
            kind, record_id = link
            where.append(f"{ACTIVITY_LINKS[kind]} = :link")
            params["link"] = record_id
        if owner:
            where.append("owner_key = :owner")
            params["owner"] = normalise_name(owner)
        # With a bucket every row has a due date, and (done, due) index order is the answer's.
        order = "ORDER BY due, id" if buckets else "ORDER BY due IS NULL, due, id"
        return self._records(Activity, where, params, order, converters=_CONVERTERS)
