"""Several real processes writing one SQLite file at once: nobody fails with "database is locked",
nothing is lost or duplicated, and the file stays intact."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crmcli.domain.models import LeadStatus
from crmcli.services import accounts, leads, opportunities
from crmcli.services.stages import list_stages
from crmcli.store.db import Database

WORKERS = 6
LEADS_EACH = 30
CONVERT_EVERY = 3  # leads 0, 3, 6, … of each worker are qualified and converted
COMPANIES = 5

# Each worker imports everything, says it is ready, waits for the go signal, then opens the
# database (so the first use of the file is itself concurrent) and writes.
WORKER = f"""
import sys, time
from datetime import date
from decimal import Decimal
from pathlib import Path

from crmcli.services import leads
from crmcli.store.db import Database

db_path, folder, worker = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
(folder / f"ready-{{worker}}").touch()
deadline = time.monotonic() + 30
while not (folder / "go").exists():
    if time.monotonic() > deadline:
        sys.exit("no go signal")
    time.sleep(0.005)

db = Database(db_path, currency="BRL")
for i in range({LEADS_EACH}):
    lead = leads.add_lead(
        db,
        f"Worker {{worker}} lead {{i}}",
        email=f"w{{worker}}-{{i}}@example.com",
        company=f"Company {{i % {COMPANIES}}}",
        budget=Decimal("100.00"),
        timeline=date(2026, 12, 31),
    )
    if i % {CONVERT_EVERY} == 0:
        leads.qualify_lead(db, lead.id)
        leads.convert_lead(db, lead.id)
db.dispose()
"""


def _run_workers(db_path: Path, folder: Path) -> list[tuple[int, str, str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(db_path), str(folder), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]
    try:
        deadline = time.monotonic() + 30
        while len(list(folder.glob("ready-*"))) < WORKERS:
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        (folder / "go").touch()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            results.append((proc.returncode, out, err))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.parametrize("fresh", [True, False], ids=["fresh-file", "existing-file"])
def test_six_processes_add_and_convert_leads_at_once(tmp_path: Path, fresh: bool) -> None:
    db_path = tmp_path / "shared.db"
    folder = tmp_path / "signals"
    folder.mkdir()
    if not fresh:
        existing = Database(str(db_path), currency="BRL")
        existing.engine()
        existing.dispose()
        assert db_path.exists()

    results = _run_workers(db_path, folder)

    for n, (code, _out, err) in enumerate(results):
        assert "database is locked" not in err
        assert code == 0, f"worker {n} exited {code}: {err}"
        assert err == "", f"worker {n} wrote to stderr: {err}"

    converted_each = len(range(0, LEADS_EACH, CONVERT_EVERY))
    db = Database(str(db_path))
    try:
        every = leads.list_leads(db, include_archived=True)
        assert len(every) == WORKERS * LEADS_EACH
        assert {lead.email for lead in every} == {
            f"w{w}-{i}@example.com" for w in range(WORKERS) for i in range(LEADS_EACH)
        }
        done = leads.list_leads(db, status=LeadStatus.CONVERTED)
        assert len(done) == WORKERS * converted_each
        assert all(lead.opportunity_id is not None for lead in done)
        # accounts were reused across processes by name, never duplicated
        assert sorted(a.name for a in accounts.list_accounts(db)) == [
            f"Company {c}" for c in range(COMPANIES)
        ]
        assert len(accounts.list_contacts(db)) == WORKERS * converted_each
        assert len(opportunities.list_opportunities(db)) == WORKERS * converted_each
        assert len(db.applied_migrations()) >= 1
        assert [s.name for s in list_stages(db)] == [
            "Prospecting",
            "Qualification",
            "Needs analysis",
            "Proposal",
            "Negotiation",
        ]
        assert db.problems() == []
    finally:
        db.dispose()

    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        assert raw.execute("SELECT COUNT(*) FROM lead").fetchone() == (WORKERS * LEADS_EACH,)
        assert raw.execute("SELECT COUNT(*) FROM crm_migrations").fetchone()[0] >= 1
    finally:
        raw.close()
