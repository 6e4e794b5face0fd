"""The report queries use the indexes made for them (EXPLAIN QUERY PLAN on SQLite)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from crmcli.store.db import Database
from crmcli.store.sql import Params, SqliteConn
from crmcli.store.uow import UnitOfWork

pytestmark = pytest.mark.sqlite_only  # EXPLAIN QUERY PLAN is SQLite's


class PlanConn(SqliteConn):
    """A `Conn` that records SQLite's plan of each query instead of running it."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        super().__init__(raw)
        self.plans: list[str] = []
        self.answer: list[Any] = []  # what every query "returns"

    def rows(self, sql: str, params: Params | None = None) -> list[Any]:
        plan = self._execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        self.plans.append("\n".join(str(row[-1]) for row in plan))
        return self.answer

    def maps(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        self.rows(sql, params)
        return []

    def result(self, sql: str, params: Params | None = None) -> tuple[tuple[str, ...], list[Any]]:
        self.rows(sql, params)
        return (), []

    def stream(
        self, sql: str, params: Params | None = None
    ) -> tuple[tuple[str, ...], Iterator[Any]]:
        self.rows(sql, params)
        names = tuple(d[0] for d in self._execute(sql, params).description)  # no rows here
        return names, iter(())


@pytest.fixture
def uow(tmp_path: Path) -> Iterator[UnitOfWork]:
    path = tmp_path / "plans.db"
    Database(str(path)).open()  # the real migrations
    raw = sqlite3.connect(path)
    yield UnitOfWork(PlanConn(raw), write=False)
    raw.close()


def _plans(uow: UnitOfWork) -> list[str]:
    assert isinstance(uow.conn, PlanConn)
    return uow.conn.plans


def test_pipeline_reads_only_the_covering_index(uow: UnitOfWork) -> None:
    uow.reports.pipeline_rows()
    uow.reports.pipeline_rows(owner="Ana")
    everyone, one_owner = _plans(uow)
    assert "COVERING INDEX ix_opportunity_open_stage (status=? AND stage_id=?)" in everyone
    # With --owner the same index finds each stage's open deals; their rows give the owner.
    assert "USING INDEX ix_opportunity_open_stage (status=? AND stage_id=?)" in one_owner


@pytest.mark.parametrize("owner", [None, "Ana"])
@pytest.mark.parametrize("by", ["month", "quarter"])
def test_forecast_reads_only_covering_indexes(uow: UnitOfWork, owner: str | None, by: str) -> None:
    uow.reports.forecast_open(
        by=by, today=date(2026, 11, 25), horizon_end=date(2027, 5, 1), owner=owner
    )
    uow.reports.forecast_won(
        by=by, start=datetime(2026, 11, 1), end=datetime(2027, 5, 1), owner=owner
    )
    open_plan, won_plan = _plans(uow)
    assert "COVERING INDEX ix_opportunity_forecast (status=?)" in open_plan
    assert "COVERING INDEX ix_opportunity_closed (status=? AND closed_at>? AND closed_at<?)" in (
        won_plan
    )
    assert "SCAN opportunity" not in open_plan + won_plan


def test_lead_list_walks_the_primary_key_and_filters_by_index(uow: UnitOfWork) -> None:
    uow.leads.list(exclude_statuses=("archived",), limit=50)
    uow.leads.list(owner="Ana", limit=50)
    uow.leads.list(source="Expo", limit=50)
    first, by_owner, by_source = _plans(uow)
    assert "USE TEMP B-TREE" not in first  # rows come in id order: LIMIT stops early
    assert "INDEX ix_lead_owner_key (owner_key=?)" in by_owner
    assert "INDEX ix_lead_source_key (source_key=?)" in by_source


def test_agenda_buckets_come_in_index_order(uow: UnitOfWork) -> None:
    now = datetime(2026, 12, 7, 9, 30)
    uow.activities.list(now=now, buckets=("overdue",))
    uow.activities.list(now=now, buckets=("today",))
    overdue, today = _plans(uow)
    for plan in (overdue, today):
        assert "INDEX ix_activity_done_due (done=? AND due" in plan
        assert "USE TEMP B-TREE" not in plan  # (done, due, id) order: no sort of the rows


def test_deals_without_next_step_walk_the_close_date_index_and_stop(uow: UnitOfWork) -> None:
    uow.opps.without_next_step(limit=20)
    dated, undated, rows = _plans(uow)
    # the first ids in close-date order, straight from the index (only ties sorted), then
    # (when fewer than 20 have a date) those without one, then the 20 rows by primary key
    assert "SEARCH opportunity USING COVERING INDEX ix_opportunity_forecast (status=? AND" in dated
    assert "USE TEMP B-TREE FOR ORDER BY" not in dated
    for plan in (dated, undated):
        assert "COVERING INDEX ix_activity_opportunity (opportunity_id=? AND done=?)" in plan
    assert "SEARCH opportunity USING INTEGER PRIMARY KEY (rowid=?)" in rows
    assert "SCAN" not in "\n".join((dated, undated, rows))


def test_deals_without_next_step_are_counted_from_the_pending_activities(
    uow: UnitOfWork,
) -> None:
    assert isinstance(uow.conn, PlanConn)
    uow.conn.answer = [(0,)]
    uow.opps.count_without_next_step()
    opened, busy = _plans(uow)
    assert "COVERING INDEX" in opened and "SCAN" not in opened  # open deals by status
    # the deals with a pending activity: the pending ones by index, their deals by key
    assert "SEARCH pending USING INDEX ix_activity_done_due (done=?)" in busy
    assert "SEARCH opportunity USING INTEGER PRIMARY KEY (rowid=?)" in busy
    assert "SCAN opportunity" not in busy and "SCAN activity" not in busy


def _outer(plan: str) -> str:
    """The plan's lines before its first correlated subquery (the main query's own reads)."""
    return plan.split("CORRELATED")[0]


@pytest.mark.parametrize("since", [None, datetime(2026, 1, 1)])
def test_win_rate_reads_closed_deals_by_index(uow: UnitOfWork, since: datetime | None) -> None:
    uow.reports.win_rate_rows(by="owner", since=since)
    uow.reports.win_rate_rows(by="source", since=since)
    by_owner, by_source = _plans(uow)
    for plan in (by_owner, by_source):
        main = _outer(plan)
        assert "INDEX ix_opportunity_" in main and "(status=?" in main  # by status, never all
        assert "SCAN opportunity" not in main
    # by owner the closed deals' covering index has it all; by source each deal's lead by id
    assert "SEARCH opportunity USING COVERING INDEX ix_opportunity_closed (status=?" in by_owner
    assert "lead" not in by_owner
    assert "SEARCH lead USING INTEGER PRIMARY KEY" in _outer(by_source)
    if since is not None:  # a start bound narrows the closed-deals index to a range
        assert all("ix_opportunity_closed (status=? AND closed_at>?)" in p for p in _plans(uow))


def test_conversion_groups_leads_in_source_index_order(uow: UnitOfWork) -> None:
    uow.reports.conversion_rows()
    (plan,) = _plans(uow)
    assert "SCAN lead USING INDEX ix_lead_source_key" in _outer(plan)
    assert "USE TEMP B-TREE FOR GROUP BY" not in plan  # groups come in index order
    assert "SEARCH lead USING INDEX ix_lead_source_key (source_key=?)" in plan  # first spelling


def test_velocity_reads_the_stored_stays_by_their_index(uow: UnitOfWork) -> None:
    uow.reports.stay_totals()
    uow.reports.stay_seconds(3, offset=4_999, count=2)
    with contextlib.suppress(IndexError):  # the plan connection returns no rows to unpack
        uow.reports.sales_cycle_totals()
    uow.reports.sales_cycle_seconds(offset=99, count=1)
    totals, middle, cycle_totals, cycle_middle = _plans(uow)
    assert "SCAN stage_stay USING COVERING INDEX ix_stage_stay_stage" in totals
    assert "SEARCH stage_stay USING COVERING INDEX ix_stage_stay_stage (stage_id=?)" in middle
    for plan in (totals, middle):  # stays come in (stage, seconds) order: nothing sorted
        assert "TEMP B-TREE" not in plan and "opportunity_history" not in plan
    for plan in (cycle_totals, cycle_middle):  # won deals' cycles, already in order
        assert "SEARCH opportunity USING COVERING INDEX ix_opportunity_cycle (status=?)" in plan
        assert "TEMP B-TREE" not in plan


def test_a_deals_stays_are_worked_out_from_its_own_history_rows(uow: UnitOfWork) -> None:
    """What the history's triggers run for one deal reads only that deal's rows."""
    from crmcli.store.migrations import _stays_of

    uow.conn.rows(_stays_of(uow.conn.dialect, "opportunity_id = 1"))
    (plan,) = _plans(uow)
    assert "SEARCH opportunity_history USING INDEX ix_opportunity_history_opp" in plan
    assert "SCAN opportunity_history" not in plan


def test_stale_deals_walk_the_idle_index_and_stop(uow: UnitOfWork) -> None:
    assert isinstance(uow.conn, PlanConn)
    now = datetime(2026, 12, 7, 9, 30)
    uow.reports.stale_rows(now=now, today=now.date(), limit=50)
    uow.conn.answer = [(0, 0)]
    uow.reports.stale_totals(now=now, today=now.date())
    rows, opened, busy = _plans(uow)
    # open deals, longest idle first, straight from the index: nothing sorted, LIMIT stops it
    assert "SEARCH opportunity USING INDEX ix_opportunity_idle (status=?)" in _outer(rows)
    assert "TEMP B-TREE" not in rows
    assert "SCAN opportunity" not in rows and "SCAN activity" not in rows
    assert "SEARCH activity USING INDEX ix_activity_opportunity (opportunity_id=?" in rows
    # the total: every open deal from a covering index, less the ones with a pending
    # activity that are not stale, found by primary key from the activities' index
    assert "COVERING INDEX" in opened and "SCAN" not in opened
    assert "SEARCH pending USING INDEX ix_activity_done_due (done=?)" in busy
    assert "SEARCH opportunity USING INTEGER PRIMARY KEY (rowid=?)" in _outer(busy)
    assert "SCAN opportunity" not in busy and "SCAN activity" not in busy


def test_deals_of_an_account_are_found_by_its_index(uow: UnitOfWork) -> None:
    uow.opps.list(account_id=1)
    (plan,) = _plans(uow)
    assert "SEARCH opportunity USING INDEX ix_opportunity_account_id (account_id=?)" in plan
    assert "SCAN opportunity" not in plan
