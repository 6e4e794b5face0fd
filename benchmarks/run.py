"""Benchmark ``crm lead import`` against raw ``sqlite3.executemany``, side by side.

    .venv/bin/python benchmarks/run.py [--rows 100000] [--repeat 3] [--big] [--big-rows 1000000]

Every case is a whole process timed with `time.perf_counter` around `subprocess.run`; the
baseline and the measured command alternate (A/B/A/B...) so that drift on the machine hits
both, and the medians are reported. Prints figures, never fails on them: the exit status is 0.

Cases:

* ``import-100k``: A = a fresh Python reading the CSV with the csv module and inserting the
  rows, as they are split, into a plain SQLite table of the same columns with one executemany
  in one transaction; B = ``crm --db FRESH.db lead import FILE`` on a database created
  beforehand (``crm db init --currency BRL``: the file's amounts are reais; not timed).
  Ratio B/A, target <= 3.0.
  C (for reference, after each B) = the floor of crm's schema: the rows B stored, read back
  from its database and inserted with one raw executemany a batch into a fresh crm database's
  lead table (its unique e-mail index and five key indexes, crm's pragmas); C/A is printed.
* ``startup``: ``python -c pass`` and ``crm --help``, for reference.
* ``memory-1m`` (``--big``): the peak RSS of one ``crm lead import`` of a 1M-row file, read with
  ``getrusage(RUSAGE_CHILDREN)`` in a wrapper process that runs only that child; target
  <= 80 MiB (issue 16; 150 MiB before). The baseline's peak RSS is shown for reference.

Data files are written to ``benchmarks/data/`` (git-ignored) by `gen_leads` and reused.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE))

import gen_leads  # noqa: E402 - needs the path above

RATIO_TARGET = 3.0
RSS_TARGET_MIB = 80.0  # issue 16, target 3 (was 150 for the lead-import issue)

BASELINE = r"""
import csv, sqlite3, sys
path, db = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
con.execute(
    "CREATE TABLE lead (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT,"
    " company TEXT, title TEXT, source TEXT, budget TEXT, timeline TEXT)"
)
with open(path, encoding="utf-8", newline="") as f:
    rows = csv.reader(f, delimiter=";")
    next(rows)
    with con:
        con.executemany(
            "INSERT INTO lead (name, email, phone, company, title, source, budget, timeline)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
con.close()
"""
"""Raw stdlib: csv split, one executemany, one transaction (the table is created in it too)."""

FLOOR = r"""
import sqlite3, sys
source, db = sys.argv[1], sys.argv[2]
src = sqlite3.connect(source)
columns = [r[1] for r in src.execute("PRAGMA table_info(lead)") if r[1] != "id"]
rows = src.execute(f"SELECT {', '.join(columns)} FROM lead ORDER BY id").fetchall()
src.close()
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA journal_mode = WAL")
con.execute("PRAGMA synchronous = NORMAL")
con.execute("PRAGMA foreign_keys = ON")
sql = f"INSERT INTO lead ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
con.execute("BEGIN IMMEDIATE")
for start in range(0, len(rows), 2000):
    con.executemany(sql, rows[start : start + 2000])
con.execute("COMMIT")
con.close()
"""
"""The schema's floor: the rows `crm lead import` stored (read back from its database, keys
and storage forms included) inserted with raw executemany, as the import batches them, into
crm's own lead table (its unique e-mail index and five key indexes) with crm's pragmas. No
parsing, validation or dedupe: what an import costs before any of its Python."""

MAXRSS = r"""
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(peak * (1 if sys.platform == "darwin" else 1024), done.returncode)
"""
"""Run one child and print its peak RSS in bytes (ru_maxrss is KiB on Linux, bytes on macOS)."""


def crm_command() -> list[str]:
    """The ``crm`` of this interpreter's environment (the venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("crm")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("crm")
    if found:
        return [found]
    return [sys.executable, "-m", "crmcli"]


