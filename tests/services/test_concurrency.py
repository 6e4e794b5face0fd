"""Several real processes writing one database at once: nobody fails with "database is locked",
nothing is lost or duplicated, and the database stays intact.

Runs on a SQLite file (writers take turns: BEGIN IMMEDIATE) and on PostgreSQL (writers run
side by side: unique keys with ON CONFLICT, row locks where a change must not race).
"""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from crmcli.domain.models import LeadStatus
from crmcli.errors import InvalidTransition
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


def _run_workers(
    target: str, folder: Path, worker: str = WORKER, count: int = WORKERS
) -> list[tuple[int, str, str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", worker, target, str(folder), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    try:
        deadline = time.monotonic() + 30
        while len(list(folder.glob("ready-*"))) < count:
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
def test_six_processes_add_and_convert_leads_at_once(
    tmp_path: Path, fresh: bool, backend: str, backend_url: str
) -> None:
    folder = tmp_path / "signals"
    folder.mkdir()
    if not fresh:
        existing = Database(backend_url, currency="BRL")
        existing.open()
        existing.dispose()

    results = _run_workers(backend_url, folder)

    for n, (code, _out, err) in enumerate(results):
        assert "database is locked" not in err
        assert code == 0, f"worker {n} exited {code}: {err}"
        assert err == "", f"worker {n} wrote to stderr: {err}"

    converted_each = len(range(0, LEADS_EACH, CONVERT_EVERY))
    db = Database(backend_url)
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
    if backend != "sqlite":
        return

    raw = sqlite3.connect(backend_url)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        assert raw.execute("SELECT COUNT(*) FROM lead").fetchone() == (WORKERS * LEADS_EACH,)
        assert raw.execute("SELECT COUNT(*) FROM crm_migrations").fetchone()[0] >= 1
    finally:
        raw.close()


# -- one record, several writers -----------------------------------------------------------


def _qualified_lead(db: Database) -> int:
    lead = leads.add_lead(
        db,
        "Beatriz Araújo",
        email="bia@araujo.example",
        company="Araújo Engenharia",
        budget=Decimal("5000.00"),
        timeline=date(2027, 3, 31),
    )
    leads.qualify_lead(db, lead.id)
    return lead.id


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_a_conversion_waits_for_a_concurrent_one_and_is_then_refused(backend_url: str) -> None:
    first, second = Database(backend_url, currency="BRL"), Database(backend_url)
    try:
        lead_id = _qualified_lead(first)
        with first.write() as uow:
            # The first converter is mid-transaction, holding the lead…
            lead = uow.leads.get(lead_id, lock=True)
            thread, outcome = _in_thread(lambda: leads.convert_lead(second, lead_id))
            thread.join(0.7)
            assert thread.is_alive(), f"the second conversion did not wait: {outcome}"
            # …and converts it (as convert_lead does) before committing.
            uow.leads.update(lead, {"status": LeadStatus.CONVERTED.value})
            uow.commit()
        thread.join(30)
        assert not thread.is_alive()
        error = outcome.get("error")
        assert isinstance(error, InvalidTransition), outcome
        assert "already converted" in str(error)
        assert accounts.list_accounts(first) == []
        assert opportunities.list_opportunities(first) == []
    finally:
        first.dispose()
        second.dispose()


def test_a_win_waits_for_a_concurrent_loss_and_is_then_refused(backend_url: str) -> None:
    first, second = Database(backend_url, currency="BRL"), Database(backend_url)
    try:
        deal = opportunities.add_opportunity(first, "Torre B", account="Araújo").opportunity
        with first.write() as uow:
            held = uow.opps.get(deal.id, lock=True)
            thread, outcome = _in_thread(lambda: opportunities.win_opportunity(second, "Torre B"))
            thread.join(0.7)
            assert thread.is_alive(), f"the win did not wait: {outcome}"
            uow.opps.update(held, {"status": "lost", "probability": 0, "lost_reason": "price"})
            uow.commit()
        thread.join(30)
        assert isinstance(outcome.get("error"), InvalidTransition), outcome
        (shown,) = opportunities.list_opportunities(first)
        assert (shown.status.value, shown.probability) == ("lost", 0)
    finally:
        first.dispose()
        second.dispose()


CONVERTER = """
import subprocess, sys, time
from pathlib import Path

target, folder, worker = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
(folder / f"ready-{worker}").touch()
while not (folder / "go").exists():
    time.sleep(0.002)
from crmcli.cli.app import main
sys.argv = ["crm", "--db", target, "lead", "convert", "1", "-q"]
main()
"""


def test_six_people_convert_the_same_lead_at_once_one_wins(
    tmp_path: Path, backend_url: str
) -> None:
    db = Database(backend_url, currency="BRL")
    try:
        lead_id = _qualified_lead(db)
        assert lead_id == 1
    finally:
        db.dispose()
    folder = tmp_path / "signals"
    folder.mkdir()

    results = _run_workers(backend_url, folder, CONVERTER, count=6)

    winners = [r for r in results if r[0] == 0]
    losers = [r for r in results if r[0] != 0]
    assert len(winners) == 1, results
    for code, out, err in losers:
        assert code == 1 and out == "", (code, out, err)
        assert err == "crm: error: lead 1 is converted: it was already converted\n"
    db = Database(backend_url)
    try:
        (deal,) = opportunities.list_opportunities(db)
        assert winners[0][1] == f"{deal.id}\n"
        assert len(accounts.list_accounts(db)) == 1
        assert len(accounts.list_contacts(db)) == 1
        assert leads.get_lead(db, 1).opportunity_id == deal.id
    finally:
        db.dispose()


IMPORTER = """
import sys, time
from pathlib import Path

target, folder, worker = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
(folder / f"ready-{worker}").touch()
while not (folder / "go").exists():
    time.sleep(0.002)
from crmcli.cli.app import main
sys.argv = ["crm", "--db", target, "lead", "import", str(folder.parent / f"feira-{worker}.csv"), "--json"]
main()
"""


def test_two_imports_sharing_every_email_in_opposite_orders_store_each_lead_once(
    tmp_path: Path, backend_url: str
) -> None:
    """Each import holds the e-mails it stored until it commits; in opposite orders, two of
    them running side by side on a server would each wait for the other (a deadlock, one
    import lost). Imports take turns, and each lead is stored once."""
    rows = 6000  # three batches each
    lines = [f"Lead {i},lead{i}@feira.example,Empresa {i % 40}" for i in range(rows)]
    for n, ordered in enumerate((lines, lines[::-1])):
        text = "\n".join(["Nome,E-mail,Empresa", *ordered]) + "\n"
        (tmp_path / f"feira-{n}.csv").write_text(text, encoding="utf-8")
    folder = tmp_path / "signals"
    folder.mkdir()
    Database(backend_url, currency="BRL").dispose()

    results = _run_workers(backend_url, folder, IMPORTER, count=2)

    summaries = []
    for code, out, err in results:
        assert code == 0, err
        summaries.append(json.loads(out))
    assert sum(s["inserted"] for s in summaries) == rows
    assert sum(s["skipped"] for s in summaries) == rows
    assert all(s["read"] == rows and s["rejected"] == 0 for s in summaries)
    db = Database(backend_url)
    try:
        assert db.count("lead") == rows
    finally:
        db.dispose()


def test_an_import_waits_for_a_lead_added_meanwhile_and_skips_it(backend_url: str) -> None:
    from crmcli.importing.reader import open_table
    from crmcli.services.imports import ImportOptions, import_leads

    data = b"Nome,E-mail\nAna,ana@x.example\nBia,bia@x.example\n"
    first, second = Database(backend_url, currency="BRL"), Database(backend_url)
    try:
        first.open()

        def run_import() -> object:
            table = open_table(io.BytesIO(data), name="feira.csv")
            return import_leads(second, table, ImportOptions())

        with first.write() as uow:
            now = datetime(2026, 11, 25, 9, 0)
            typed = {"name": "Ana (typed in)", "email": "ana@x.example", "status": "new"}
            uow.leads.add({**typed, "created_at": now, "updated_at": now})
            thread, outcome = _in_thread(run_import)
            thread.join(0.7)
            assert thread.is_alive(), f"the import did not wait: {outcome}"
            uow.commit()
        thread.join(30)
        summary = outcome.get("result")
        assert summary is not None, outcome
        counts = (summary.inserted, summary.skipped, summary.rejected)  # type: ignore[attr-defined]
        assert counts == (1, 1, 0)
        assert sorted(lead.name for lead in leads.list_leads(first)) == ["Ana (typed in)", "Bia"]
    finally:
        first.dispose()
        second.dispose()


def test_a_pipeline_change_never_deadlocks_with_a_deal_being_moved(backend_url: str) -> None:
    """A stage change locks the stages, then the deals in them; a move locks the stages (shared)
    before the deal. With the move waiting on the stages, the change still gets the deal."""
    first, second = Database(backend_url, currency="BRL"), Database(backend_url)
    try:
        deal = opportunities.add_opportunity(first, "Torre C", account="Araújo").opportunity
        with first.write() as uow:
            if uow.conn.dialect.name == "postgresql":
                uow.conn.run("SET LOCAL lock_timeout = '5s'")
            uow.stages.lock()  # as `stage remove --move-to` does first
            thread, outcome = _in_thread(lambda: opportunities.advance_opportunity(second, "1"))
            thread.join(0.7)
            assert thread.is_alive(), f"the move did not wait for the pipeline change: {outcome}"
            held = uow.opps.get(deal.id, lock=True)  # would wait (and time out) if it held it
            uow.opps.update(held, {"probability": 15, "probability_manual": True})
            uow.commit()
        thread.join(30)
        moved = outcome.get("result")
        assert moved is not None, outcome
        assert (moved.stage, moved.probability) == ("Qualification", 20)  # type: ignore[attr-defined]
    finally:
        first.dispose()
        second.dispose()


OPP_IMPORTER = IMPORTER.replace('"lead", "import"', '"opp", "import"')


def test_two_imports_of_the_same_deals_at_once_store_each_deal_once(
    tmp_path: Path, backend_url: str
) -> None:
    rows = [f"Deal {i};Conta {i % 30};{i}00,00" for i in range(600)]
    for n, ordered in enumerate((rows, rows[::-1])):
        text = "\n".join(["Nome;Conta;Valor", *ordered]) + "\n"
        (tmp_path / f"feira-{n}.csv").write_text(text, encoding="utf-8")
    folder = tmp_path / "signals"
    folder.mkdir()
    Database(backend_url, currency="BRL").dispose()

    results = _run_workers(backend_url, folder, OPP_IMPORTER, count=2)

    summaries = []
    for code, out, err in results:
        assert code == 0, err
        summaries.append(json.loads(out))
    assert sum(s["inserted"] for s in summaries) == 600
    assert sum(s["skipped"] for s in summaries) == 600
    db = Database(backend_url)
    try:
        assert db.count("opportunity") == 600
        assert db.count("account") == 30
    finally:
        db.dispose()
