"""`pipeline report --as-of DATE` and `forecast --as-of DATE`: what the reports printed on a
day, rebuilt later from the stage history and the journal (docs/reports.md, "As of a date")."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]

DAY1 = "2026-03-02T10:00:00"
DAY2 = "2026-03-10T15:00:00"
DAY3 = "2026-04-03T09:00:00"
LATER = "2026-05-01T08:00:00"

REPORTS: dict[str, tuple[str, ...]] = {
    "pipeline": ("pipeline", "report"),
    "pipeline of ana": ("pipeline", "report", "--owner", "ANA"),
    "forecast": ("forecast",),
    "forecast by quarter": ("forecast", "--by", "quarter", "--months", "12"),
    "forecast of bruno": ("forecast", "--owner", "bruno", "--months", "3"),
}


def _json(crm: Run, *args: str) -> Any:
    return json.loads(crm(*args, "--json").stdout)


def _printed(crm: Run) -> dict[str, Any]:
    """What every report prints now, by name."""
    return {name: _json(crm, *args) for name, args in REPORTS.items()}


def _newest_change_set(crm: Run) -> int:
    return int(_json(crm, "history", "--limit", "1")[0]["id"])


def _as_of(crm: Run, day: str) -> tuple[dict[str, Any], list[str]]:
    """Every report rebuilt as of `day` (its `as_of` checked and removed), and stderr lines."""
    found: dict[str, Any] = {}
    notes: list[str] = []
    for name, args in REPORTS.items():
        result = crm(*args, "--as-of", day, "--json")
        data = json.loads(result.stdout)
        assert data.pop("as_of") == day
        found[name] = data
        notes += result.stderr.splitlines()
    return found, notes


@pytest.mark.parametrize("swap_up_to", [None, 0], ids=["changed-deals-swapped", "all-rebuilt"])
def test_as_of_each_day_is_what_the_reports_printed_that_day(
    crm: Run, monkeypatch: pytest.MonkeyPatch, swap_up_to: int | None
) -> None:
    if swap_up_to is not None:  # rebuild every deal, as for a day with many changes since
        from crmcli.services import reports

        monkeypatch.setattr(reports, "MAX_TOUCHED", swap_up_to)
    monkeypatch.setenv("CRM_NOW", DAY1)
    a = crm("opp", "add", "Acme pilot", "--account", "Acme", "--amount", "10000",
            "--close", "2026-04-15", "--owner", "ana", "-q").stdout.strip()  # fmt: skip
    b = crm("opp", "add", "Beta rollout", "--account", "Beta", "--amount", "5000",
            "--close", "2026-03-20", "--owner", "bruno", "-q").stdout.strip()  # fmt: skip
    c = crm("opp", "add", "Gamma renewal", "--account", "Gamma", "--amount", "2000",
            "--owner", "Ana", "-q").stdout.strip()  # fmt: skip
    day1 = _printed(crm)

    monkeypatch.setenv("CRM_NOW", DAY2)
    crm("opp", "advance", a, "-q")
    crm("opp", "edit", b, "--amount", "7000", "--close", "2026-05-01", "-q")
    crm("opp", "edit", c, "--amount", "2500", "-q")
    crm("undo", str(_newest_change_set(crm)), "--yes")  # back to 2000 the same day
    d = crm("opp", "add", "Delta upgrade", "--account", "Delta", "--amount", "900",
            "--close", "2026-03-31", "--owner", "bruno", "-q").stdout.strip()  # fmt: skip
    added_d = _newest_change_set(crm)
    crm("opp", "win", b, "-q")
    crm("opp", "advance", c, "-q")
    moved_c = _newest_change_set(crm)
    day2 = _printed(crm)

    monkeypatch.setenv("CRM_NOW", DAY3)
    crm("undo", str(moved_c), "--yes")  # its history row goes: day 2 must still show the move
    crm("opp", "lose", c, "--reason", "price", "-q")
    crm("opp", "edit", a, "--amount", "12000", "--owner", "bruno", "-q")
    crm("opp", "advance", a, "--to", "Negotiation", "--probability", "90", "-q")
    crm("opp", "advance", d, "-q")
    crm("undo", str(_newest_change_set(crm)), "--yes")  # the move of Delta, undone
    crm("undo", str(added_d), "--yes")  # Delta removed altogether
    crm("opp", "reopen", b, "-q")
    day3 = _printed(crm)

    assert day1 != day2 != day3  # each day changed what the reports show
    assert day2["pipeline"]["total"]["count"] == 3  # Delta, added that day, is still there
    assert day2["forecast"]["periods"][0]["won"] == "7000.00"
    monkeypatch.setenv("CRM_NOW", LATER)
    for day, printed in (("2026-03-02", day1), ("2026-03-10", day2), ("2026-04-03", day3)):
        rebuilt, notes = _as_of(crm, day)
        assert notes == []
        for name in REPORTS:
            assert rebuilt[name] == printed[name], f"{name} as of {day}"
    assert _json(crm, "pipeline", "report", "--as-of", "2026-05-01") == {
        **day3["pipeline"],
        "as_of": "2026-05-01",
    }
    rebuilt, _ = _as_of(crm, "2026-03-09")  # the day before day 2: day 1 still stood
    assert rebuilt == day1  # (same horizon from 9 March, nothing overdue yet)


def test_a_day_before_the_journal_began_says_so_in_one_line(
    crm: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_NOW", DAY1)
    crm("opp", "add", "Acme pilot", "--account", "Acme", "--amount", "10000", "-q")
    monkeypatch.setenv("CRM_NOW", LATER)
    for args in (("pipeline", "report"), ("forecast",)):
        result = crm(*args, "--as-of", "2026-03-01", "--json")
        lines = result.stderr.splitlines()
        assert len(lines) == 1
        assert "as of 2026-03-01" in lines[0] and "journal began (2026-03-02T10:00:00Z)" in lines[0]
        assert json.loads(result.stdout)["total"]["count"] == 0  # the deal came later
    assert crm("pipeline", "report", "--as-of", "2026-03-02").stderr == ""


def _old_database(path: Path) -> Path:
    """A file left by crmcli before the journal existed (tests/reliability/make_fixtures.py)."""
    source = Path(__file__).resolve().parent.parent / "reliability" / "make_fixtures.py"
    spec = importlib.util.spec_from_file_location("as_of_make_fixtures", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built: Path = module.build(path, 4)  # 0001 … 0004: no journal yet
    return built


@pytest.mark.sqlite_only
def test_deals_older_than_the_journal_keep_their_stage_and_oldest_values(
    crm: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Deal 1 of the fixture: created 2026-01-02 in Qualification, 48,000.00 at 20 %.
    monkeypatch.setenv("CRM_DB", str(_old_database(tmp_path / "old.db")))
    monkeypatch.setenv("CRM_NOW", "2026-02-10T09:00:00")
    crm("db", "migrate")  # the journal begins now
    crm("opp", "edit", "1", "--amount", "60000", "-q")
    crm("opp", "advance", "1", "-q")
    after = _json(crm, "pipeline", "report")
    monkeypatch.setenv("CRM_NOW", "2026-03-01T09:00:00")

    before = crm("pipeline", "report", "--as-of", "2026-01-15", "--json")
    assert len(before.stderr.splitlines()) == 1
    assert "journal began (2026-02-10T09:00:00Z)" in before.stderr
    stages = {s["stage"]: s for s in json.loads(before.stdout)["stages"]}
    assert stages["Qualification"] == {
        "stage": "Qualification",
        "count": 1,
        "amount": "48000.00",  # the oldest journaled before-value
        "weighted": "9600.00",
    }
    assert json.loads(before.stdout)["total"]["count"] == 1  # deal 2 was lost already

    rebuilt = crm("pipeline", "report", "--as-of", "2026-02-10", "--json")
    assert rebuilt.stderr == ""
    assert json.loads(rebuilt.stdout) == {**after, "as_of": "2026-02-10"}
    assert "journal began" in crm("forecast", "--as-of", "2026-01-01").stderr


def test_deals_of_an_import_undone_since_are_said_to_be_left_out(
    crm: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRM_NOW", DAY1)
    crm("opp", "add", "Kept deal", "--account", "Acme", "--amount", "100", "-q")
    sheet = tmp_path / "deals.csv"
    sheet.write_text("name,account,amount\nOne,Beta,10\nTwo,Beta,20\n", encoding="utf-8")
    crm("opp", "import", str(sheet))
    imported = _newest_change_set(crm)
    assert _json(crm, "pipeline", "report")["total"]["count"] == 3
    monkeypatch.setenv("CRM_NOW", DAY2)
    crm("undo", str(imported), "--yes")

    result = crm("pipeline", "report", "--as-of", "2026-03-02", "--json")
    assert result.stderr.splitlines() == [
        "crm: as of 2026-03-02: 2 deals imported before then and removed since by an undo"
        " left out (the journal keeps only their ids)"
    ]
    assert json.loads(result.stdout)["total"] == {
        "count": 1,
        "amount": "100.00",
        "weighted": "10.00",
    }


def test_a_day_after_today_is_refused(crm: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", DAY1)
    crm("db", "init")  # else the first line says the database was created
    for args in (("pipeline", "report"), ("forecast",)):
        result = crm(*args, "--as-of", "tomorrow", code=1)
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            "crm: error: as-of: 2026-03-03 is after today (2026-03-02):"
            " only days that have begun can be rebuilt"
        ]
    assert crm("pipeline", "report", "--as-of", "today", "--json").stderr == ""


@pytest.mark.parametrize("value", ["2026-02-30", "soon", "31/13/2026", ""])
def test_a_bad_date_is_a_usage_error_naming_the_option_and_value(crm: Run, value: str) -> None:
    for args in (("pipeline", "report"), ("forecast",)):
        result = crm(*args, "--as-of", value, code=2)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "--as-of" in lines[0] and f'"{value}"' in lines[0]
        assert "Traceback" not in result.stderr


def test_csv_and_table_as_of(crm: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", DAY1)
    crm("opp", "add", "Acme pilot", "--account", "Acme", "--amount", "10000", "-q")
    csv_now = crm("pipeline", "report", "--csv").stdout
    monkeypatch.setenv("CRM_NOW", DAY2)
    crm("opp", "edit", "1", "--amount", "20000", "-q")
    assert crm("pipeline", "report", "--as-of", "2026-03-02", "--csv").stdout == csv_now
    table = crm("forecast", "--as-of", "2026-03-02").stdout
    assert "Forecast by month, 2026-03 to 2026-08, as of 2026-03-02" in table
    assert "10,000.00" in table and "20,000.00" not in table
    assert "as of 2026-03-02" in crm("pipeline", "report", "--as-of", "2026-03-02").stdout


_PROBE = """
import sys
sys.argv = ["crm", *sys.argv[1:]]
from crmcli.cli.app import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(sorted(m for m in sys.modules if m.endswith(".asof")), file=sys.stderr)
"""


def test_the_reports_without_as_of_load_none_of_its_modules(backend_url: str) -> None:
    env = {**os.environ, "CRM_DB": backend_url}
    for args in (["pipeline", "report", "--json"], ["forecast", "--json"]):
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        )
        assert done.stderr.strip().splitlines()[-1] == "[]"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "pipeline", "report", "--as-of", "today"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert "crmcli.reports.asof" in done.stderr  # the probe sees the modules when they load