def data_file(rows: int) -> Path:
    """The generated lead file with `rows` rows, (re)written when missing or stale."""
    path = DATA / f"leads-{rows}-seed{gen_leads.SEED}.csv"
    source = Path(gen_leads.__file__)
    if not path.exists() or path.stat().st_mtime < source.stat().st_mtime:
        print(f"generating {path.relative_to(HERE.parent)} ...", flush=True)
        start = time.perf_counter()
        gen_leads.write(rows, path)
        print(f"  done in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def timed(argv: Sequence[str], ok: Sequence[int] = (0,)) -> float:
    """Seconds taken by one run of `argv` (stdout and stderr captured, not shown)."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        print(f"  warning: {argv[0]} ... exited {done.returncode}: {' | '.join(tail)}")
    return elapsed


def count_leads(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM lead").fetchone()[0])
    finally:
        con.close()


def size(n: int) -> str:
    """``100000`` -> ``100k``, ``1000000`` -> ``1m``."""
    if n and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def case_import(rows: int, repeat: int, scratch: Path) -> dict[str, float]:
    """Alternate the raw-sqlite3 baseline (A) and ``crm lead import`` (B); return medians."""
    csv_path = data_file(rows)
    crm = crm_command()
    a_times: list[float] = []
    b_times: list[float] = []
    c_times: list[float] = []
    counts: tuple[int, int, int] = (0, 0, 0)
    for i in range(repeat):
        a_db = scratch / f"baseline-{i}.db"
        a_times.append(timed([sys.executable, "-c", BASELINE, str(csv_path), str(a_db)]))
        b_db, c_db = scratch / f"crm-{i}.db", scratch / f"floor-{i}.db"
        for db in (b_db, c_db):
            subprocess.run(
                [*crm, "--db", str(db), "db", "init", "--currency", "BRL"],
                capture_output=True,
                check=True,
            )
        # Exit 3 is expected: the file has ~1% bad rows, reported and skipped.
        b_times.append(timed([*crm, "--db", str(b_db), "lead", "import", str(csv_path)], (0, 3)))
        c_times.append(timed([sys.executable, "-c", FLOOR, str(b_db), str(c_db)]))
        counts = (count_leads(a_db), count_leads(b_db), count_leads(c_db))
        print(
            f"  run {i + 1}/{repeat}: A {a_times[-1]:.3f} s   B {b_times[-1]:.3f} s"
            f"   C {c_times[-1]:.3f} s",
            flush=True,
        )
        for db in (a_db, b_db, c_db):
            db.unlink()
    a, b, c = (statistics.median(t) for t in (a_times, b_times, c_times))
    print(
        f"  rows in the table: A {counts[0]:,} (all, unchecked)   B {counts[1]:,} (valid, unique)"
        f"   C {counts[2]:,} (B's rows again)"
    )
    return {"a": a, "b": b, "ratio": b / a, "rows": rows, "c": c}


def case_startup(repeat: int) -> dict[str, float]:
    """``python -c pass`` and ``crm --help``, alternated; return medians."""
    py: list[float] = []
    helps: list[float] = []
    for _ in range(repeat):
        py.append(timed([sys.executable, "-c", "pass"]))
        helps.append(timed([*crm_command(), "--help"]))
    return {"python": statistics.median(py), "crm_help": statistics.median(helps)}


def peak_rss(argv: Sequence[str]) -> tuple[float, int, float]:
    """Peak RSS (MiB), exit status and seconds of one run of `argv`, alone in a wrapper."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MAXRSS, *argv], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - start
    peak, status = done.stdout.split()
    return int(peak) / 2**20, int(status), elapsed


def case_memory(rows: int, scratch: Path) -> dict[str, float]:
    """Peak RSS of one ``crm lead import`` of `rows` rows, and of the baseline for reference."""
    csv_path = data_file(rows)
    crm = crm_command()
    a_db, b_db = scratch / "big-baseline.db", scratch / "big-crm.db"
    a_mib, _, a_s = peak_rss([sys.executable, "-c", BASELINE, str(csv_path), str(a_db)])
    print(f"  baseline: {a_mib:.1f} MiB peak, {a_s:.1f} s", flush=True)
    subprocess.run(
        [*crm, "--db", str(b_db), "db", "init", "--currency", "BRL"],
        capture_output=True,
        check=True,
    )
    b_mib, status, b_s = peak_rss([*crm, "--db", str(b_db), "lead", "import", str(csv_path)])
    print(f"  crm lead import: {b_mib:.1f} MiB peak, {b_s:.1f} s, exit {status}", flush=True)
    print(f"  rows in the crm table: {count_leads(b_db):,}")
    return {"a_mib": a_mib, "b_mib": b_mib, "a_s": a_s, "b_s": b_s, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows for import (100000)")
    parser.add_argument("--repeat", type=int, default=3, help="A/B repetitions (3)")
    parser.add_argument("--big", action="store_true", help="also measure peak RSS on --big-rows")
    parser.add_argument("--big-rows", type=int, default=1_000_000, help="rows for --big (1M)")
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat)

    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s); "
        f"crm = {' '.join(crm_command())}"
    )
    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=DATA) as tmp:
        scratch = Path(tmp)
        print(f"\n[import-{size(args.rows)}] A = raw sqlite3 executemany, B = crm lead import")
        imp = case_import(args.rows, repeat, scratch)
        print("\n[startup]")
        start = case_startup(repeat)
        mem = None
        if args.big:
            print(f"\n[memory-{size(args.big_rows)}] one run each")
            mem = case_memory(args.big_rows, scratch)

    rate = imp["rows"] / imp["b"]
    print(f"\nResults (medians of {repeat}; whole processes, start-up included)\n")
    print(f"{'case':<22}{'A (baseline)':>14}{'B (crm)':>12}{'B/A':>9}{'target':>12}  verdict")
    verdict = "ok" if imp["ratio"] <= RATIO_TARGET else "OVER"
    print(
        f"{'import-' + size(args.rows):<22}{imp['a']:>12.3f} s{imp['b']:>10.3f} s"
        f"{imp['ratio']:>8.1f}x{'<= 3.0x':>12}  {verdict}  ({rate:,.0f} rows/s)"
    )
    print(
        f"{'  floor: crm schema':<22}{imp['a']:>12.3f} s{imp['c']:>10.3f} s"
        f"{imp['c'] / imp['a']:>8.1f}x{'-':>12}  (C = B's stored rows, raw executemany into"
        " crm's lead table)"
    )
    print(
        f"{'start-up':<22}{start['python']:>12.3f} s{start['crm_help']:>10.3f} s"
        f"{start['crm_help'] / start['python']:>8.1f}x{'-':>12}  "
        "(A = python -c pass, B = crm --help)"
    )
    if mem is not None:
        verdict = "ok" if mem["b_mib"] <= RSS_TARGET_MIB else "OVER"
        label = f"memory-{size(int(mem['rows']))} peak RSS"
        target = f"<= {RSS_TARGET_MIB:.0f} MiB"
        print(
            f"{label:<22}{mem['a_mib']:>10.1f} MiB{mem['b_mib']:>8.1f} MiB"
            f"{mem['b_mib'] / mem['a_mib']:>8.1f}x{target:>12}  {verdict}"
            f"  (times: A {mem['a_s']:.1f} s, B {mem['b_s']:.1f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
