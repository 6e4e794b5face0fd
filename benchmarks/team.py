"""SQLite file vs PostgreSQL server: the same `crm` commands, timed on both backends.

    .venv/bin/python benchmarks/team.py --server postgresql://postgres@127.0.0.1:5432/test

    .venv/bin/python benchmarks/team.py --skip-import --skip-reports --src /tmp/old/src

1. `crm lead import` of the 100k-row trade-show file (`gen_leads.py`) into a new, empty
   database: a file, and a fresh schema on the server.
2. The reports database of `reports.py` (`--deals` deals with their history, leads and
   activities) moved onto the server with `crm db copy`, then every report command timed on
   both, and their JSON compared: the two backends must print identical documents.
3. The everyday commands of `everyday.py` (reads and writes) on its 10k-lead, 10k-deal
   database, copied to the server: each round runs a command on the file and on the server
   (alternating which goes first), each round's writes on records of their own; medians and
   the ratio PG/SQLite are printed (target <= 2x), and whether both printed the same.

`--src` runs crm from another source tree (for "before" figures). Each PostgreSQL run uses a
schema of its own (`?options=-csearch_path%3D…`), dropped at the end. Prints figures, never
fails on them: the exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import everyday  # noqa: E402  (benchmarks/everyday.py: the everyday commands)
import reports  # noqa: E402  (benchmarks/reports.py: the reports database and crm_command)
import speed  # noqa: E402  (benchmarks/speed.py: the everyday database)

LEADS_FILE = HERE / "data" / "leads-100000-seed20240611.csv"
NOW = "2026-11-25T09:00:00"  # pinned, so both backends report the same day
REPORTS: tuple[tuple[str, ...], ...] = (
    *reports.COMMANDS,
    ("report", "stale", "--limit", "50", "--json"),
    ("opp", "list", "--account", "1", "--json"),
)
"""The report commands timed on both backends (issue 16's target 1 and the pipeline)."""
SRC: Path | None = None
"""The source tree crm runs from (`--src`); None: this environment's crm."""


def crm_command() -> list[str]:
    """How to run crm: this environment's, or `python -m crmcli` from `--src`."""
    return [sys.executable, "-m", "crmcli"] if SRC is not None else reports.crm_command()


@contextmanager
def server_schemas(server: str) -> Iterator[list[str]]:
    """Schemas created on the server during the run; all dropped at the end."""
    import psycopg

    made: list[str] = []
    try:
        yield made
    finally:
        if made:
            with psycopg.connect(server, autocommit=True) as conn:
                for name in made:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def new_schema(server: str, made: list[str]) -> str:
    """A URL whose connections use a new, empty schema on `server`."""
    import psycopg

    name = f"crm_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    made.append(name)
    sep = "&" if "?" in server else "?"
    return f"{server}{sep}options=-csearch_path%3D{name}"


def run(
    argv: Sequence[str], now: str | None = NOW
) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {**os.environ, "NO_COLOR": "1"}
    if now is not None:
        env["CRM_NOW"] = now
    if SRC is not None:
        env["PYTHONPATH"] = str(SRC)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 3):
        print(f"  warning: {' '.join(argv[-3:])} exited {done.returncode}: {done.stderr[-300:]}")
    return elapsed, done


def bench_import(server: str, made: list[str], repeat: int, folder: Path) -> None:
    if not LEADS_FILE.exists():
        subprocess.run(
            [sys.executable, str(HERE / "gen_leads.py"), "100000", str(LEADS_FILE)], check=True
        )
    crm = crm_command()
    print(f"\n## crm lead import of {LEADS_FILE.name} into an empty database")
    for label in ("sqlite", "postgresql"):
        times = []
        summary = ""
        for i in range(repeat):
            target = (
                str(folder / f"import-{i}.db") if label == "sqlite" else new_schema(server, made)
            )
            run([*crm, "--db", target, "db", "init"], now=None)  # `--src`'s crm makes it too
            seconds, done = run([*crm, "--db", target, "lead", "import", str(LEADS_FILE), "--json"])
            times.append(seconds)
            got = json.loads(done.stdout)
            summary = ", ".join(
                f"{k} {got[k]}" for k in ("read", "inserted", "skipped", "rejected")
            )
        shown = ", ".join(f"{t:.1f}" for t in times)
        print(f"{label:<11} median {statistics.median(times):6.1f} s  (runs: {shown})  {summary}")


