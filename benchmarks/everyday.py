"""The everyday commands against a bare Typer app's `--help` (issue 12's speed budget).

    .venv/bin/python benchmarks/everyday.py [--repeat 7] [--src OTHER/src] [--only TEXT]
    CRM_LANG=pt_BR .venv/bin/python benchmarks/everyday.py   # with the Portuguese catalog

Shell completion requests are measured too (`<TAB> …`: crm called back as bash does).

On a database of 10k leads and 10k deals (built once by `speed.deals_database`), each command
and the bare app's `--help` (crm's own command tree, empty bodies: `speed.bare_app`) alternate
for `--repeat` rounds; medians and the ratio are printed (target <= 1.5x). Writes run on a
copy of the database, each round on a record of its own (`{i}` is the round), so every run
does the same work. `--src` runs crm from another source tree instead (for "before" figures):
the database is then given that tree's schema (the journal's migration dropped).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import speed  # noqa: E402 - needs the path above

COMMANDS = [
    "opp show {i}",
    "opp advance {w} --to Negotiation",
    "lead add Bench{i} -q",
    "lead show {i}",
    "lead edit {i} --phone 5555{i}",
    "lead qualify {q} --budget 10 --timeline 2027-12-31",
    "lead convert {c} --account Bench",
    "lead list --limit 50",
    "activity add Ligar{i} --type call --opp {i}",
    "activity list --for opp {i}",
    "agenda",
    "account show {i}",
    "contact show {i}",
    "opp list --account {i}",
    "opp win {w}",
    "stage list",
    "pipeline report",
    "history --limit 20",
    "search maria",
    "search lead{i}",
    "activity log Falou{i} --type call --opp {i}",
    "lead list --tag feira --limit 50",
    "opp list --min-amount 1000 --sort amount --reverse --limit 20",
]

COMPLETIONS = {
    "<TAB> crm le": ("crm le", "1"),
    "<TAB> crm lead list --s": ("crm lead list --s", "3"),
    "<TAB> crm opp advance 1 --to N": ("crm opp advance 1 --to N", "5"),
}
"""Shell completion requests (bash's protocol): the name shown, then COMP_WORDS, COMP_CWORD."""


def prepare(db: Path, src: Path | None, repeat: int) -> dict[str, list[int]]:
    """Leads to qualify and convert, deals to win (one per round), and the older schema."""
    con = sqlite3.connect(db)
    try:
        ids: dict[str, list[int]] = {}
        ids["q"] = [
            r[0]
            for r in con.execute(
                "SELECT id FROM lead WHERE status IN ('new', 'contacted') ORDER BY id LIMIT ?",
                (repeat * 2 + 2,),
            )
        ][repeat + 1 :]
        con.execute(
            "UPDATE lead SET status = 'qualified', budget = 1000, timeline = '2027-12-31'"
            " WHERE id IN (SELECT id FROM lead WHERE status IN ('new', 'contacted')"
            " ORDER BY id LIMIT ?)",
            (repeat + 1,),
        )
        ids["c"] = [
            r[0]
            for r in con.execute(
                "SELECT id FROM lead WHERE status = 'qualified' AND budget = 1000 ORDER BY id LIMIT ?",
                (repeat + 1,),
            )
        ]
        ids["w"] = [
            r[0]
            for r in con.execute(
                "SELECT id FROM opportunity WHERE status = 'open' ORDER BY id DESC LIMIT ?",
                (repeat + 1,),
            )
        ]
        con.execute(  # so that each round's `opp advance --to Negotiation` is a real move
            f"UPDATE opportunity SET stage_id = 1 WHERE id IN ({','.join(map(str, ids['w']))})"
        )
        if src is not None:
            con.execute("DROP TABLE IF EXISTS change")
            con.execute("DROP TABLE IF EXISTS change_set")
            con.execute("DELETE FROM crm_migrations WHERE name = '0005_journal'")
        con.commit()
        return ids
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--src", type=Path, help="run crm from this source tree")
    parser.add_argument("--only", help="run only the commands containing this text")
    args = parser.parse_args(argv)
    speed.compile_crmcli()
    bare = speed.bare_app()
    source = speed.deals_database(10_000, 10_000, 10_000)
    work = Path(speed.DATA) / "everyday.db"
    shutil.copyfile(source, work)
    ids = prepare(work, args.src, args.repeat)
    env = dict(os.environ)
    if args.src is not None:
        env["PYTHONPATH"] = str(args.src.resolve())
    crm = [sys.executable, "-m", "crmcli", "--db", str(work)]
    print(f"crm from {args.src or 'this tree'}; {args.repeat} rounds; medians in seconds")
    print(f"{'command':44} {'bare --help':>11} {'crm':>7} {'ratio':>6}")
    for template in [*COMMANDS, *COMPLETIONS]:
        if args.only and args.only not in template:
            continue
        asked = COMPLETIONS.get(template)
        base: list[float] = []
        mine: list[float] = []
        for i in range(1, args.repeat + 1):
            words = template.format(i=i, q=ids["q"][i - 1], c=ids["c"][i - 1], w=ids["w"][i - 1])
            start = time.perf_counter()
            subprocess.run([sys.executable, str(bare), "--help"], capture_output=True, check=True)
            base.append(time.perf_counter() - start)
            run_env, argv = env, [*crm, *words.split()]
            if asked is not None:  # the shell calls crm back with the words typed so far
                run_env = {**env, "_CRM_COMPLETE": "complete_bash", "COMP_WORDS": asked[0]}
                run_env |= {"COMP_CWORD": asked[1], "CRM_DB": str(work)}
                argv = [sys.executable, "-m", "crmcli"]
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, env=run_env)
            mine.append(time.perf_counter() - start)
            if done.returncode != 0:
                print(f"  {words}: exit {done.returncode}: {done.stderr.decode()[:200]}")
        a, b = statistics.median(base), statistics.median(mine)
        print(f"{template:44} {a:11.3f} {b:7.3f} {b / a:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
