"""`crm duplicates` on 100k leads (issue 13): target at most 2 s for `--entity lead --json`.

    .venv/bin/python benchmarks/duplicates.py [--leads 100000] [--repeat 5] [--postgres URL]

The leads are `gen_leads.py`'s trade-show rows (whose random names and companies already repeat
now and then), plus one planted duplicate every `--every` rows: the same person again with
another e-mail, the name in capitals without accents, the company with another legal suffix
and the phone written another way. They are imported with `crm lead import` into a fresh
database (timed for reference: the import computes the new keys), then the migration back-fill
is timed on a copy whose keys were cleared, then `crm duplicates --entity lead --json` is run
`--repeat` times (whole processes, medians, after `compileall`). Prints figures, exits 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_leads  # noqa: E402 - needs the path above
import run  # noqa: E402
from speed import compile_crmcli, timed  # noqa: E402

TARGET = 2.0
"""Seconds `crm duplicates --entity lead --json` may take on 100k leads."""

SUFFIXES = ["Ltda", "S.A.", "S/A", "ME", "EIRELI", "Inc.", "LLC", ""]


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _other_phone(phone: str) -> str:
    """The same number written another way."""
    digits = "".join(c for c in phone if c.isdigit())
    national = digits[2:] if phone.startswith("+55") else digits
    return f"0{national[:2]} {national[2:-4]}-{national[-4:]}"


def _other_company(company: str) -> str:
    words = company.split()
    tail = SUFFIXES[len(company) % len(SUFFIXES)]
    return " ".join([*words[:1], tail]).upper().strip()


def lead_rows(n: int, every: int) -> Iterator[list[str]]:
    """`n` generated rows, and after every `every`-th a planted duplicate of it."""
    for i, row in enumerate(gen_leads.rows(n), start=1):
        yield row
        if i % every == 0 and row[2]:
            name, email, phone, company, *rest = row
            yield [
                _plain(name).upper(),
                f"again{i}.{email.strip()}",
                _other_phone(phone),
                _other_company(company) if company else "",
                *rest,
            ]


def build(db: Path, leads: int, every: int) -> tuple[int, float]:
    """Import the leads into a fresh database at `db`; (rows written, import seconds)."""
    crm = run.crm_command()
    source = db.with_suffix(".csv")
    with source.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(gen_leads.HEADER)
        count = 0
        for row in lead_rows(leads, every):
            writer.writerow(row)
            count += 1
    subprocess.run([*crm, "--db", str(db), "db", "init"], capture_output=True, check=True)
    start = time.perf_counter()
    subprocess.run([*crm, "--db", str(db), "lead", "import", str(source)], capture_output=True)
    return count, time.perf_counter() - start


def backfill_seconds(db: Path) -> float:
    """Seconds of migration 0006 on a copy of `db` brought back to the schema before it."""
    from crmcli.store.migrations import MIGRATIONS
    from crmcli.store.sql import SqliteConn

    copy = db.with_name("backfill.db")
    shutil.copyfile(db, copy)
    raw = sqlite3.connect(copy, isolation_level=None)
    try:
        for table in ("lead", "contact", "account"):
            for column in ("phone_key", "match_key"):
                raw.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}")
                raw.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        migration = next(m for m in MIGRATIONS if m.name == "0006_duplicate_keys")
        conn = SqliteConn(raw)
        raw.execute("BEGIN IMMEDIATE")
        start = time.perf_counter()
        migration.apply(conn)
        conn.commit()
        return time.perf_counter() - start
    finally:
        raw.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=100, help="plant a duplicate every N rows")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", metavar="URL", help="also time on this (empty) server")
    args = parser.parse_args(argv)

    print(f"compiled {compile_crmcli()} stale modules")
    crm = run.crm_command()
    with tempfile.TemporaryDirectory(prefix="crm-dups-") as folder:
        db = Path(folder) / "crm.db"
        count, imported = build(db, args.leads, args.every)
        print(f"imported {count:,} rows in {imported:.2f} s (crm lead import, for reference)")
        print(f"migration 0006 back-fill of those leads: {backfill_seconds(db):.2f} s")
        command = [*crm, "--db", str(db), "duplicates", "--entity", "lead", "--json"]
        done = subprocess.run(command, capture_output=True, check=True)
        groups = json.loads(done.stdout)
        by_reason: dict[str, int] = {}
        for group in groups:
            by_reason[group["reason"]] = by_reason.get(group["reason"], 0) + 1
        print(f"{len(groups):,} groups: {by_reason}")
        floor = statistics.median(timed([*crm, "--version"]) for _ in range(args.repeat))
        seconds = [timed(command) for _ in range(args.repeat)]
        median = statistics.median(seconds)
        verdict = "ok" if median <= TARGET else "OVER"
        print(
            f"crm duplicates --entity lead --json: median {median:.3f} s of {args.repeat}"
            f" (min {min(seconds):.3f}, max {max(seconds):.3f}); crm --version {floor:.3f} s;"
            f" target {TARGET:.1f} s: {verdict}"
        )
        if args.postgres:
            subprocess.run(
                [*crm, "--db", str(db), "db", "copy", "--to", args.postgres],
                capture_output=True,
                check=True,
            )
            pg = [*crm, "--db", args.postgres, "duplicates", "--entity", "lead", "--json"]
            pg_seconds = statistics.median(timed(pg) for _ in range(args.repeat))
            print(f"on PostgreSQL: median {pg_seconds:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
