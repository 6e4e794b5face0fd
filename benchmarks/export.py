"""`crm export --format json` against a baseline that reads the same tables with the stdlib
`sqlite3` and writes them with one `json.dumps` (the C encoder). Issue 16's target: at most 3x.

    .venv/bin/python benchmarks/export.py [--repeat 7]

On the 10k database of `benchmarks/everyday.py` (10k leads, 10k deals with their history,
10k activities); both write to /dev/null; medians of interleaved rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402 - needs the path above
import speed  # noqa: E402

BASELINE = textwrap.dedent(
    """
    import json, sqlite3, sys
    con = sqlite3.connect(sys.argv[1])
    doc = {}
    for table in ("stage", "account", "contact", "lead", "opportunity", "opportunity_history",
                  "activity"):
        cur = con.execute(f"SELECT * FROM {table} ORDER BY id")
        names = [d[0] for d in cur.description]
        doc[table] = [dict(zip(names, row)) for row in cur]
    sys.stdout.write(json.dumps(doc, ensure_ascii=False))
    """
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    db = speed.deals_database(10_000, 10_000, 10_000)
    speed.compile_crmcli()
    cases = {
        "baseline": [sys.executable, "-c", BASELINE, str(db)],
        "crm export": [*run.crm_command(), "--db", str(db), "export", "--format", "json"],
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    for argv in cases.values():
        speed.timed(argv)
    for _ in range(max(1, args.repeat)):
        for label, argv in cases.items():
            times[label].append(speed.timed(argv))
    base = statistics.median(times["baseline"])
    crm = statistics.median(times["crm export"])
    print(f"baseline (sqlite3 + json.dumps) {base:.3f} s")
    print(f"crm export --format json        {crm:.3f} s  {crm / base:.2f}x (target <= 3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
