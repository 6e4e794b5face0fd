"""The report queries use the indexes made for them (EXPLAIN QUERY PLAN on SQLite)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from crmcli.store import sqlread
from crmcli.store.db import Database

pytestmark = pytest.mark.sqlite_only  # EXPLAIN QUERY PLAN is SQLite's


class PlanReader:
    """A `Reader` that records SQLite's plan of each query instead of running it."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.plans: list[str] = []

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        bound = {k: sqlread.sqlite_value(v) for k, v in (params or {}).items()}
        plan = self.conn.execute("EXPLAIN QUERY PLAN " + sql, bound).fetchall()
        self.plans.append("\n".join(str(row[-1]) for row in plan))
        return []


@pytest.fixture
def plans(tmp_path: Path) -> Any:
    path = tmp_path / "plans.db"
    Database(str(path)).engine().dispose()  # the real migrations
    conn = sqlite3.connect(path)
    yield PlanReader(conn)
    conn.close()


def test_pipeline_reads_only_the_covering_index(plans: PlanReader) -> None:
    sqlread.pipeline_rows(plans)
    sqlread.pipeline_rows(plans, owner="Ana")
    everyone, one_owner = plans.plans
    assert "COVERING INDEX ix_opportunity_open_stage (status=? AND stage_id=?)" in everyone
    # With --owner the same index finds each stage's open deals; their rows give the owner.
    assert "USING INDEX ix_opportunity_open_stage (status=? AND stage_id=?)" in one_owner


@pytest.mark.parametrize("owner", [None, "Ana"])
@pytest.mark.parametrize("by", ["month", "quarter"])
def test_forecast_reads_only_covering_indexes(
    plans: PlanReader, owner: str | None, by: str
) -> None:
    sqlread.forecast_open(
        plans, by=by, today=date(2026, 11, 25), horizon_end=date(2027, 5, 1), owner=owner
    )
    sqlread.forecast_won(
        plans, by=by, start=datetime(2026, 11, 1), end=datetime(2027, 5, 1), owner=owner
    )
    open_plan, won_plan = plans.plans
    assert "COVERING INDEX ix_opportunity_forecast (status=?)" in open_plan
    assert "COVERING INDEX ix_opportunity_closed (status=? AND closed_at>? AND closed_at<?)" in (
        won_plan
    )
    assert "SCAN opportunity" not in open_plan + won_plan


def test_lead_list_walks_the_primary_key_and_filters_by_index(plans: PlanReader) -> None:
    sqlread.lead_list(plans, exclude_statuses=("archived",), limit=50)
    sqlread.lead_list(plans, owner="Ana", limit=50)
    sqlread.lead_list(plans, source="Expo", limit=50)
    first, by_owner, by_source = plans.plans
    assert "USE TEMP B-TREE" not in first  # rows come in id order: LIMIT stops early
    assert "INDEX ix_lead_owner_key (owner_key=?)" in by_owner
    assert "INDEX ix_lead_source_key (source_key=?)" in by_source
