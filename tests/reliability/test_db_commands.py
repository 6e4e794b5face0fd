"""`crm db check` finds real damage and says so plainly; `crm db backup` makes a consistent,
verified, private copy while the database is being written, and never clobbers a file."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

from reliability_harness import crm, crm_env, integrity, rows
from test_import_kill import database_with_three_leads, lead_file, wal_size


def test_db_check_says_ok_on_a_healthy_database(tmp_path: Path) -> None:
    db_path = tmp_path / "crm.db"
    assert crm("lead", "add", "Ana", db=db_path).code == 0
    checked = crm("db", "check", "--json", db=db_path)
    assert checked.code == 0, checked.stderr
    assert json.loads(checked.stdout)["problems"] == []
    plain = crm("db", "check", db=db_path)
    assert plain.stdout == "ok\n"


def test_db_check_reports_a_dangling_foreign_key_and_a_damaged_index(tmp_path: Path) -> None:
    db_path = tmp_path / "crm.db"
    assert crm("account", "add", "Acme", db=db_path).code == 0
    assert crm("lead", "add", "Ana", "--email", "ana@x.com", db=db_path).code == 0
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(
            "INSERT INTO contact (name, name_key, account_id, type, created_at) "
            "VALUES ('Orphan', 'orphan', 999, 'other', '2026-01-01 00:00:00')"
        )
        # An index whose definition no longer matches its entries: what a torn write leaves.
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX ix_lead_status ON lead (name)' "
            "WHERE name = 'ix_lead_status'"
        )
        conn.commit()
    finally:
        conn.close()

    checked = crm("db", "check", db=db_path)
    assert checked.code == 1
    assert "Traceback" not in checked.stderr
    problems = checked.stdout.splitlines()
    assert any(p.startswith("foreign key: contact row") and "account" in p for p in problems)
    assert any(p.startswith("integrity: ") and "ix_lead_status" in p for p in problems)
    # stderr: the usual one-line summary, then the one error line
    summary, error = checked.stderr.splitlines()
    assert summary.startswith("crm: schema ") and "1 leads" in summary
    assert error.startswith("crm: error: ") and f"{len(problems)} problem(s) found" in error

    as_json = crm("db", "check", "--json", db=db_path)
    assert as_json.code == 1
    assert json.loads(as_json.stdout)["problems"] == problems


def test_db_backup_while_an_import_writes_is_a_consistent_private_copy(tmp_path: Path) -> None:
    db_path = tmp_path / "crm.db"
    database_with_three_leads(db_path)
    csv_path = lead_file(tmp_path / "feira.csv")
    before = wal_size(db_path)
    importer = subprocess.Popen(
        [sys.executable, "-m", "crmcli", "lead", "import", str(csv_path), "--json"],
        env=crm_env(db_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while wal_size(db_path) <= before and importer.poll() is None:  # it is writing
            assert time.monotonic() < deadline
            time.sleep(0.005)
        copy = tmp_path / "copy.db"
        backed = crm("db", "backup", str(copy), db=db_path, umask=0o022)
        _out, err = importer.communicate(timeout=120)
    finally:
        if importer.poll() is None:
            importer.kill()
            importer.wait()
    assert importer.returncode == 0, err
    assert backed.code == 0, backed.stderr
    assert "verified" in backed.stderr
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert integrity(copy) == []
    # one transaction: the copy holds the import entirely or not at all
    (count,) = rows(copy, "SELECT COUNT(*) FROM lead")[0]
    assert count in (3, 3 + 30_000)
    assert not Path(f"{copy}-wal").exists() and not Path(f"{copy}-journal").exists()
    assert rows(db_path, "SELECT COUNT(*) FROM lead") == [(3 + 30_000,)]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".copy.db")] == []


def test_db_backup_never_overwrites_without_force_and_refuses_nonsense(tmp_path: Path) -> None:
    db_path = tmp_path / "crm.db"
    assert crm("lead", "add", "Ana", db=db_path).code == 0
    existing = tmp_path / "precious.db"
    existing.write_bytes(b"my other data")
    refused = crm("db", "backup", str(existing), db=db_path)
    assert refused.code == 1 and "--force" in refused.one_line_error()
    assert existing.read_bytes() == b"my other data"

    forced = crm("db", "backup", str(existing), "--force", db=db_path)
    assert forced.code == 0, forced.stderr
    assert rows(existing, "SELECT name FROM lead") == [("Ana",)]
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600

    for target, says in [
        (db_path, "the database itself"),
        (tmp_path, "directory"),
        (tmp_path / "missing" / "copy.db", "cannot write"),
    ]:
        bad = crm("db", "backup", str(target), "--force", db=db_path)
        assert bad.code == 1, (target, bad.stderr)
        assert says in bad.one_line_error()
    assert rows(db_path, "SELECT name FROM lead") == [("Ana",)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db", "precious.db"]
