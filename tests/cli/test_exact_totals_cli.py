"""Totals past 2^63 cents: exact, and the same on SQLite and PostgreSQL (issue 11, finding 13).

SQLite's SUM stops at 2^63 - 1 with "integer overflow"; PostgreSQL sums BIGINT into NUMERIC.
95 deals at the largest amount make Σ amount × probability pass that limit.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from crmcli.domain.values import MAX_AMOUNT
from crmcli.store.db import Database

Run = Callable[..., Result]
Json = Callable[..., Any]

DEALS = 95


def _import(crm: Run, tmp_path: Path, rows: list[str]) -> None:
    source = tmp_path / "deals.csv"
    source.write_text("\n".join(["name,account,amount,probability,expected_close", *rows]) + "\n")
    crm("opp", "import", str(source))


def test_pipeline_and_forecast_totals_past_64_bits_are_exact(
    crm: Run, crm_json: Json, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_NOW", "2027-01-10T09:00:00")
    _import(crm, tmp_path, [f"Deal {n},Acme,{MAX_AMOUNT},100,2027-02-15" for n in range(DEALS)])
    assert DEALS * int(MAX_AMOUNT * 100) * 100 > 2**63  # what overflowed SQLite
    total = str(DEALS * MAX_AMOUNT)  # 949999999999999.05, exact

    report = crm_json("pipeline", "report")
    assert report["total"] == {"count": DEALS, "amount": total, "weighted": total}
    assert report["stages"][0] == {
        "stage": "Prospecting",
        "count": DEALS,
        "amount": total,
        "weighted": total,
    }

    forecast = crm_json("forecast")
    february = next(p for p in forecast["periods"] if p["period"] == "2027-02")
    assert february == {
        "period": "2027-02",
        "count": DEALS,
        "amount": total,
        "weighted": total,
        "won": "0.00",
    }
    quarters = crm_json("forecast", "--by", "quarter")
    assert quarters["periods"][0]["amount"] == total
    assert quarters["periods"][0]["weighted"] == total
    stale = crm_json("report", "stale", "--limit", "1")  # the total summed in the database
    assert (len(stale["deals"]), stale["total"]) == (1, {"count": DEALS, "amount": total})

    shown = crm("pipeline", "report").stdout  # the table too: no error, the exact figure
    assert "949,999,999,999,999.05" in shown


def test_won_totals_past_64_bits_are_exact(
    crm: Run, crm_json: Json, tmp_path: Path, backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Σ amount alone passes 2^63 cents after 9,224 deals at the largest amount: the deals are
    # copied in SQL (importing 9,300 rows one by one would take a minute)
    monkeypatch.setenv("CRM_NOW", "2027-01-10T09:00:00")
    _import(crm, tmp_path, [f"Deal 0,Acme,{MAX_AMOUNT},100,2027-01-15"])
    crm("opp", "win", "1")
    copies = 9_300
    database = Database(backend_url)
    try:
        with database.write() as uow:
            uow.conn.run(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                f" WHERE i < {copies - 1})"
                " INSERT INTO opportunity (name, name_key, account_id, stage_id, amount,"
                " probability, probability_manual, status, expected_close, owner, owner_key,"
                " created_at, updated_at, closed_at)"
                " SELECT o.name || ' ' || CAST(n.i AS VARCHAR), o.name_key || ' '"
                " || CAST(n.i AS VARCHAR), o.account_id, o.stage_id, o.amount,"
                " o.probability, o.probability_manual, o.status, o.expected_close, o.owner,"
                " o.owner_key, o.created_at, o.updated_at, o.closed_at"
                " FROM opportunity AS o, n WHERE o.id = 1"
            )
            uow.commit()
    finally:
        database.dispose()
    won = str(copies * MAX_AMOUNT)  # 92999999999999907.00
    assert copies * int(MAX_AMOUNT * 100) > 2**63

    rate = crm_json("report", "win-rate")
    assert rate["total"]["won"] == copies
    assert rate["total"]["won_amount"] == won
    assert Decimal(rate["total"]["value_win_rate"]) == 100

    forecast = crm_json("forecast")
    assert forecast["periods"][0]["period"] == "2027-01"
    assert forecast["periods"][0]["won"] == won
