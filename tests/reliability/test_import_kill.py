"""A lead import killed with SIGKILL at random moments leaves the database exactly as it was.

The import of a 30 000-row file runs as a real `python -m crmcli` process against a database
that already holds 3 leads; it is killed a few times at random moments while it reads and writes.
After each kill the file must pass `PRAGMA integrity_check`, hold exactly 3 leads (or exactly
3 + 30 000 if the import had committed just before the kill), and the next command must work.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_harness import kill_after, wal_size
from typer.testing import CliRunner

from crmcli.cli.app import app
from crmcli.services import leads
from crmcli.store.db import Database

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and /proc are POSIX-only")

ROWS = 30_000
EXISTING = ("ana@x.com", "bia@x.com", "caio@x.com")


def lead_file(path: Path) -> Path:
    """A realistic pt-BR export: `;`, cp1252, CRLF, money and dates in local form."""
    lines = ["Nome;E-mail;Telefone;Empresa;Orçamento;Prazo;Cidade"]
    lines += [
        f"Lead Número {i};lead{i}@exemplo.com.br;(11) 9{i:04d}-{i % 10000:04d};"
        f"Empresa {i % 700} Ltda;R$ {i % 90 + 1}.{i % 1000:03d},{i % 100:02d};"
        f"{i % 28 + 1:02d}/{i % 12 + 1:02d}/2027;São Paulo"
        for i in range(ROWS)
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def database_with_three_leads(path: Path) -> None:
    db = Database(str(path), currency="BRL")
    try:
        for i, email in enumerate(EXISTING):
            leads.add_lead(db, f"Existing {i}", email=email)
    finally:
        db.dispose()


def start_and_kill(db_path: Path, csv_path: Path, delay: float, *, writing: bool) -> str:
    """Start the import and SIGKILL it `delay` seconds after it opened the file or, with
    `writing`, after its write transaction began spilling pages into the WAL.

    Returns "finished" (it ended before the kill), "reading" or "writing" (where it was killed:
    whether uncommitted pages were already in the WAL).
    """
    env = {**os.environ, "CRM_DB": str(db_path)}
    wal_before = wal_size(db_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmcli", "lead", "import", str(csv_path)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    opened = csv_path if Path("/proc/self/fd").is_dir() else None
    return kill_after(proc, db_path, delay, writing=writing, opened=opened, wal_before=wal_before)


def check_database(db_path: Path) -> int:
    """Integrity check and lead count straight through sqlite3 (it recovers the WAL), and the
    journal in step with the leads: the import's change set is there whole (every lead it
    stored in its id ranges) exactly when its leads are, never in part."""
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        count = int(conn.execute("SELECT COUNT(*) FROM lead").fetchone()[0])
        imports = conn.execute(
            "SELECT id FROM change_set WHERE command LIKE 'lead import %'"
        ).fetchall()
        covered = conn.execute(
            "SELECT COALESCE(SUM(COALESCE(last_id, record_id) - record_id + 1), 0) FROM change"
            " WHERE entity = 'lead' AND op = 'insert' AND change_set_id IN"
            " (SELECT id FROM change_set WHERE command LIKE 'lead import %')"
        ).fetchone()[0]
        assert (len(imports), covered) == ((1, ROWS) if count > 3 else (0, 0)), (count, covered)
        return count
    finally:
        conn.close()


def test_killed_import_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    csv_path = lead_file(tmp_path / "feira.csv")
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    # One kill while the first rows are read and checked, two once uncommitted pages are in
    # the WAL (random moments up to 1.5 s later: the import of 30 000 rows takes longer).
    plan = [(rng.uniform(0.0, 0.3), False), (rng.uniform(0.0, 0.5), True)]
    plan.append((rng.uniform(0.5, 1.5), True))
    runner = CliRunner()
    states: list[str] = []
    for attempt, (delay, writing) in enumerate(plan):
        where = f"attempt {attempt} (kill {delay:.2f}s in, writing={writing}, seed {seed})"
        db_path = tmp_path / f"crm-{attempt}.db"
        database_with_three_leads(db_path)
        state = start_and_kill(db_path, csv_path, delay, writing=writing)
        states.append(state)

        count = check_database(db_path)
        if state == "finished":
            assert count == 3 + ROWS, f"{where}: finished, yet {count} leads"
        else:
            assert count in (3, 3 + ROWS), f"{where}: killed {state}: {count} leads"

        # The next command works (searching keeps the output small after a full import).
        listing = ["--db", str(db_path), "lead", "list", "--search", "Existing", "--json"]
        result = runner.invoke(app, listing)
        assert result.exit_code == 0, f"{where}: {result.stderr}"
        listed = json.loads(result.stdout)
        assert sorted(lead["email"] for lead in listed) == sorted(EXISTING), where
        check = runner.invoke(app, ["--db", str(db_path), "db", "check"])
        assert check.exit_code == 0, f"{where}: {check.stdout} {check.stderr}"
    print(f"kill outcomes: {states} (seed {seed})")
    if "writing" not in states:
        pytest.skip(f"no kill landed while the import was writing ({states}, seed {seed})")