def bench_reports(server: str, made: list[str], deals: int, repeat: int, folder: Path) -> None:
    crm = crm_command()
    source = reports.database(deals, rebuild=False)
    if SRC is not None:  # a copy that `--src`'s crm can open
        shutil.copyfile(source, folder / source.name)
        source = folder / source.name
        forget_unknown_migrations(source)
    target = new_schema(server, made)
    seconds, done = run([*crm, "--db", str(source), "db", "copy", "--to", target, "--json"])
    copied = json.loads(done.stdout)["copied"]
    print(f"\n## crm db copy of {source.name} to the server: {seconds:.1f} s")
    print("   " + ", ".join(f"{v:,} {k}" for k, v in copied.items()))
    print("\n## pipeline report in-process (query and rendering data, no start-up), best of 5")
    from crmcli.services.reports import pipeline_report
    from crmcli.store.db import Database

    for label, url in (("sqlite", str(source)), ("postgresql", target)):
        db = Database(url)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            pipeline_report(db)
            best = min(best, time.perf_counter() - start)
        db.dispose()
        print(f"{label:<11} {best * 1000:7.1f} ms")
    print(f"\n## report commands, median of {repeat} (seconds; same = identical JSON)")
    print(f"{'command':<42} {'sqlite':>8} {'postgresql':>11} {'ratio':>6}  same")
    for command in REPORTS:
        timings: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
        outputs: dict[str, str] = {}
        for i in range(repeat):
            pair = [("sqlite", str(source)), ("postgresql", target)]
            for label, db in pair if i % 2 == 0 else pair[::-1]:
                seconds, done = run([*crm, "--db", db, *command])
                timings[label].append(seconds)
                outputs[label] = done.stdout
        same = "yes" if outputs["sqlite"] == outputs["postgresql"] else "NO"
        lite, server = (statistics.median(timings[k]) for k in ("sqlite", "postgresql"))
        print(
            f"crm {' '.join(command):<38} {lite:8.2f} {server:11.2f} {server / lite:5.2f}x  {same}"
        )


def forget_unknown_migrations(db: Path) -> None:
    """Let `--src`'s older crm open a database built by this tree: the migrations it does not
    know are forgotten (their tables, columns and triggers stay, unused by that crm)."""
    import sqlite3

    probe = "from crmcli.store.migrations import known_names; print(*known_names())"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    known = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    con = sqlite3.connect(db)
    try:
        marks = ", ".join("?" for _name in known)
        con.execute(f"DELETE FROM crm_migrations WHERE name NOT IN ({marks})", known)
        con.commit()
    finally:
        con.close()


def bench_everyday(server: str, made: list[str], repeat: int, folder: Path) -> None:
    crm = crm_command()
    work = folder / "everyday.db"
    shutil.copyfile(speed.deals_database(10_000, 10_000, 10_000), work)
    ids = everyday.prepare(work, None, repeat)
    if SRC is not None:
        forget_unknown_migrations(work)
    target = new_schema(server, made)
    run([*crm, "--db", str(work), "db", "copy", "--to", target], now=None)
    print(f"\n## everyday commands, median of {repeat} (seconds; same = identical output)")
    print(f"{'command':<50} {'sqlite':>7} {'postgresql':>10} {'ratio':>6}  same")
    for template in everyday.COMMANDS:
        timings: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
        same = True
        for i in range(1, repeat + 1):
            words = template.format(i=i, q=ids["q"][i - 1], c=ids["c"][i - 1], w=ids["w"][i - 1])
            outputs: dict[str, str] = {}
            pair = [("sqlite", str(work)), ("postgresql", target)]
            for label, db in pair if i % 2 else pair[::-1]:
                seconds, done = run([*crm, "--db", db, *words.split()])
                timings[label].append(seconds)
                outputs[label] = done.stdout
            same = same and outputs["sqlite"] == outputs["postgresql"]
        lite, server = (statistics.median(timings[k]) for k in ("sqlite", "postgresql"))
        shown = "yes" if same else "NO"
        print(f"crm {template:<46} {lite:7.3f} {server:10.3f} {server / lite:5.2f}x  {shown}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server",
        default=os.environ.get("CRM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test"),
        help="a PostgreSQL database to make throw-away schemas in",
    )
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-reports", action="store_true")
    parser.add_argument("--skip-everyday", action="store_true")
    parser.add_argument("--src", type=Path, help="run crm from this source tree")
    args = parser.parse_args(argv)
    global SRC
    SRC = args.src.resolve() if args.src is not None else None
    if SRC is not None:  # the in-process figures and the .pyc files are that tree's too
        sys.path.insert(0, str(SRC))
    speed.compile_crmcli()
    print(f"crm from {SRC or 'this environment'}")
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    with server_schemas(args.server) as made, tempfile.TemporaryDirectory() as tmp:
        if not args.skip_import:
            bench_import(args.server, made, args.repeat, Path(tmp))
        if not args.skip_reports:
            bench_reports(args.server, made, args.deals, args.repeat, Path(tmp))
        if not args.skip_everyday:
            bench_everyday(args.server, made, args.repeat, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
