"""Stages, and opportunities with their stage history."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from crmcli.domain.models import HistoryEntry, Opportunity, OppStatus, Stage
from crmcli.domain.values import normalise_name
from crmcli.errors import Duplicate, NotFound
from crmcli.store.repos.base import Repository
from crmcli.store.schema import COLUMNS, derived_keys, from_row, storers, to_row
from crmcli.store.sql import in_list

_STAGE_FIELDS = tuple(Stage.__dataclass_fields__)


def stage_of(row: Mapping[str, Any]) -> Stage:
    """A `Stage` from a stage row."""
    return Stage(**{f: row[f] for f in _STAGE_FIELDS})


def opportunity_of(row: Mapping[str, Any]) -> Opportunity:
    """An `Opportunity` from an opportunity row (with its `stage_name`) in domain form."""
    return Opportunity(
        id=row["id"],
        name=row["name"],
        account_id=row["account_id"],
        stage_id=row["stage_id"],
        stage=row["stage_name"],
        amount=row["amount"],
        probability=row["probability"],
        probability_manual=bool(row["probability_manual"]),
        status=OppStatus(row["status"]),
        expected_close=row["expected_close"],
        owner=row["owner"],
        contact_id=row["contact_id"],
        lost_reason=row["lost_reason"],
        competitor=row["competitor"],
        lead_id=row["lead_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        closed_at=row["closed_at"],
    )


class StageRepository(Repository):
    """The stage table: the company's pipeline."""

    table = "stage"
    kind = "stage"
    entity = "stage"

    def all(self) -> list[Stage]:
        """Every stage in pipeline order."""
        return [stage_of(r) for r in self._rows("ORDER BY position, id")]

    def find(self, ref: str) -> Stage:
        """The stage an id or name refers to (case-insensitive, Unicode-aware), or NotFound."""
        row = self._resolve(ref)
        if row is None:
            names = ", ".join(f'"{s.name}"' for s in self.all())
            raise NotFound(f'no stage "{ref.strip()}" (stages: {names})')
        return stage_of(row)

    def lock(self, *, share: bool = False) -> None:
        """Hold every stage's row lock until the transaction ends (see LeadRepository.get).

        Changes to the pipeline itself (add, rename, move, remove, default probability) take
        it first, so two of them never interleave on a server. `share` takes the weakest lock
        (FOR KEY SHARE), for moving a deal into a stage: moves do not wait for each other,
        only for a pipeline change, and always lock stages before the deal, in the order a
        pipeline change does, so the two can never deadlock.
        """
        suffix = self.dialect.for_key_share if share else self.dialect.for_update
        if suffix:
            self.conn.rows(f"SELECT id FROM stage ORDER BY id{suffix}")

    def add(self, values: Mapping[str, Any]) -> Stage:
        """Store a new stage (its normalised name must be new)."""
        if self._by_name(values["name"]) is not None:
            raise Duplicate(f'a stage named "{values["name"]}" already exists')
        new_id = self._insert(values)
        return next(s for s in self.all() if s.id == new_id)

    def update(self, stage: Stage, changes: Mapping[str, Any]) -> None:
        """Write `changes` to `stage`."""
        if "name" in changes:
            clash = self._by_name(changes["name"])
            if clash is not None and clash["id"] != stage.id:
                raise Duplicate(f'a stage named "{clash["name"]}" already exists')
        self._update(stage.id, changes)

    def reorder(self, ordered_ids: Sequence[int]) -> None:
        """Give the stages positions 1..n in this order."""
        for position, stage_id in enumerate(ordered_ids, start=1):
            self._update(stage_id, {"position": position})

    def delete(self, stage_id: int) -> None:
        """Remove a stage; closed deals in it keep their history but lose the link."""
        for opp_id in self.conn.rows(
            "SELECT id FROM opportunity WHERE stage_id = :s", {"s": stage_id}
        ):
            self.uow.opps._update(int(opp_id[0]), {"stage_id": None})
        self._delete(stage_id)


_OPP_SELECT = (
    "SELECT opportunity.*, stage.name AS stage_name FROM opportunity"
    " LEFT JOIN stage ON stage.id = opportunity.stage_id"
)


