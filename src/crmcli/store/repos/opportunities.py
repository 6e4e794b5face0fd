"""Opportunities with their stage history."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmcli.domain.models import HistoryEntry, Opportunity, OppStatus, restore
from crmcli.domain.values import money_to_cents, normalise_name
from crmcli.errors import NotFound
from crmcli.i18n import _
from crmcli.store.ordering import By, Sorts, case_rank, limited, order_by
from crmcli.store.repos.base import Repository
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

    def list(
        self,
        *,
        stage_id: int | None = None,
        status: str | None = None,
        owner: str | None = None,
        account_id: int | None = None,
        contact_id: int | None = None,
        search: str | None = None,
        tags: Sequence[str] = (),
        min_amount: Decimal | None = None,
        max_amount: Decimal | None = None,
        close_after: date | None = None,
        close_before: date | None = None,
        limit: int | None = None,
        sort: str | None = None,
        reverse: bool = False,
    ) -> list[Opportunity]:
        """Opportunities matching every given filter, by id (or by `sort`, one of
        `sorting.SORT_FIELDS["opportunity"]`, `reverse`d), at most `limit`.

        `search` is folded text in the deal's or its account's name; the amount and close
        date bounds are inclusive (a deal without an amount or a close date meets none)."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if stage_id is not None:
            where.append("opportunity.stage_id = :s")
            params["s"] = stage_id
        if status:
            where.append("opportunity.status = :st")
            params["st"] = status
        if owner:
            where.append("opportunity.owner_key = :o")
            params["o"] = normalise_name(owner)
        if account_id is not None:
            where.append("opportunity.account_id = :a")
            params["a"] = account_id
        if contact_id is not None:
            where.append("opportunity.contact_id = :c")
            params["c"] = contact_id
        where += self._tagged(tags, params, "opportunity.tags_key")
        if search:
            where.append(
                "(opportunity.name_key LIKE :q ESCAPE '\\' OR opportunity.account_id IN"
                " (SELECT account.id FROM account WHERE account.name_key LIKE :q ESCAPE '\\'))"
            )
            params["q"] = "%" + escape_like(normalise_name(search)) + "%"
        if min_amount is not None:
            where.append("opportunity.amount >= :min_amount")
            params["min_amount"] = money_to_cents(min_amount)
        if max_amount is not None:
            where.append("opportunity.amount <= :max_amount")
            params["max_amount"] = money_to_cents(max_amount)
        if close_after is not None:
            where.append("opportunity.expected_close >= :close_after")
            params["close_after"] = close_after
        if close_before is not None:
            where.append("opportunity.expected_close <= :close_before")
            params["close_before"] = close_before
        rest = "ORDER BY opportunity.id"
        if sort is not None or reverse:
            rest = order_by(
                self.dialect, _SORTS, sort or "id", reverse=reverse, tie="opportunity.id"
            )
        rest = limited(rest, limit, params)
        return self._records(Opportunity, where, params, rest, **_AS_RECORD)

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
        where = f"WHERE {self._no_next_step(owner, params)}"
        if limit is not None:  # sort the ids, not whole rows, then read the first ones
            params["limit"] = limit
            where = (
                f"WHERE opportunity.id IN (SELECT opportunity.id FROM opportunity {where}"
                f"{order} LIMIT :limit)"
            )
        return self._records(
            Opportunity, [where.removeprefix("WHERE ")], params, order, **_AS_RECORD
        )

    def count_without_next_step(self, owner: str | None = None) -> int:
        """How many open opportunities have no pending activity."""
        params: dict[str, Any] = {}
        sql = f"SELECT COUNT(*) FROM opportunity WHERE {self._no_next_step(owner, params)}"
        return int(self.conn.scalar(sql, params))
