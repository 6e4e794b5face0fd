"""`crm report stale --limit N`: the N longest idle deals, the total still of all (issue 16)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]


@pytest.fixture
def idle(crm: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three open deals with no activity, created a day apart, and one with a next step
    planned today (not stale)."""
    for day, (name, amount) in enumerate(
        [("Oldest", "1000"), ("Middle", "200.50"), ("Newest", "30"), ("Busy", "5")], start=1
    ):
        monkeypatch.setenv("CRM_NOW", f"2026-11-0{day}T10:00")
        crm("opp", "add", name, "--account", "Acme", "--amount", amount, "-q")
    monkeypatch.setenv("CRM_NOW", "2026-12-07T10:00")
    crm("activity", "add", "Ligar", "--type", "call", "--opp", "Busy", "--due", "+30d", "-q")


def _stale(crm: Run, *args: str) -> Any:
    return json.loads(crm("report", "stale", *args, "--json").stdout)


def test_limit_keeps_the_longest_idle_and_the_total_of_all(crm: Run, idle: None) -> None:
    every = _stale(crm)
    assert [d["name"] for d in every["deals"]] == ["Oldest", "Middle", "Newest"]
    first = _stale(crm, "--limit", "2")
    assert [d["name"] for d in first["deals"]] == ["Oldest", "Middle"]
    assert first["total"] == every["total"] == {"count": 3, "amount": "1230.50"}
    assert first["deals"] == every["deals"][:2]


def test_a_limit_past_the_count_changes_nothing(crm: Run, idle: None) -> None:
    assert _stale(crm, "--limit", "10") == _stale(crm)


def test_the_table_and_csv_follow_the_limit_and_stderr_says_how_many_more(
    crm: Run, idle: None
) -> None:
    shown = crm("report", "stale", "--limit", "1")
    assert "Oldest" in shown.stdout and "Middle" not in shown.stdout
    assert "3 deals" in shown.stdout  # the footer's total is of all of them
    assert "2 more stale deals" in shown.stderr
    rows = list(csv.DictReader(io.StringIO(crm("report", "stale", "--limit", "2", "--csv").stdout)))
    assert [r["name"] for r in rows] == ["Oldest", "Middle"]
    assert crm("report", "stale", "--limit", "0", code=2).exit_code == 2
