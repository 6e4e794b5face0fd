"""`crm forecast` and `crm report …` through the CLI: JSON contract, CSV, plain tables, errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
Json = Callable[..., Any]


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def pin(when: str) -> None:
        monkeypatch.setenv("CRM_NOW", when)

    return pin


def _pipeline(crm: Run, at: Callable[[str], None]) -> None:
    """Run on 2026-05-20: May, July and overdue deals, one undated, one won, one lost."""
    at("2026-04-01T09:00:00")
    crm(
        "opp",
        "add",
        "May deal",
        "--account",
        "Acme",
        "--amount",
        "1.000,00",
        "--close",
        "2026-05-31",
    )
    crm("opp", "add", "July deal", "--account", "Acme", "--amount", "333.33", "--probability", "15",
        "--close", "2026-07-01")  # fmt: skip
    crm("opp", "add", "Late deal", "--account", "Acme", "--amount", "500", "--close", "2026-05-19")
    crm("opp", "add", "Undated", "--account", "Acme", "--amount", "200")
    crm("opp", "add", "Won deal", "--account", "Acme", "--amount", "1500")
    crm("opp", "add", "Lost deal", "--account", "Acme", "--amount", "900")
    at("2026-05-02T10:00:00")
    crm("opp", "win", "Won deal")
    crm("opp", "advance", "Lost deal")
    at("2026-05-04T10:00:00")
    crm("opp", "lose", "Lost deal", "--reason", "Price")
    at("2026-05-20T08:00:00")


def test_forecast_json_on_an_empty_database(crm_json: Json, at: Callable[[str], None]) -> None:
    at("2026-12-15T12:00:00")
    data = crm_json("forecast")
    assert [p["period"] for p in data["periods"]] == [
        "2026-12",
        "2027-01",
        "2027-02",
        "2027-03",
        "2027-04",
        "2027-05",
    ]
    empty = {"count": 0, "amount": "0.00", "weighted": "0.00"}
    assert all(p == {"period": p["period"], **empty, "won": "0.00"} for p in data["periods"])
    assert data["overdue"] == data["no_close_date"] == data["later"] == empty
    assert data["total"] == {**empty, "won": "0.00"}
    assert (data["by"], data["months"], data["start"], data["end"]) == (
        "month",
        6,
        "2026-12-01",
        "2027-05-31",
    )


def test_forecast_json_contract(crm: Run, crm_json: Json, at: Callable[[str], None]) -> None:
    _pipeline(crm, at)
    data = crm_json("forecast", "--months", "3")
    assert data["periods"] == [
        {"period": "2026-05", "count": 1, "amount": "1000.00", "weighted": "100.00", "won": "1500.00"},
        {"period": "2026-06", "count": 0, "amount": "0.00", "weighted": "0.00", "won": "0.00"},
        {"period": "2026-07", "count": 1, "amount": "333.33", "weighted": "50.00", "won": "0.00"},
    ]  # fmt: skip
    assert data["overdue"] == {"count": 1, "amount": "500.00", "weighted": "50.00"}
    assert data["no_close_date"] == {"count": 1, "amount": "200.00", "weighted": "20.00"}
    assert data["total"] == {
        "count": 4,
        "amount": "2033.33",
        "weighted": "220.00",
        "won": "1500.00",
    }
    quarters = crm_json("forecast", "--by", "quarter", "--months", "12")
    assert [p["period"] for p in quarters["periods"]] == [
        "2026-Q2",
        "2026-Q3",
        "2026-Q4",
        "2027-Q1",
    ]
    assert [p["count"] for p in quarters["periods"]] == [1, 1, 0, 0]
    assert crm_json("forecast", "--owner", "nobody")["total"]["count"] == 0


def test_forecast_table_and_csv(crm: Run, at: Callable[[str], None]) -> None:
    _pipeline(crm, at)
    table = crm("forecast", "--months", "2").stdout
    lines = table.splitlines()
    assert lines[0] == "Forecast by month, 2026-05 to 2026-06"
    assert any(
        line.split()[:5] == ["2026-05", "1", "1,000.00", "100.00", "1,500.00"] for line in lines
    )
    assert any(line.split()[:2] == ["overdue", "1"] for line in lines)
    assert any(line.startswith("no close date") for line in lines)
    assert "█" not in table  # no bars when piped
    rows = list(csv.reader(io.StringIO(crm("forecast", "--months", "2", "--csv").stdout)))
    assert rows[0] == ["period", "count", "amount", "weighted", "won"]
    assert rows[1] == ["2026-05", "1", "1000.00", "100.00", "1500.00"]
    assert [r[0] for r in rows[3:]] == ["overdue", "later", "no_close_date", "total"]


def test_forecast_usage_errors(crm: Run) -> None:
    assert "--months" in crm("forecast", "--months", "0", code=2).stderr
    crm("forecast", "--by", "week", code=2)


def test_win_rate_json(crm: Run, crm_json: Json, at: Callable[[str], None]) -> None:
    empty = crm_json("report", "win-rate")
    assert empty["groups"] == []
    assert (empty["total"]["win_rate"], empty["total"]["value_win_rate"]) == (None, None)
    _pipeline(crm, at)
    data = crm_json("report", "win-rate")
    assert data["by"] == "owner"
    assert data["groups"] == [
        {
            "group": "tester",
            "won": 1,
            "lost": 1,
            "won_amount": "1500.00",
            "lost_amount": "900.00",
            "win_rate": "50.0",
            "value_win_rate": "62.5",
        }
    ]
    by_source = crm_json("report", "win-rate", "--by", "source", "--since", "2026-05-03")
    assert [(g["group"], g["won"], g["lost"]) for g in by_source["groups"]] == [("(none)", 0, 1)]
    assert by_source["since"] == "2026-05-03"
    assert "win rate" in crm("report", "win-rate").stdout
    crm("report", "win-rate", "--by", "region", code=2)


def test_conversion_json(crm: Run, crm_json: Json) -> None:
    crm("lead", "add", "Ana", "--source", "Expo", "--budget", "100", "--timeline", "2027-01-31")
    crm("lead", "add", "Bia", "--source", "Expo")
    crm("lead", "qualify", "1")
    crm("lead", "convert", "1", "--account", "Ana SA")
    crm("lead", "disqualify", "2", "--reason", "No budget")
    data = crm_json("report", "conversion")
    assert data["sources"] == [
        {
            "source": "Expo",
            "leads": 2,
            "qualified": 1,
            "disqualified": 1,
            "converted": 1,
            "conversion_rate": "50.0",
        }
    ]
    assert data["total"]["conversion_rate"] == "50.0"
    rows = list(csv.reader(io.StringIO(crm("report", "conversion", "--csv").stdout)))
    assert rows[0][0] == "source" and rows[-1][0] == "Total"


def test_velocity_json(crm: Run, crm_json: Json, at: Callable[[str], None]) -> None:
    _pipeline(crm, at)
    data = crm_json("report", "velocity")
    first = data["stages"][0]
    # Lost deal: 31 days in Prospecting (1 April → 2 May); the won deal: 31 days too
    assert first == {
        "stage": "Prospecting",
        "expected_days": 14,
        "stays": 2,
        "average_days": "31.0",
        "median_days": "31.0",
    }
    assert data["stages"][1]["stays"] == 1 and data["stages"][1]["average_days"] == "2.0"
    assert data["stages"][2]["average_days"] is None
    assert data["sales_cycle"] == {"won": 1, "average_days": "31.0", "median_days": "31.0"}
    assert "Sales cycle" in crm("report", "velocity").stdout
    rows = list(csv.reader(io.StringIO(crm("report", "velocity", "--csv").stdout)))
    assert rows[-1] == ["(sales cycle)", "", "1", "31.0", "31.0"]


def test_stale_json(crm: Run, crm_json: Json, at: Callable[[str], None]) -> None:
    _pipeline(crm, at)
    data = crm_json("report", "stale", "--days", "30")
    names = {d["name"]: d for d in data["deals"]}
    assert set(names) == {"May deal", "July deal", "Late deal", "Undated"}
    late = names["Late deal"]
    assert late["reasons"] == ["no_next_step", "no_recent_activity", "past_close_date"]
    assert (late["idle_days"], late["limit_days"], late["last_activity"]) == (48, 30, None)
    assert late["amount"] == "500.00"
    assert data["total"] == {"count": 4, "amount": "2033.33"}
    assert data["days"] == 30
    table = crm("report", "stale").stdout
    assert "close date passed 1 d ago" in table
    rows = list(csv.reader(io.StringIO(crm("report", "stale", "--csv").stdout)))
    assert rows[0][-3:] == ["idle_days", "limit_days", "reasons"]
    late_row = next(r for r in rows if r[1] == "Late deal")
    assert late_row[-1] == "no_next_step no_recent_activity past_close_date"
    crm("report", "stale", "--days", "0", code=2)
