"""Activities: calls, meetings, e-mails, tasks and notes linked to one record each."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from crmcli.domain.models import Activity, ActivityType, Party, restore
from crmcli.domain.rules import ACTIVITY_BUCKETS, ACTIVITY_LINKS, bucket_bounds, link_of
from crmcli.domain.values import normalise_name
from crmcli.store.ordering import By, Sorts, limited, order_by
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


_SORTS: Sorts = {
    "id": (),
    "due": (By("due", null="due"),),
    "type": (By("type", text=True),),
    "subject": (By("subject", text=True),),
    "status": (By("done"), By("due", null="due")),
    "owner": (By("owner_key", null="owner_key", text=True),),
    "created_at": (By("created_at"),),
}
"""How `activity list --sort` orders each field: by status, pending before done, each
overdue, today, upcoming (by due date), then those without a due date."""


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

    def get_many(self, ids: Sequence[int]) -> dict[int, Activity]:
        """The activities with these ids, by id (missing ones left out), batched."""
        return {i: activity_of(row) for i, row in self._rows_by_id(ids).items()}

    def update_many(
        self, activities: Sequence[Activity], changes: Mapping[str, Any]
    ) -> list[Activity]:
        """Write the same `changes` to every activity, batched; them as now, in order."""
        ids = [a.id for a in activities]
        self._update_many(ids, changes)
        stored = self._rows_by_id(ids)
        return [activity_of(stored[i]) for i in ids]

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
        limit: int | None = None,
        sort: str | None = None,
        reverse: bool = False,
    ) -> list[Activity]:
        """Activities, soonest due first (those without a due date last), then by id (or by
        `sort`, one of `sorting.SORT_FIELDS["activity"]`, `reverse`d), at most `limit`.

        Pending ones only unless `include_done`. `buckets` (any of ACTIVITY_BUCKETS, combined as
        a union) select by due date relative to `now`, a naive local time, as
        `rules.bucket_bounds` defines them. `link` is (kind, id) with a kind of ACTIVITY_LINKS.
        """
        where, params = self._where(
            now=now, include_done=include_done, buckets=buckets, link=link, owner=owner
        )
        # With a bucket every row has a due date, and (done, due) index order is the answer's.
        order = "ORDER BY due, id" if buckets else "ORDER BY due IS NULL, due, id"
        if sort is not None or reverse:
            order = order_by(self.dialect, _SORTS, sort or "due", reverse=reverse, tie="id")
        order = limited(order, limit, params)
        return self._records(Activity, where, params, order, converters=_CONVERTERS)

    def count(self, *, now: datetime, buckets: Sequence[str] = (), owner: str | None = None) -> int:
        """How many pending activities `list` would give with these filters and no limit."""
        where, params = self._where(now=now, buckets=buckets, owner=owner)
        sql = f"SELECT COUNT(*) FROM activity WHERE {' AND '.join(where)}"
        return int(self.conn.scalar(sql, params))

    def _where(
        self,
        *,
        now: datetime,
        include_done: bool = False,
        buckets: Sequence[str] = (),
        link: tuple[str, int] | None = None,
        owner: str | None = None,
    ) -> tuple[builtins.list[str], dict[str, Any]]:
        """The conditions (and their parameters) of `list`'s filters."""
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
            # a timed due before now, or a date-only due before today: as today <= now, the
            # same as below, where `due` alone (the index) settles every day before today
            overdue = "(due < :now AND (due < :today OR due_has_time = :yes))"
            windows = {
                "overdue": overdue,
                "today": f"(due >= :today AND due < :tomorrow AND NOT {overdue})",
                "upcoming": "(due >= :tomorrow)",
            }
            where.append(f"due IS NOT NULL AND ({' OR '.join(windows[b] for b in buckets)})")
        if link is not None:
            kind, record_id = link
            column = ACTIVITY_LINKS[kind]
            # a contact's activities include those on deals and accounts that name them
            either = " OR person_id = :link" if column == "contact_id" else ""
            where.append(f"({column} = :link{either})")
            params["link"] = record_id
        if owner:
            where.append("owner_key = :owner")
            params["owner"] = normalise_name(owner)
        return where, params

    def around(
        self, *, account_id: int | None = None, contact_id: int | None = None
    ) -> builtins.list[Activity]:
        """Every activity of an account (on it, its deals and its contacts) or of a contact (on
        them, naming them, or on their deals), pending first, soonest due first."""
        if account_id is not None:
            where = (
                "account_id = :r OR opportunity_id IN (SELECT id FROM opportunity WHERE"
                " account_id = :r) OR contact_id IN (SELECT id FROM contact WHERE account_id = :r)"
            )
        else:
            where = (
                "contact_id = :r OR person_id = :r OR opportunity_id IN (SELECT id FROM"
                " opportunity WHERE contact_id = :r)"
            )
        order = "ORDER BY done, due IS NULL, due, id"
        params = {"r": account_id if account_id is not None else contact_id}
        return self._records(Activity, [f"({where})"], params, order, converters=_CONVERTERS)

    def parties(self, activities: Sequence[Activity]) -> dict[int, Party]:
        """Whom each of `activities` is for (`Party`), by activity id, in one query: the record
        it belongs to by name and the person to talk to, with phone and e-mail."""
        wanted: dict[str, set[int]] = {k: set() for k in _PARTY_SQL}
        links = [link_of(a) for a in activities]
        for a, (kind, record_id) in zip(activities, links, strict=True):
            wanted[kind].add(record_id)
            if a.person_id is not None:
                wanted["contact"].add(a.person_id)
        params = {kind: self.dialect.ids_value(ids) for kind, ids in wanted.items() if ids}
        parts = [
            _PARTY_SQL[kind].format(
                ids=self.dialect.in_ids("o.id" if kind == "opp" else "id", kind)
            )
            for kind in params
        ]
        if not parts:
            return {}
        found = {(r[0], r[1]): r for r in self.conn.rows(" UNION ALL ".join(parts), params)}
        result: dict[int, Party] = {}
        for a, link in zip(activities, links, strict=True):
            kind, record_id, name, person, phone, email = found.get(link) or (*link, "", *_NONE)
            met = found.get(("contact", a.person_id)) if a.person_id is not None else None
            if met is not None:  # the contact the activity names
                person, phone, email = met[2], met[4], met[5]
            elif kind == "contact":
                person = name
            result[a.id] = restore(  # thousands of rows in an agenda: no __init__ each
                Party,
                {
                    "type": kind,
                    "id": record_id,
                    "name": name,
                    "person": person,
                    "phone": phone,
                    "email": email,
                },
            )
        return result


_NONE = (None, None, None)


_PARTY_SQL = {
    "lead": "SELECT 'lead', id, name, name, phone, email FROM lead WHERE {ids}",
    "contact": "SELECT 'contact', id, name, NULL, phone, email FROM contact WHERE {ids}",
    "account": "SELECT 'account', id, name, NULL, phone, NULL FROM account WHERE {ids}",
    "opp": (
        "SELECT 'opp', o.id, o.name, c.name, c.phone, c.email FROM opportunity o"
        " LEFT JOIN contact c ON c.id = o.contact_id WHERE {ids}"
    ),
}
"""Per kind of record: (kind, id, name, person, phone, e-mail) of the records with these ids."""
