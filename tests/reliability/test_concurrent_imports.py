"""Several real `crm lead import` processes on one file at once, while reports are being read.

The harness starts every process, lets them all import everything they need, then releases
them together (a "go" file), so the imports really overlap. It proves something: the same
harness running a naive writer (a deferred `BEGIN`, a read, then a write, short busy timeout)
does report "database is locked".
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from reliability_harness import Ran, crm, crm_env, integrity, rows

ROWS = 2_000

# Imports crmcli, says it is ready (a file named after its pid beside the go file), waits for
# the go file, then runs `crm ARGS` as `python -m crmcli` would.
GO = """
import os, runpy, sys, time
from pathlib import Path
import crmcli.cli.app  # noqa: F401  (the slow part, done before the start line)
go = Path(sys.argv[1])
(go.parent / f"ready-{os.getpid()}").touch()
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("no go signal")
    time.sleep(0.002)
sys.argv = ["crm", *sys.argv[2:]]
runpy.run_module("crmcli", run_name="__main__", alter_sys=True)
"""

# Loops `crm pipeline report --json` in one process until the stop file appears; every run
# must exit 0 and report the same totals (nothing imported touches deals).
REPORTER = """
import io, json, os, sys, time
from contextlib import redirect_stdout
from pathlib import Path
from crmcli.cli.app import app
go, stop = Path(sys.argv[1]), Path(sys.argv[2])
(go.parent / f"ready-{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.002)
runs, totals = 0, set()
while not stop.exists() or runs < 3:
    out = io.StringIO()
    with redirect_stdout(out):
        code = app(["pipeline", "report", "--json"], prog_name="crm", standalone_mode=False)
    if code not in (None, 0):
        sys.exit(f"pipeline report exited {code}")
    totals.add(json.dumps(json.loads(out.getvalue())["total"], sort_keys=True))
    runs += 1
print(json.dumps({"runs": runs, "totals": sorted(totals)}))
"""

# The inverse check: what crmcli avoids. A deferred transaction that reads, then writes,
# with a short busy timeout: it fails with "database is locked" when another writer is busy.
NAIVE = """
import os, sqlite3, sys, time
from pathlib import Path
db, go, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
(go.parent / f"ready-{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.002)
conn = sqlite3.connect(db, timeout=0.05, isolation_level=None)
while not stop.exists():
    try:
        conn.execute("BEGIN")
        (n,) = conn.execute("SELECT COUNT(*) FROM naive_probe").fetchone()
        conn.execute("INSERT INTO naive_probe (n) VALUES (?)", (n,))
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        sys.exit(f"naive writer: {exc}")
"""


def lead_csv(path: Path, tag: str, rows_: int = ROWS) -> Path:
    """A pt-BR style file of `rows_` leads with e-mails unique to `tag`."""
    lines = ["Nome;E-mail;Empresa;Orçamento;Prazo"]
    lines += [
        f"Lead {tag} {i};{tag}-{i}@exemplo.com.br;Empresa {i % 40};"
        f"R$ {i % 900 + 1}.{i % 1000:03d},{i % 100:02d};{i % 28 + 1:02d}/{i % 12 + 1:02d}/2027"
        for i in range(rows_)
    ]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


@dataclass
class Outcome:
    imports: list[Ran]
    reporter: Ran
    naive: list[Ran]


def release(procs: list[subprocess.Popen[bytes]], go: Path) -> None:
    """Touch `go` once every process has said it is ready (or one has already ended)."""
    deadline = time.monotonic() + 60
    while len(list(go.parent.glob("ready-*"))) < len(procs):
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    go.touch()


def _finish(proc: subprocess.Popen[bytes], timeout: float) -> Ran:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return Ran(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def run_together(
    db_path: Path | str, files: list[Path], folder: Path, *, naive: int = 0
) -> Outcome:
    """Start one import per file, a report loop and `naive` naive writers; release them at once."""
    folder.mkdir()
    go, stop = folder / "go", folder / "stop"
    env = crm_env(db_path)
    popen = {"env": env, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    importers = [
        subprocess.Popen(  # type: ignore[call-overload]
            [sys.executable, "-c", GO, str(go), "lead", "import", str(f), "--json"], **popen
        )
        for f in files
    ]
    reporter = subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-c", REPORTER, str(go), str(stop)], **popen
    )
    naives = [
        subprocess.Popen(  # type: ignore[call-overload]
            [sys.executable, "-c", NAIVE, str(db_path), str(go), str(stop)], **popen
        )
        for _ in range(naive)
    ]
    try:
        release([*importers, reporter, *naives], go)
        done = [_finish(p, 120) for p in importers]
        stop.touch()
        return Outcome(done, _finish(reporter, 60), [_finish(p, 60) for p in naives])
    finally:
        for proc in [*importers, reporter, *naives]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def seed(db_path: Path | str) -> None:
    """A database with one deal, so the report loop has a total to keep seeing."""
    added = crm("opp", "add", "Seed deal", "--account", "Seed Ltda", "--amount", "1000", db=db_path)
    assert added.code == 0, added.stderr


def check_round(
    db_path: Path | str,
    outcome: Outcome,
    expected: set[str],
    where: str,
    *,
    amount: str = "1000.00",
) -> None:
    for n, ran in enumerate(outcome.imports):
        assert "database is locked" not in ran.stderr, f"{where}: importer {n}: {ran.stderr}"
        assert "Traceback" not in ran.stderr, f"{where}: importer {n}: {ran.stderr}"
        assert ran.code == 0, f"{where}: importer {n} exited {ran.code}: {ran.stderr}"
    reporter = outcome.reporter
    assert "database is locked" not in reporter.stderr, f"{where}: {reporter.stderr}"
    assert reporter.code == 0, f"{where}: report loop: {reporter.stderr}"
    report = json.loads(reporter.stdout)
    assert report["runs"] >= 3
    # every report saw the same committed deals: imports of leads never show half-done
    assert len(report["totals"]) == 1, f"{where}: {report['totals']}"
    assert json.loads(report["totals"][0])["amount"] == amount
    assert integrity(db_path) == [], where
    emails = {r[0] for r in rows(db_path, "SELECT email FROM lead")}
    assert emails == expected, f"{where}: {len(emails)} leads, expected {len(expected)}"
    (count,) = rows(db_path, "SELECT COUNT(*) FROM lead")[0]
    assert count == len(expected), where


def concurrent_rounds(
    tmp_path: Path, *, importers: int, rounds: int, new_db: Callable[[int], Path | str]
) -> None:
    """`rounds` times: `importers` imports of distinct files and a report loop, all at once."""
    files = [lead_csv(tmp_path / f"feira-{n}.csv", f"f{n}") for n in range(importers)]
    expected = {f"f{n}-{i}@exemplo.com.br" for n in range(importers) for i in range(ROWS)}
    for attempt in range(rounds):
        db = new_db(attempt)
        # the first round also races on creating the database; later ones start from a used one
        if attempt > 0:
            seed(db)
        outcome = run_together(db, files, tmp_path / f"signals-{attempt}")
        amount = "1000.00" if attempt > 0 else "0.00"
        check_round(db, outcome, expected, f"round {attempt}", amount=amount)
        for n, ran in enumerate(outcome.imports):
            summary = json.loads(ran.stdout)
            assert (summary["inserted"], summary["rejected"]) == (ROWS, 0), f"importer {n}"


def same_file_race(tmp_path: Path, db: Path | str) -> None:
    """4 processes import the same file at once: exactly one lead per e-mail."""
    shared = lead_csv(tmp_path / "same.csv", "same")
    seed(db)
    outcome = run_together(db, [shared] * 4, tmp_path / "signals")
    expected = {f"same-{i}@exemplo.com.br" for i in range(ROWS)}
    check_round(db, outcome, expected, "duplicate race")
    summaries = [json.loads(r.stdout) for r in outcome.imports]
    assert sum(s["inserted"] for s in summaries) == ROWS
    assert sum(s["skipped"] for s in summaries) == 3 * ROWS
    duplicates = rows(
        db, "SELECT email_key, COUNT(*) FROM lead GROUP BY email_key HAVING COUNT(*) > 1"
    )
    assert duplicates == []


def _files(tmp_path: Path) -> Callable[[int], Path | str]:
    return lambda attempt: tmp_path / f"round-{attempt}.db"


def test_four_imports_and_a_report_loop_at_once_lose_nothing(tmp_path: Path) -> None:
    concurrent_rounds(tmp_path, importers=4, rounds=3, new_db=_files(tmp_path))


@pytest.mark.slow
def test_eight_imports_and_a_report_loop_ten_times(tmp_path: Path) -> None:
    concurrent_rounds(tmp_path, importers=8, rounds=10, new_db=_files(tmp_path))


def test_the_harness_catches_a_naive_deferred_writer(tmp_path: Path) -> None:
    """Inverse check: the same harness does see "database is locked" from a deferred BEGIN."""
    db_path = tmp_path / "shared.db"
    seed(db_path)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE naive_probe (n INTEGER)")
    conn.commit()
    conn.close()
    files = [lead_csv(tmp_path / f"feira-{n}.csv", f"f{n}") for n in range(2)]
    outcome = run_together(db_path, files, tmp_path / "signals", naive=3)
    locked = [r for r in outcome.naive if "database is locked" in r.stderr]
    assert locked, f"no naive writer hit a lock: {[r.stderr for r in outcome.naive]}"
    assert all(r.code != 0 for r in locked)
    # ... while crmcli's own processes, in the very same run, still never did
    expected = {f"f{n}-{i}@exemplo.com.br" for n in range(2) for i in range(ROWS)}
    check_round(db_path, outcome, expected, "with naive writers")


def test_four_processes_importing_the_same_file_keep_one_lead_per_email(tmp_path: Path) -> None:
    same_file_race(tmp_path, tmp_path / "dup.db")


# -- the same scenarios on a PostgreSQL server (issue 7: the team backend) --------------------


@pytest.mark.postgres_only
def test_on_postgres_four_imports_and_a_report_loop_at_once_lose_nothing(
    tmp_path: Path, new_database_url: Callable[[], str]
) -> None:
    concurrent_rounds(tmp_path, importers=4, rounds=2, new_db=lambda _: new_database_url())


@pytest.mark.postgres_only
def test_on_postgres_four_processes_importing_the_same_file_keep_one_lead_per_email(
    tmp_path: Path, backend_url: str
) -> None:
    same_file_race(tmp_path, backend_url)
