"""Team use through the command line: `db copy` into a shared database, and database URLs whose
passwords are never printed, whatever goes wrong."""

from __future__ import annotations

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
JsonRun = Callable[..., Any]

REPORTS = (
    ("pipeline", "report"),
    ("forecast",),
    ("report", "win-rate"),
    ("report", "conversion"),
    ("report", "velocity"),
    ("report", "stale"),
    ("agenda",),
    ("opp", "list"),
    ("account", "list"),
    ("contact", "list"),
    ("lead", "list", "--all"),
    ("activity", "list"),
    ("opp", "show", "1"),
)


def _personal_database(crm: Run, path: Path) -> None:
    """A salesperson's own file, made through the CLI: the demo, plus work of their own."""
    crm("demo", "--path", str(path))
    db = ("--db", str(path))
    crm(*db, "lead", "add", "Zoë Ångström", "--email", "ZOE@Example.com", "--budget", "1.234,56")
    crm(*db, "stage", "add", "Jurídico", "--probability", "85", "--after", "Proposal")
    crm(*db, "opp", "advance", "1", "--to", "jurídico")


def _contents(path: Path) -> list[str]:
    """Every row and schema line of a SQLite file (its bytes change when SQLite checkpoints)."""
    import sqlite3

    raw = sqlite3.connect(path)
    try:
        return list(raw.iterdump())
    finally:
        raw.close()


def test_db_copy_moves_every_record_with_its_id_into_an_empty_database(
    crm: Run, crm_json: JsonRun, tmp_path: Path, backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_NOW", "2026-11-25T09:00:00")
    personal = tmp_path / "mine.db"
    _personal_database(crm, personal)
    before = _contents(personal)

    result = crm("--db", str(personal), "db", "copy", "--to", backend_url, "--json")

    summary = json.loads(result.stdout)
    assert summary["copied"] == {
        "stages": 6,
        "accounts": 8,
        "contacts": 8,
        "opportunities": 9,
        "leads": 13,
        "history": 32,
        "activities": 5,
    }
    assert summary["currency"] == "BRL"
    assert summary["source"] == str(personal)
    for command in REPORTS:  # the team database answers exactly as the file did
        mine = crm_json("--db", str(personal), *command)
        assert crm_json(*command) == mine, command
    # ids carry on after the copied ones, on every table
    new = crm_json("lead", "add", "Next lead")
    assert new["id"] == 14
    assert crm_json("opp", "add", "Next deal", "--account", "Nova Conta")["id"] == 10
    assert crm_json("stage", "list")[-1]["name"] == "Negociação e detalhamento"
    # the matching rules hold on the copy: Unicode-insensitive names, normalised e-mails
    assert crm_json("lead", "list", "--search", "ÅNGSTRÖM")[0]["email"] == "zoe@example.com"
    assert crm("lead", "add", "Zoe again", "--email", "zoe@EXAMPLE.com", code=1).stderr.startswith(
        'crm: error: lead 13 ("Zoë Ångström") already has the e-mail zoe@example.com'
    )
    assert _contents(personal) == before  # the source is only read


def test_db_copy_refuses_a_target_that_holds_records_and_leaves_it_alone(
    crm: Run, crm_json: JsonRun, tmp_path: Path, backend_url: str
) -> None:
    personal = tmp_path / "mine.db"
    crm("--db", str(personal), "lead", "add", "Ana")
    crm("lead", "add", "Already here")  # the team database has a lead of its own

    refused = crm("--db", str(personal), "db", "copy", "--to", backend_url, code=1)

    assert refused.stdout == ""
    assert refused.stderr.endswith(
        "is not empty (it holds 1 leads): db copy only fills a new, empty database\n"
    )
    assert [lead["name"] for lead in crm_json("lead", "list")] == ["Already here"]


def test_db_copy_refuses_itself_and_a_missing_source(
    crm: Run, tmp_path: Path, backend_url: str
) -> None:
    crm("lead", "add", "Ana")
    same = crm("db", "copy", "--to", backend_url, code=1)
    assert "names the database being copied" in same.stderr
    missing = tmp_path / "nobody.db"
    gone = crm("--db", str(missing), "db", "copy", "--to", str(tmp_path / "new.db"), code=1)
    assert "nothing to copy" in gone.stderr and not missing.exists()


def test_db_copy_is_all_or_nothing(
    crm: Run, crm_json: JsonRun, tmp_path: Path, backend_url: str
) -> None:
    """A source row the target refuses (an activity linked to two records, which only a hand
    edit could leave) stops the copy at the last table, and the target keeps nothing."""
    personal = tmp_path / "mine.db"
    db = ("--db", str(personal))
    crm(*db, "lead", "add", "Ana", "--email", "ana@x.example")
    crm(*db, "account", "add", "Acme")
    crm(*db, "activity", "add", "Call Ana", "--type", "call", "--lead", "1")
    import sqlite3

    raw = sqlite3.connect(personal)
    try:
        raw.execute("PRAGMA ignore_check_constraints = ON")
        raw.execute("UPDATE activity SET account_id = 1")
        raw.commit()
    finally:
        raw.close()

    refused = crm(*db, "db", "copy", "--to", backend_url, code=1)

    assert len(refused.stderr.splitlines()) == 1
    assert "ck_activity_one_link" in refused.stderr or "CHECK constraint" in refused.stderr
    assert crm_json("lead", "list") == []
    assert crm_json("account", "list") == []


# -- passwords ---------------------------------------------------------------------------------

UNREACHABLE = "postgresql://sales:s3cr%40t-pw@127.0.0.1:1/crm"


@pytest.mark.sqlite_only  # no server needed: nothing listens on port 1
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_failing_server_url_never_shows_its_password(crm: Run, debug: bool) -> None:
    args = ["--debug"] if debug else []
    failed = crm(*args, "--db", UNREACHABLE, "lead", "list", code=1)
    assert "s3cr" not in failed.stderr and "s3cr" not in failed.stdout
    if debug:
        assert "Traceback" in failed.stderr and "Connection refused" in failed.stderr
    else:
        assert failed.stderr.startswith("crm: error: database: ")
        assert "Connection refused" in failed.stderr
        assert len(failed.stderr.splitlines()) == 1
    shown = crm("--db", "postgres://sales:p@ss@db.example/crm", "db", "path").stdout
    assert shown == "postgres://sales:***@db.example/crm\n"
    bad_port = crm(
        *args, "--db", "postgresql://sales:s3cret@db.example:port/crm", "lead", "list", code=1
    )
    assert bad_port.exit_code == 1 and "s3cret" not in bad_port.stderr
    assert "unsupported database URL: postgresql://sales:***@db.example:port/crm" in (
        bad_port.stderr
    )


@pytest.mark.sqlite_only
def test_without_the_driver_the_message_names_the_extra(tmp_path: Path) -> None:
    program = (
        "import sys; sys.modules['psycopg'] = None\n"  # as if psycopg were not installed
        "from crmcli.cli.app import main\n"
        "sys.argv = ['crm', '--db', 'postgresql://sales:s3cret@127.0.0.1:1/crm', 'lead', 'list']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CRM_DB": ""},
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "crm: error: PostgreSQL needs the psycopg driver: pip install 'crmcli[postgres]'\n"
    )


