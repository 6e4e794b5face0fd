"""Undo at scale (issue 13): `crm undo --yes` of a 100k-lead import against the import itself.

    .venv/bin/python benchmarks/undo.py [--rows 100000] [--repeat 3] [--case fresh --case update]
                                        [--postgres URL] [--src OTHER/src]

Contract: "Undoing an import of 100k leads takes no longer than the import did", so the
baseline of each case is the import, measured in the same round on the same database, and the
figure is the undo/import ratio of the medians (target <= 1.0). Every command is a whole
`python -m crmcli` process timed with `time.perf_counter` around `subprocess.run` (start-up
included); the database is made fresh for every round (`crm db init`, not timed). Rounds
interleave every backend, tree and case, so drift on the machine hits all of them.

Cases (the lead file is `gen_leads.py`'s, shared with `run.py` in `benchmarks/data/`):

* ``fresh``: A = `crm lead import FILE` into the empty database (one run of ~97k new ids),
  B = `crm undo --yes`. Afterwards no lead is left.
* ``update``: the same file cut to its first six columns (no amount, no date) is imported
  first (not timed), then A = `crm lead import FILE --on-duplicate update`, which fills the
  amount or date of ~92k leads one by one (one journaled update each), B = `crm undo --yes`.
  Afterwards no lead has an amount or a date again.

After every undo the result is checked (counts through the driver) and `crm db check` must
pass; a failed check stops the benchmark. `--postgres URL` (default: `CRM_TEST_POSTGRES_URL`
when set; `--postgres none` skips it) also runs every case on PostgreSQL, in a schema of its
own made for each round and dropped after it. `--src` times `python -m crmcli` from another
source tree too (PYTHONPATH=OTHER/src), e.g. the tree before a change, unpacked with
`git archive COMMIT src | tar -x -C /tmp/old`. Prints figures, never fails on them: exit 0.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE))

import run  # noqa: E402 - needs the path above

TARGET = 1.0
CASES = ("fresh", "update")
THIN_COLUMNS = 6
"""`Nome;E-mail;Telefone;Empresa;Cargo;Origem`: the file without `Orçamento;Prazo`."""

CHECKS = {
    "fresh": "SELECT COUNT(*) FROM lead",
    "update": "SELECT COUNT(*) FROM lead WHERE budget IS NOT NULL OR timeline IS NOT NULL",
}
"""After the undo, each must count 0."""


def thin_file(full: Path) -> Path:
    """`full` without its amount and date columns, (re)written when missing or stale."""
    path = full.with_name(f"{full.stem}-thin.csv")
    if not path.exists() or path.stat().st_mtime < full.stat().st_mtime:
        with (
            full.open(encoding="utf-8", newline="") as source,
            path.open("w", encoding="utf-8", newline="") as out,
        ):
            writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
            for cells in csv.reader(source, delimiter=";"):
                writer.writerow(cells[:THIN_COLUMNS])
    return path


def query(target: str, sql: str) -> int:
    """One integer from `target` (a SQLite file or a PostgreSQL URL)."""
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target) as conn:
            found = conn.execute(sql).fetchone()
    else:
        with sqlite3.connect(target) as conn:
            found = conn.execute(sql).fetchone()
    assert found is not None
    return int(found[0])


@contextmanager
def fresh_target(backend: str, scratch: Path, name: str, server: str | None) -> Iterator[str]:
    """A place for a fresh database: a new file, or a new schema on the server (dropped)."""
    if backend == "sqlite":
        path = scratch / f"{name}.db"
        try:
            yield str(path)
        finally:
            for leftover in scratch.glob(f"{name}.db*"):
                leftover.unlink()
        return
    import psycopg

    assert server is not None
    schema = f"bench_undo_{os.getpid()}_{name}".replace("-", "_")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in server else "?"
    try:
        yield f"{server}{sep}options={quote(f'-csearch_path={schema}', safe='')}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def crm(target: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "crmcli", "--db", target, *args]


def tree_env(src: str | None) -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "CRM_NO_HOOKS": "1"}
    if src is not None:
        env["PYTHONPATH"] = src
    return env


def timed(argv: Sequence[str], env: dict[str, str], ok: Sequence[int] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise SystemExit(f"{' '.join(argv[3:])} exited {done.returncode}: {' | '.join(tail)}")
    return elapsed


def one_round(
    backend: str, src: str | None, case: str, files: dict[str, Path], target: str
) -> tuple[float, float]:
    """Import then undo on a fresh database; (import s, undo s), the result checked."""
    env = tree_env(src)
    subprocess.run(crm(target, "db", "init"), capture_output=True, check=True, env=env)
    # Exit 3 is expected: the file has ~1% bad rows, reported and skipped.
    if case == "update":
        timed(crm(target, "lead", "import", str(files["thin"])), env, (0, 3))
        extra = ["--on-duplicate", "update"]
    else:
        extra = []
    imported = timed(crm(target, "lead", "import", str(files["full"]), *extra), env, (0, 3))
    undone = timed(crm(target, "undo", "--yes"), env)
    left = query(target, CHECKS[case])
    if left:
        raise SystemExit(f"{backend} {case}: {left} rows still as imported after the undo")
    checked = subprocess.run(crm(target, "db", "check"), capture_output=True, env=env)
    if checked.returncode != 0:
        raise SystemExit(f"{backend} {case}: crm db check failed: {checked.stdout.decode()}")
    return imported, undone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the file (100000)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (3)")
    parser.add_argument("--case", action="append", choices=CASES, help="fresh, update (both)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CRM_TEST_POSTGRES_URL"),
        help="a PostgreSQL server URL to run on too ('none': SQLite only)",
    )
    parser.add_argument("--src", type=Path, action="append", default=[], help="another src/")
    args = parser.parse_args(argv)
    cases = args.case or list(CASES)
    repeat = max(1, args.repeat)
    backends = ["sqlite"]
    server = None if args.postgres in (None, "", "none") else str(args.postgres)
    if server is not None:
        backends.append("postgresql")
    trees: dict[str, str | None] = {"this tree": None}
    trees.update({str(src): str(src.resolve()) for src in args.src})

    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s); "
        f"backends: {', '.join(backends)}; {args.rows:,} rows, {repeat} rounds"
    )
    DATA.mkdir(parents=True, exist_ok=True)
    full = run.data_file(args.rows)
    files = {"full": full, "thin": thin_file(full)}
    times: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-undo-", dir=DATA) as tmp:
        scratch = Path(tmp)
        for round_ in range(repeat):
            for backend in backends:
                for tree, src in trees.items():
                    for case in cases:
                        name = f"r{round_}-{case}"
                        with fresh_target(backend, scratch, name, server) as target:
                            pair = one_round(backend, src, case, files, target)
                        times.setdefault((backend, tree, case), []).append(pair)
                        print(
                            f"  round {round_ + 1}/{repeat} {backend:<10} {tree} {case:<6}"
                            f" import {pair[0]:7.2f} s  undo {pair[1]:7.2f} s",
                            flush=True,
                        )

    print(f"\nResults (medians of {repeat}; whole processes, start-up included)\n")
    width = max(len(tree) for tree in trees) + 2
    print(
        f"{'backend':<11}{'tree':<{width}}{'case':<8}{'import (A)':>11}{'undo (B)':>11}"
        f"{'B/A':>8}{'target':>9}  verdict"
    )
    for (backend, tree, case), pairs in times.items():
        a = statistics.median(p[0] for p in pairs)
        b = statistics.median(p[1] for p in pairs)
        verdict = "ok" if b / a <= TARGET else "OVER"
        print(
            f"{backend:<11}{tree:<{width}}{case:<8}{a:>9.2f} s{b:>9.2f} s{b / a:>7.2f}x"
            f"{'<= 1.0x':>9}  {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
