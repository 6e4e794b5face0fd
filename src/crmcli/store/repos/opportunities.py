"""Opportunities with their stage history."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from crmcli.domain.models import HistoryEntry, Opportunity, OppStatus, restore
from crmcli.domain.values import money_to_cents, normalise_name
from crmcli.errors import NotFound
from crmcli.i18n import _
from crmcli.store.ordering import By, Sorts, case_rank, limited, order_by
from crmcli.store.repos.base import PENDING_DEALS, Repository
from crmcli.store.schema import COLUMNS, by_value, derived_keys, load_value, tags_of, to_rows
from crmcli.store.sql import escape_like, in_list

if TYPE_CHECKING:
    from crmcli.store.repos.removal import Removed
    from crmcli.store.uow import UnitOfWork

_FIELDS = tuple(f for f in Opportunity.__dataclass_fields__ if f != "stage")


_AS_RECORD: dict[str, Any] = {
    "sources": (("stage", "stage_name"),),
    "converters": (("status", by_value(OppStatus)), ("tags", tags_of)),
}
"""How `_records` builds an `Opportunity` (what `opportunity_of` does for one row)."""


def opportunity_of(row: Mapping[str, Any]) -> Opportunity:
    """An `Opportunity` from an opportunity row (with its `stage_name`) in domain form."""
    data = {f: row[f] for f in _FIELDS}
    data["stage"] = row["stage_name"]
    data["status"] = OppStatus(row["status"])
    data["probability_manual"] = bool(row["probability_manual"])
    data["tags"] = tags_of(row["tags"])
    return restore(Opportunity, data)


def _history_row(
    opp_id: int,
    stage_id: int | None,
    stage_name: str | None,
    status: str,
    probability: int,
    at: datetime,
) -> dict[str, Any]:
    """A stage history row: where a deal stood (stage, status, probability) from `at` on."""
    return {
        "opportunity_id": opp_id,
        "stage_id": stage_id,
        "stage_name": stage_name,
        "status": status,
        "probability": probability,
        "at": at,
    }


class _HistoryRows(Repository):
    """The stage history rows of deals (journaled as `history`)."""

    table = "opportunity_history"
    kind = "history row"
    entity = "history"


_OPP_SELECT = (
    "SELECT opportunity.*, stage.name AS stage_name FROM opportunity"
    " LEFT JOIN stage ON stage.id = opportunity.stage_id"
)


_SORTS: Sorts = {
    "id": (),
    "name": (By("opportunity.name_key", text=True),),
    "account": (
        By(
            "(SELECT account.name_key FROM account WHERE account.id = opportunity.account_id)",
            text=True,
        ),
    ),
    "stage": (By("stage.position", null="stage.position"),),
    "status": (By(case_rank("opportunity.status", [s.value for s in OppStatus])),),
    "amount": (By("opportunity.amount", null="opportunity.amount"),),
    "probability": (By("opportunity.probability"),),
    "close": (By("opportunity.expected_close", null="opportunity.expected_close"),),
    "owner": (By("opportunity.owner_key", null="opportunity.owner_key", text=True),),
    "created_at": (By("opportunity.created_at"),),
}
"""How `opp list --sort` orders each field: a stage by its place in the pipeline (deals
without one last), an account by its folded name, statuses open, won, lost."""


class OppFilters(TypedDict, total=False):
    """What `OpportunityRepository.list` can filter and sort by (`crm opp list`'s options)."""

    stage_id: int | None
    status: str | None
    owner: str | None
    account_id: int | None
    contact_id: int | None
    search: str | None
    tags: Sequence[str]
    min_amount: Decimal | None
    max_amount: Decimal | None
    close_after: date | None
    close_before: date | None
    limit: int | None
    sort: str | None
    reverse: bool


class OpportunityRepository(Repository):
    """The opportunity table and each deal's stage history."""

    table = "opportunity"
    kind = "opportunity"
    entity = "opportunity"

    def _select(self) -> str:
        return _OPP_SELECT

    def __init__(self, uow: UnitOfWork) -> None:
        super().__init__(uow)
        self._history = _HistoryRows(uow)

    def get(self, opp_id: int, *, lock: bool = False) -> Opportunity:
        """The opportunity with this id, or NotFound; `lock` takes its row lock."""
        return opportunity_of(self._row(opp_id, lock=lock))

    def find(self, ref: str, *, lock: bool = False) -> Opportunity:
        """The opportunity an id or unambiguous name refers to, or NotFound.

        With `lock`, the deal is read again under its row lock: a stage move, win or loss
        decided on it cannot race another one.
        """
        row = self._resolve(ref)
        if row is None:
            raise NotFound(_('no opportunity "{ref}"').format(ref=ref.strip()))
        return self.get(int(row["id"]), lock=lock)

    def get_many(self, ids: Sequence[int], *, lock: bool = False) -> dict[int, Opportunity]:
        """The opportunities with these ids, by id (missing ones left out), batched; `lock`
        takes their row locks."""
        return {i: opportunity_of(row) for i, row in self._rows_by_id(ids, lock=lock).items()}

    def add(self, values: Mapping[str, Any]) -> Opportunity:
        """Store a new opportunity."""
        return self.get(self._insert(values))

    def by_account_and_name(self, account_id: int, name: str) -> Opportunity | None:
        """The first deal of this account with this (normalised) name, if any."""
        found = self._rows(
            "WHERE opportunity.account_id = :a AND opportunity.name_key = :k ORDER BY opportunity.id",
            {"a": account_id, "k": normalise_name(name)},
        )
        return opportunity_of(found[0]) if found else None

    def update(self, opp: Opportunity, changes: Mapping[str, Any]) -> Opportunity:
        """Write `changes` to `opp`."""
        self._update(opp.id, changes)
        return self.get(opp.id)

    def update_many(
        self, opps: Sequence[Opportunity], changes: Mapping[str, Any]
    ) -> builtins.list[Opportunity]:
        """Write the same `changes` to every deal, batched; them as now, in the order given."""
        ids = [opp.id for opp in opps]
        self._update_many(ids, changes)
        stored = self.get_many(ids)
        return [stored[i] for i in ids]

    def list(self, **filters: Unpack[OppFilters]) -> builtins.list[Opportunity]:
        """Opportunities matching every given filter, by id (or by `sort`, one of
        `sorting.SORT_FIELDS["opportunity"]`, `reverse`d), at most `limit`.

        `search` is folded text in the deal's or its account's name; the amount and close
        date bounds are inclusive (a deal without an amount or a close date meets none)."""
        return self._records(Opportunity, *self._listing(filters), **_AS_RECORD)

    def each(self, **filters: Unpack[OppFilters]) -> Iterator[Opportunity]:
        """`list`, one deal at a time as the rows are read."""
        return self._each_record(Opportunity, *self._listing(filters), **_AS_RECORD)

    def _listing(self, filters: OppFilters) -> tuple[builtins.list[str], dict[str, Any], str]:
        """The conditions, parameters and ORDER BY … LIMIT of `list`."""
        where: builtins.list[str] = []
        params: dict[str, Any] = {}
        for column, name, value in (
            ("stage_id", "s", filters.get("stage_id")),
            ("status", "st", filters.get("status") or None),
            ("account_id", "a", filters.get("account_id")),
            ("contact_id", "c", filters.get("contact_id")),
        ):
            if value is not None:
                where.append(f"opportunity.{column} = :{name}")
                params[name] = value
        if owner := filters.get("owner"):
            where.append("opportunity.owner_key = :o")
            params["o"] = normalise_name(owner)
        where += self._tagged(filters.get("tags", ()), params, "opportunity.tags_key")
        if search := filters.get("search"):
            where.append(
                "(opportunity.name_key LIKE :q ESCAPE '\\' OR opportunity.account_id IN"
                " (SELECT account.id FROM account WHERE account.name_key LIKE :q ESCAPE '\\'))"
            )
            params["q"] = "%" + escape_like(normalise_name(search)) + "%"
        for bound, test, amount in (
            ("min_amount", ">=", filters.get("min_amount")),
            ("max_amount", "<=", filters.get("max_amount")),
        ):
            if amount is not None:
                where.append(f"opportunity.amount {test} :{bound}")
                params[bound] = money_to_cents(amount)
        for bound, test, day in (
            ("close_after", ">=", filters.get("close_after")),
            ("close_before", "<=", filters.get("close_before")),
        ):
            if day is not None:
                where.append(f"opportunity.expected_close {test} :{bound}")
                params[bound] = day
        rest = "ORDER BY opportunity.id"
        sort, reverse = filters.get("sort"), filters.get("reverse", False)
        if sort is not None or reverse:
            rest = order_by(
                self.dialect, _SORTS, sort or "id", reverse=reverse, tie="opportunity.id"
            )
        return where, params, limited(rest, filters.get("limit"), params)

    def count_in_stage(self, stage_id: int, *, status: str = "open") -> int:
        """How many deals of this status sit in this stage."""
        sql = "SELECT COUNT(*) FROM opportunity WHERE stage_id = :s AND status = :st"
        return int(self.conn.scalar(sql, {"s": stage_id, "st": status}))

    def ids_in_stage(self, stage_id: int, *, status: str = "open") -> builtins.list[int]:
        """Ids of the deals of this status in this stage."""
        sql = "SELECT id FROM opportunity WHERE stage_id = :s AND status = :st"
        return [int(r[0]) for r in self.conn.rows(sql, {"s": stage_id, "st": status})]

    def unlink_stage(self, stage_id: int) -> None:
        """Clear the stage of every deal in it (the stage is being removed), each journaled."""
        sql = "SELECT id FROM opportunity WHERE stage_id = :s ORDER BY id"
        for (opp_id,) in self.conn.rows(sql, {"s": stage_id}):
            self._update(int(opp_id), {"stage_id": None})

    def delete(self, opp_id: int) -> Removed:
        """Remove the deal for good with its stage history rows (entity `history`) and its
        activities; leads converted into it are unlinked (opportunity_id NULL), staying
        converted. Each row journaled."""
        from crmcli.store.repos.removal import Remover

        return Remover(self.uow).remove(self.entity, opp_id)

    # -- stage history ------------------------------------------------------------------------

    def history_add(self, opp: Opportunity, at: datetime) -> None:
        """Record the opportunity's current stage, status and probability at `at`."""
        self._history._insert(
            _history_row(opp.id, opp.stage_id, opp.stage, opp.status.value, opp.probability, at)
        )

    def history(self, opp_id: int) -> builtins.list[HistoryEntry]:
        """Every stage and status change of an opportunity, oldest first."""
        sql = (
            "SELECT COALESCE(stage.name, h.stage_name) AS stage, h.status, h.probability, h.at"
            " FROM opportunity_history AS h LEFT JOIN stage ON stage.id = h.stage_id"
            " WHERE h.opportunity_id = :o ORDER BY h.at, h.id"
        )
        return [
            HistoryEntry(
                stage=r["stage"],
                status=OppStatus(r["status"]),
                probability=r["probability"],
                at=load_value("ts", r["at"]),
            )
            for r in self.conn.maps(sql, {"o": opp_id})
        ]

    # -- bulk (imports) -----------------------------------------------------------------------

    def keys(self, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (account id, name key) pairs some deal already has."""
        wanted = set(pairs)
        if not wanted:
            return set()
        params: dict[str, Any] = {}
        names = in_list("k", sorted({k for _, k in wanted}), params)
        accounts = in_list("a", sorted({a for a, _ in wanted}), params)
        sql = (
            "SELECT account_id, name_key FROM opportunity"
            f" WHERE name_key IN ({names}) AND account_id IN ({accounts})"
        )
        return {(int(a), str(k)) for a, k in self.conn.rows(sql, params)} & wanted

    def add_many(self, rows: Sequence[Mapping[str, Any]]) -> builtins.list[int]:
        """Insert many new opportunities (domain fields, no two with the same account and
        name key) in one statement, each with its first history row at its `created_at`;
        their ids, in the order of `rows`."""
        if not rows:
            return []
        prepared = [{**row, **derived_keys("opportunity", row)} for row in rows]
        inserted = self.conn.insert_many(
            "opportunity",
            COLUMNS["opportunity"],
            to_rows(self.dialect, "opportunity", prepared),
            ("id", "account_id", "name_key"),
        )
        by_key = {(int(a), str(k)): int(i) for i, a, k in inserted}
        ids = [by_key[(row["account_id"], row["name_key"])] for row in prepared]
        self.uow.journal.record_inserted("opportunity", ids)
        names = {s.id: s.name for s in self.uow.stages.all()}
        history = [
            _history_row(
                opp_id,
                row["stage_id"],
                names.get(row["stage_id"]),
                row["status"],
                row["probability"],
                row["created_at"],
            )
            for opp_id, row in zip(ids, prepared, strict=True)
        ]
        added = self.conn.insert_many(
            "opportunity_history",
            COLUMNS["opportunity_history"],
            to_rows(self.dialect, "opportunity_history", history),
            ("id",),
        )
        self.uow.journal.record_inserted("history", [int(r[0]) for r in added])
        return ids

    # -- forgotten deals ----------------------------------------------------------------------

    @staticmethod
    def _no_next_step(owner: str | None, params: dict[str, Any]) -> str:
        where = (
            "opportunity.status = 'open' AND NOT EXISTS (SELECT 1 FROM activity AS a"
            " WHERE a.opportunity_id = opportunity.id AND a.done = :no)"
        )
        params["no"] = False
        if owner:
            where += " AND opportunity.owner_key = :owner"
            params["owner"] = normalise_name(owner)
        return where

    def without_next_step(
        self, owner: str | None = None, *, limit: int | None = None
    ) -> builtins.list[Opportunity]:
        """Open opportunities with no pending activity linked to them ("forgotten deals").

        One query (NOT EXISTS). Soonest expected close first (deals without one last), then by
        id. `owner` matches the deal's owner by key; `limit` keeps the first ones.
        """
        params: dict[str, Any] = {}
        order = (
            " ORDER BY opportunity.expected_close IS NULL, opportunity.expected_close,"
            " opportunity.id"
        )
        where = self._no_next_step(owner, params)
        if limit is not None:  # the first ids in close-date index order, then whole rows
            where = (
                f"opportunity.id IN ({', '.join(map(str, self._soonest(where, params, limit)))})"
            )
        return self._records(Opportunity, [where], params, order, **_AS_RECORD)

    def _soonest(self, where: str, params: dict[str, Any], limit: int) -> builtins.list[int]:
        """The ids of the first `limit` deals meeting `where` by expected close, then id (those
        without a close date last): walked in `ix_opportunity_forecast`'s order, which puts
        the dates first, and stopped there, rather than every deal sorted."""
        ids: builtins.list[int] = []
        for window in (
            "opportunity.expected_close IS NOT NULL"
            " ORDER BY opportunity.expected_close, opportunity.id",
            "opportunity.expected_close IS NULL ORDER BY opportunity.id",
        ):
            if len(ids) < limit:
                sql = f"SELECT opportunity.id FROM opportunity WHERE {where} AND {window} LIMIT :n"
                ids += [int(r[0]) for r in self.conn.rows(sql, {**params, "n": limit - len(ids)})]
        return ids or [0]  # no id is 0: `IN (0)` finds nothing

    def count_without_next_step(self, owner: str | None = None) -> int:
        """How many open opportunities have no pending activity: every open deal less those
        with one (found from the pending activities, few), two small reads instead of a
        look-up for every open deal."""
        params: dict[str, Any] = {"no": False}
        mine = ""
        if owner:
            mine = " AND opportunity.owner_key = :owner"
            params["owner"] = normalise_name(owner)
        opened = f"SELECT COUNT(*) FROM opportunity WHERE opportunity.status = 'open'{mine}"
        busy = (
            f"SELECT COUNT(*) FROM {PENDING_DEALS} CROSS JOIN opportunity WHERE"
            f" opportunity.id = pending.id AND opportunity.status = 'open'{mine}"
        )
        return int(self.conn.scalar(opened, params)) - int(self.conn.scalar(busy, params))
