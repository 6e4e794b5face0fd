"""`crm db …` and `crm demo` through the command line."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from typer.testing import Result

Run = Callable[..., Result]


@pytest.mark.sqlite_only
def test_db_path_follows_crm_db_and_hides_url_passwords(crm: Run, db_path: Path) -> None:
    assert crm("db", "path").stdout == f"{db_path}\n"
    url = "postgresql://sales:s3cret@db.example/crm"
    shown = crm("--db", url, "db", "path").stdout
    assert "s3cret" not in shown and shown == "postgresql://sales:***@db.example/crm\n"


def test_db_check_reports_ok(crm: Run) -> None:
    crm("lead", "add", "Ana")
    result = crm("db", "check")
    assert result.stdout == "ok\n"
    assert json.loads(crm("db", "check", "--json").stdout)["problems"] == []


@pytest.mark.sqlite_only
def test_db_backup_is_a_verified_0600_single_file_and_never_overwrites(
    crm: Run, tmp_path: Path
) -> None:
    crm("lead", "add", "Ana Lúcia")
    dest = tmp_path / "copy.db"
    crm("db", "backup", str(dest))
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert not Path(f"{dest}-wal").exists() and not Path(f"{dest}-shm").exists()
    with sqlite3.connect(dest) as copy:
        assert copy.execute("SELECT name FROM lead").fetchall() == [("Ana Lúcia",)]
    refused = crm("db", "backup", str(dest), code=1)
    assert "--force" in refused.stderr
    crm("db", "backup", str(dest), "--force")


def test_db_init_changes_the_currency_until_an_amount_is_stored(crm: Run) -> None:
    info = json.loads(crm("db", "init", "--currency", "brl", "--json").stdout)
    assert info["currency"] == "BRL" and info["previous_currency"] is None
    changed = json.loads(crm("db", "init", "--currency", "EUR", "--json").stdout)
    assert (changed["currency"], changed["previous_currency"]) == ("EUR", "BRL")
    crm("opp", "add", "Site", "--account", "Acme", "--amount", "10")
    refused = crm("db", "init", "--currency", "BRL", code=1).stderr
    assert "already stores amounts in EUR" in refused and "crm export" in refused
    assert crm("db", "init", "--currency", "EURO", code=1).exit_code == 1
    assert json.loads(crm("db", "init", "--json").stdout)["currency"] == "EUR"


def test_db_migrate_on_a_current_database_applies_nothing(crm: Run) -> None:
    assert json.loads(crm("db", "migrate", "--json").stdout) == {"applied": []}


def test_not_a_database_is_refused_and_left_alone(crm: Run, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    result = crm("--db", str(notes), "lead", "list", code=1)
    assert "not a SQLite database" in result.stderr and notes.read_text() == "hello\n"


@pytest.mark.sqlite_only
def test_demo_builds_a_separate_database_and_prints_the_report(
    crm: Run, tmp_path: Path, db_path: Path
) -> None:
    demo = tmp_path / "demo.db"
    report = json.loads(crm("demo", "--path", str(demo), "--json").stdout)
    assert report["total"]["count"] > 0
    assert "Negociação e detalhamento" in [s["stage"] for s in report["stages"]]
    assert not db_path.exists()
    again = json.loads(crm("demo", "--path", str(demo), "--json").stdout)
    assert again["total"] == report["total"]
    won = json.loads(crm("--db", str(demo), "opp", "list", "--status", "won", "--json").stdout)
    lost = json.loads(crm("--db", str(demo), "opp", "list", "--status", "lost", "--json").stdout)
    assert won and lost


@pytest.mark.sqlite_only
def test_demo_refuses_to_replace_a_real_database(crm: Run, db_path: Path) -> None:
    crm("lead", "add", "Real lead")
    result = crm("demo", "--path", str(db_path), code=1)
    assert "not a crmcli demo database" in result.stderr
    assert json.loads(crm("lead", "list", "--json").stdout)[0]["name"] == "Real lead"


def test_demo_has_a_dated_history_and_a_morning_agenda(
    crm: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo's meeting is due today at 15:00: read the agenda in the morning, whatever the hour.
    monkeypatch.setenv("CRM_NOW", f"{date.today().isoformat()}T09:00:00")
    demo = tmp_path / "demo.db"
    crm("demo", "--path", str(demo))
    velocity = json.loads(crm("--db", str(demo), "report", "velocity", "--json").stdout)
    assert velocity["sales_cycle"]["won"] == 2
    assert float(velocity["sales_cycle"]["average_days"]) > 20
    agenda = json.loads(crm("--db", str(demo), "agenda", "--json").stdout)
    assert [a["subject"] for a in agenda["overdue"]] == ["Send the revised proposal"]
    assert [a["subject"] for a in agenda["today"]] == ["Negotiation meeting"]
    assert agenda["no_next_step"]
