"""What "as of a date" reports are rebuilt from: the deals now, each with its last stage history
row before a moment, the journal's changes of deals since that moment, and when the journal
began. Three queries; the rebuild itself is pure (`crmcli.reports.asof`).

Values come back in the forms the rebuild works in: money as integer cents, dates as `date`,
timestamps as naive UTC `datetime`, journaled before-values decoded from their JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crmcli.store.schema import COLUMNS, load_value
from crmcli.store.sql import in_list

if TYPE_CHECKING:
    from crmcli.store.uow import UnitOfWork

JOURNAL_MIGRATION = "0005_journal"
"""The migration that created the journal: every change since it was applied is journaled."""

_DEAL_KINDS = {"expected_close": "date", "created_at": "ts", "closed_at": "ts", "at": "ts"}
"""The columns whose storage form the rebuild needs loaded (amount stays integer cents)."""

_LOADED = ("expected_close", "created_at", "closed_at", "h_at")


def _loaded(values: dict[str, Any]) -> dict[str, Any]:
    for column, kind in _DEAL_KINDS.items():
        if column in values:
            values[column] = load_value(kind, values[column])
    return values


def _decoded(text: str | None) -> dict[str, Any] | None:
    return None if text is None else _loaded(dict(json.loads(text)))


class AsOfQueries:
    """The reads of `pipeline report --as-of` and `forecast --as-of`, in one transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.conn = uow.conn

    def journal_began(self) -> datetime | None:
        """When the journal began: the time its migration was applied (from then on every
        change is journaled), else the first change set's time; None on an empty journal of
        unknown age."""
        began = self.conn.scalar(
            "SELECT applied_at FROM crm_migrations WHERE name = :n", {"n": JOURNAL_MIGRATION}
        )
        if began is None:
            began = self.conn.scalar("SELECT MIN(at) FROM change_set")
        loaded: datetime | None = load_value(COLUMNS["crm_migrations"]["applied_at"], began)
        return loaded

    def deals(self, until: datetime, ids: Collection[int] | None = None) -> list[dict[str, Any]]:
        """Every deal created before `until` (with `ids`: those deals, whenever created), with
        its last history row before `until` (`h_id`, `h_stage_id`, `h_status`, `h_at`; NULL
        when it has none). One query: a correlated look-up per deal on the index
        (opportunity_id, at)."""
        params: dict[str, Any] = {"until": until}
        where = "o.created_at < :until" if ids is None else f"o.id IN ({in_list('i', ids, params)})"
        names, rows = self.conn.result(
            "SELECT o.id, o.stage_id, o.status, o.amount, o.probability, o.expected_close,"
            " o.owner_key, o.created_at, o.closed_at,"
            " h.id AS h_id, h.stage_id AS h_stage_id, h.status AS h_status, h.at AS h_at"
            " FROM opportunity AS o LEFT JOIN opportunity_history AS h ON h.id ="
            " (SELECT h2.id FROM opportunity_history AS h2 WHERE h2.opportunity_id = o.id"
            f" AND h2.at < :until ORDER BY h2.at DESC, h2.id DESC LIMIT 1) WHERE {where}",
            params,
        )
        close, created, closed, h_at = (names.index(c) for c in _LOADED)
        found = []
        for row in rows:
            values = list(row)
            values[close] = load_value("date", values[close])
            for index in (created, closed, h_at):
                values[index] = load_value("ts", values[index])
            found.append(dict(zip(names, values, strict=True)))
        return found

    def changes_since(
        self, since: datetime
    ) -> list[tuple[str, str, int, int, dict[str, Any] | None]]:
        """The journal's changes of deals and their history rows in change sets made at or
        after `since`, newest first: (entity, op, first id, last id, before-values or None).
        A bulk run of ids (an import, an undo of one) has no values."""
        rows = self.conn.rows(
            "SELECT c.entity, c.op, c.record_id, c.last_id, c.before_values"
            " FROM change AS c JOIN change_set AS s ON s.id = c.change_set_id"
            " WHERE s.at >= :since AND c.entity IN ('opportunity', 'history')"
            " ORDER BY c.id DESC",
            {"since": since},
        )
        return [
            (
                str(entity),
                str(op),
                int(first),
                int(last if last is not None else first),
                _decoded(before),
            )
            for entity, op, first, last, before in rows
        ]