# -- the same answers on both backends -----------------------------------------------------------


def test_ids_beyond_the_id_columns_are_not_found_on_both_backends(crm: Run) -> None:
    """PostgreSQL's INTEGER ids stop at 2**31 - 1, SQLite's at 2**63 - 1: both say "no lead
    with id N" for an id no row can have, and "too large" (exit 2) past 64 bits."""
    crm("opp", "add", "Deal", "--account", "Acme")
    for args, message in (
        (("lead", "show", "99999999999"), "no lead with id 99999999999"),
        (("opp", "win", "99999999999"), "no opportunity with id 99999999999"),
        (("account", "show", "2147483648"), "no account with id 2147483648"),
        (("activity", "done", "99999999999"), "no activity with id 99999999999"),
    ):
        assert crm(*args, code=1).stderr == f"crm: error: {message}\n"
    too_large = crm("lead", "show", "99999999999999999999", code=2)
    assert "too large for the database" in too_large.stderr
    # the longest quiet period the calendar holds (1900-01-01 to 9999-12-31) works on both,
    # and beyond it is the same usage error on both (it overflowed BIGINT on PostgreSQL)
    stale = json.loads(crm("report", "stale", "--days", "2958463", "--json").stdout)
    assert [deal["name"] for deal in stale["deals"]] == ["Deal"]  # no activity: no next step
    beyond = crm("report", "stale", "--days", "99999999999", code=2)
    assert "2958463" in beyond.stderr