class OpportunityRepository(Repository):
    """The opportunity table and each deal's stage history."""

    table = "opportunity"
    kind = "opportunity"
    entity = "opportunity"

    def _select(self) -> str:
        return _OPP_SELECT

    def _row(self, row_id: int, *, lock: bool = False) -> dict[str, Any]:
        if lock and self.dialect.for_update:
            self.check_id(row_id)
            self.conn.rows(
                f"SELECT id FROM opportunity WHERE id = :id{self.dialect.for_update}",
                {"id": row_id},
            )
        return super()._row(row_id)

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
            raise NotFound(f'no opportunity "{ref.strip()}"')
        return self.get(int(row["id"]), lock=lock)

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

    def list(
        self,
        *,
        stage_id: int | None = None,
        status: str | None = None,
        owner: str | None = None,
        account_id: int | None = None,
    ) -> list[Opportunity]:
        """Opportunities matching every given filter, by id."""
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
        sql = ("WHERE " + " AND ".join(where) + " ") if where else ""
        return [opportunity_of(r) for r in self._rows(sql + "ORDER BY opportunity.id", params)]

    def count_in_stage(self, stage_id: int, *, status: str = "open") -> int:
        """How many deals of this status sit in this stage."""
        sql = "SELECT COUNT(*) FROM opportunity WHERE stage_id = :s AND status = :st"
        return int(self.conn.scalar(sql, {"s": stage_id, "st": status}))

    def ids_in_stage(self, stage_id: int, *, status: str = "open") -> builtins.list[int]:
        """Ids of the deals of this status in this stage."""
        sql = "SELECT id FROM opportunity WHERE stage_id = :s AND status = :st"
        return [int(r[0]) for r in self.conn.rows(sql, {"s": stage_id, "st": status})]

    # -- stage history ------------------------------------------------------------------------

    def history_add(self, opp: Opportunity, at: datetime) -> None:
        """Record the opportunity's current stage, status and probability at `at`."""
        row = {
            "opportunity_id": opp.id,
            "stage_id": opp.stage_id,
            "stage_name": opp.stage,
            "status": opp.status.value,
            "probability": opp.probability,
            "at": at,
        }
        stored = to_row(self.dialect, "opportunity_history", row)
        columns = ", ".join(stored)
        marks = ", ".join(f":{c}" for c in stored)
        new_id = self.conn.insert(
            f"INSERT INTO opportunity_history ({columns}) VALUES ({marks})", stored
        )
        self.uow.journal.record("history", new_id, "insert", None, stored)

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
                at=from_row("opportunity_history", {"at": r["at"]})["at"],
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
        convert = storers(self.dialect, "opportunity", prepared[0])
        stored_rows = []
        for row in prepared:
            stored = dict(row)
            for column, store in convert:
                stored[column] = store(stored[column])
            stored_rows.append(stored)
        inserted = self.conn.insert_many(
            "opportunity", COLUMNS["opportunity"], stored_rows, ("id", "account_id", "name_key")
        )
        by_key = {(int(a), str(k)): int(i) for i, a, k in inserted}
        ids = [by_key[(row["account_id"], row["name_key"])] for row in prepared]
        self.uow.journal.record_inserted("opportunity", ids)
        names = {s.id: s.name for s in self.uow.stages.all()}
        history = [
            to_row(
                self.dialect,
                "opportunity_history",
                {
                    "opportunity_id": opp_id,
                    "stage_id": row["stage_id"],
                    "stage_name": names.get(row["stage_id"]),
                    "status": row["status"],
                    "probability": row["probability"],
                    "at": row["created_at"],
                },
            )
            for opp_id, row in zip(ids, prepared, strict=True)
        ]
        added = self.conn.insert_many(
            "opportunity_history", COLUMNS["opportunity_history"], history, ("id",)
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
        sql = (
            f"WHERE {self._no_next_step(owner, params)} ORDER BY"
            " opportunity.expected_close IS NULL, opportunity.expected_close, opportunity.id"
        )
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = limit
        return [opportunity_of(r) for r in self._rows(sql, params)]

    def count_without_next_step(self, owner: str | None = None) -> int:
        """How many open opportunities have no pending activity."""
        params: dict[str, Any] = {}
        sql = f"SELECT COUNT(*) FROM opportunity WHERE {self._no_next_step(owner, params)}"
        return int(self.conn.scalar(sql, params))
