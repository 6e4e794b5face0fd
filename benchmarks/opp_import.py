"""Per-row time of `crm opp import` against `crm lead import` (issue 12: at most 2x).

    .venv/bin/python benchmarks/opp_import.py [--rows 10000] [--repeat 3] [--src OTHER/src]

Each round imports a `gen_leads.py` file and a `gen_deals.py` file of `--rows` rows, each into
a fresh database (`crm db init`, not timed), and the same files cut to their header line (the
fixed cost: start-up, opening the database, the summary). Commands alternate within a round;
medians are reported as ms/row, both as measured (whole process / rows) and net of the fixed
cost ((t - t_header_only) / rows), with the opp/lead ratio of the net figures. `--src` times
`python -m crmcli` from another source tree (PYTHONPATH=OTHER/src), e.g. an older commit
unpacked with `git archive COMMIT src | tar -x -C /tmp/old`, alternating with this one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 3):  # 3: the files hold a few bad rows on purpose
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--src", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    trees: dict[str, str | None] = {"this tree": None}
    trees.update({str(src): str(src.resolve()) for src in args.src})
    times: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        files: dict[str, dict[str, Path]] = {}
        for kind, script in (("lead", "gen_leads.py"), ("opp", "gen_deals.py")):
            full = scratch / f"{kind}.csv"
            subprocess.run(
                [sys.executable, str(HERE / script), str(args.rows), str(full)], check=True
            )
            empty = scratch / f"{kind}-header.csv"
            with full.open(encoding="utf-8", newline="") as handle:
                empty.write_text(handle.readline(), encoding="utf-8")
            files[kind] = {"full": full, "empty": empty}
        for round_ in range(args.repeat):
            for tree, src in trees.items():
                env = dict(os.environ)
                if src is not None:
                    env["PYTHONPATH"] = src
                for kind in ("lead", "opp"):
                    for size in ("full", "empty"):
                        db = scratch / "bench.db"
                        db.unlink(missing_ok=True)
                        crm = [sys.executable, "-m", "crmcli", "--db", str(db)]
                        subprocess.run(
                            [*crm, "db", "init"], capture_output=True, check=True, env=env
                        )
                        t = timed([*crm, kind, "import", str(files[kind][size])], env)
                        times.setdefault((tree, kind, size), []).append(t)
            print(f"round {round_ + 1}/{args.repeat} done", flush=True)
    print(f"\n{args.rows:,} rows, medians of {args.repeat}; ms/row as measured | net of fixed cost")
    for tree in trees:
        per_row: dict[str, float] = {}
        for kind in ("lead", "opp"):
            full = statistics.median(times[(tree, kind, "full")])
            empty = statistics.median(times[(tree, kind, "empty")])
            per_row[kind] = (full - empty) / args.rows * 1000
            print(
                f"{tree:<24} {kind} import {full:7.2f} s  {full / args.rows * 1000:6.3f} ms/row"
                f" | fixed {empty:5.2f} s  {per_row[kind]:6.3f} ms/row"
            )
        print(f"{tree:<24} opp/lead per row (net): {per_row['opp'] / per_row['lead']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
