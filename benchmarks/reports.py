"""Time the read-side commands (reports, forecast, agenda, lead list) on a 200k-deal database.

    .venv/bin/python benchmarks/reports.py [--deals 200000] [--repeat 3] [--rebuild]

The database is built once into ``benchmarks/data/`` (git-ignored): ``crm --db FILE db init``
makes the schema with the real migrations, then the stdlib ``sqlite3`` module bulk-inserts
seeded, deterministic rows (one transaction, ``executemany``) into the real tables, and
``crm --db FILE db check`` confirms integrity and foreign keys. Dates are relative to the day
of the build, which is part of the file name, so a new day builds a new file (older ones for
the same size are removed).

Every measurement is a whole process, timed with `time.perf_counter` around `subprocess.run`;
each round runs A, A2 and every command once (interleaved), and medians over ``--repeat``
rounds are printed:

* A  = ``python -c pass`` (interpreter start-up);
* A2 = a fresh ``python -c`` opening the same file with stdlib ``sqlite3`` and running one
  pipeline aggregate (open deals per stage: count, sum of amounts, weighted sum);
* B  = each ``crm ... --json`` command; its stdout is parsed with ``json.loads``.

Prints figures, never fails on them: the exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE))

from run import crm_command  # noqa: E402 - one way to find crm, shared with run.py

SEED = 20240612
DATA_VERSION = 3
"""Bump when the generator below changes, so cached databases are rebuilt."""

ACCOUNTS = 2_000
LEADS = 50_000
ACTIVITIES = 100_000

OWNERS = ("Ana Souza", "Bruno Lima", "Carla Dias", "Diego Alves", "Eva Martins")
SOURCES = ("Web", "Referral", "Trade show", "Cold call", "LinkedIn", "Partner")
# (status, weight) of leads that were not converted; converted ones come from the deals.
LEAD_STATUSES = (("new", 40), ("contacted", 25), ("qualified", 15), ("disqualified", 20))
ACTIVITY_TYPES = ("call", "meeting", "email", "task", "note")
LOST_REASONS = ("Price", "Timing", "No budget", "Went with a competitor", "No decision")
COMPETITORS = ("Acme CRM", "Pipedrift", "SalesHub", None)
WORDS = (
    "Alfa", "Beta", "Cobalt", "Delta", "Echo", "Ferro", "Gama", "Horizonte", "Iris", "Jade",
    "Kappa", "Lumen", "Mar", "Norte", "Onda", "Prata", "Quartzo", "Rio", "Sol", "Terra",
)  # fmt: skip
SUFFIXES = ("Ltda", "S.A.", "Group", "Tech", "Logística", "Foods", "Labs", "Partners")

BASELINE_SQL = (
    "SELECT stage_id, COUNT(*), SUM(amount), SUM(amount*probability) "
    "FROM opportunity WHERE status='open' GROUP BY stage_id"
)
BASELINE = (
    "import sqlite3, sys\n"
    "con = sqlite3.connect(sys.argv[1])\n"
    f"rows = con.execute({BASELINE_SQL!r}).fetchall()\n"
    "print(len(rows))\n"
    "con.close()\n"
)

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("pipeline", "report", "--json"),
    ("forecast", "--json"),
    ("report", "win-rate", "--by", "owner", "--json"),
    ("report", "conversion", "--json"),
    ("report", "velocity", "--json"),
    ("report", "stale", "--json"),
    ("agenda", "--json"),
    ("lead", "list", "--limit", "50", "--json"),
)


# --- the data -------------------------------------------------------------------------------


def ts(moment: datetime) -> str:
    """SQLAlchemy's SQLite storage form of a naive UTC datetime."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _company(rng: random.Random, i: int) -> str:
    return f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)} {i:04d}"


def _person(rng: random.Random) -> str:
    first = ("Ana", "João", "Maria", "Pedro", "Luísa", "Rafael", "Emily", "James", "Sofia", "Tiago")
    last = ("Silva", "Souza", "Oliveira", "Pereira", "Costa", "Smith", "Brown", "Araújo", "Gomes")
    return f"{rng.choice(first)} {rng.choice(last)} {rng.choice(last)}"


def _stage_probabilities(con: sqlite3.Connection) -> list[tuple[int, str, int]]:
    rows = con.execute("SELECT id, name, probability FROM stage ORDER BY position").fetchall()
    return [(int(i), str(n), int(p)) for i, n, p in rows]


def populate(
    path: Path,
    deals: int,
    today: date,
    *,
    leads: int = LEADS,
    activities: int = ACTIVITIES,
) -> dict[str, int]:
    """Insert every row into the freshly initialised database at `path`; return counts."""
    rng = random.Random(SEED)
    now = datetime(today.year, today.month, today.day, 9, 0, 0)
    con = sqlite3.connect(path)
    stages = _stage_probabilities(con)
    n_stages = len(stages)

    accounts = []
    for i in range(1, ACCOUNTS + 1):
        name = _company(rng, i)
        created = now - timedelta(days=rng.randint(400, 900), seconds=rng.randint(0, 86_399))
        accounts.append((i, name, name.lower(), ts(created)))

    opps: list[tuple[object, ...]] = []
    history: list[tuple[object, ...]] = []
    closed_with_lead: list[tuple[int, int, str]] = []  # (deal id, account id, created_at)
    open_ids: list[int] = []
    for opp_id in range(1, deals + 1):
        roll = rng.random()
        status = "open" if roll < 0.70 else "won" if roll < 0.90 else "lost"
        steps = rng.randint(2, 4)  # history rows
        stage_rows = steps if status == "open" else steps - 1  # stages entered
        first = rng.randint(0, n_stages - stage_rows)
        path_stages = [stages[first + k] for k in range(stage_rows)]
        created = now - timedelta(days=rng.randint(20, 540), seconds=rng.randint(0, 86_399))
        at = created
        for k, (stage_id, stage_name, prob) in enumerate(path_stages):
            if k:
                at += timedelta(days=rng.randint(1, 30), seconds=rng.randint(0, 86_399))
            history.append((opp_id, stage_id, stage_name, "open", prob, ts(at)))
        stage_id, stage_name, probability = path_stages[-1]
        closed_at = None
        lost_reason = competitor = None
        if status != "open":
            at += timedelta(days=rng.randint(1, 30), seconds=rng.randint(0, 86_399))
            probability = 100 if status == "won" else 0
            history.append((opp_id, stage_id, stage_name, status, probability, ts(at)))
            closed_at = ts(at)
            if status == "lost":
                lost_reason = rng.choice(LOST_REASONS)
                competitor = rng.choice(COMPETITORS)
        else:
            open_ids.append(opp_id)
        updated = at
        if status == "open" and rng.random() < 0.9:
            expected: str | None = (today + timedelta(days=rng.randint(-90, 365))).isoformat()
        elif status == "open":
            expected = None
        else:
            expected = (updated.date() + timedelta(days=rng.randint(-20, 20))).isoformat()
        account_id = rng.randint(1, ACCOUNTS)
        owner = rng.choice(OWNERS)
        name = f"{rng.choice(WORDS)} {rng.choice(('renewal', 'expansion', 'pilot', 'rollout'))} {opp_id}"
        amount = rng.randint(50, 50_000) * 100 + rng.choice((0, 0, 50, 99))
        lead_id = None
        if rng.random() < 0.08:
            lead_id = -1  # filled in below, once the converted leads have ids
            closed_with_lead.append((opp_id, account_id, ts(created)))
        opps.append(
            [
                opp_id, name, name.lower(), account_id, None, stage_id, amount, probability, 0,
                status, expected, owner, owner.lower(), lost_reason, competitor, lead_id,
                ts(created), ts(updated), closed_at,
            ]
        )  # fmt: skip

    # Leads: the converted ones first (one per deal that came from a lead), then the rest.
    lead_rows: list[tuple[object, ...]] = []
    lead_of_deal: dict[int, int] = {}
    statuses = [s for s, _ in LEAD_STATUSES]
    weights = [w for _, w in LEAD_STATUSES]
    total_leads = max(leads, len(closed_with_lead))
    for lead_id in range(1, total_leads + 1):
        name = _person(rng)
        source = rng.choice(SOURCES)
        owner = rng.choice(OWNERS)
        if lead_id <= len(closed_with_lead):
            deal_id, account_id, deal_created = closed_with_lead[lead_id - 1]
            lead_of_deal[deal_id] = lead_id
            created = datetime.fromisoformat(deal_created) - timedelta(days=rng.randint(1, 60))
            lead_rows.append(
                (
                    lead_id, name, source, source.lower(), "converted", owner, owner.lower(),
                    name.lower(), account_id, deal_id, ts(created), deal_created,
                )
            )  # fmt: skip
            continue
        created = now - timedelta(days=rng.randint(0, 600), seconds=rng.randint(0, 86_399))
        updated = min(now, created + timedelta(days=rng.randint(0, 30)))
        status = rng.choices(statuses, weights)[0]
        lead_rows.append(
            (
                lead_id, name, source, source.lower(), status, owner, owner.lower(),
                name.lower(), None, None, ts(created), ts(updated),
            )
        )  # fmt: skip
    for row in opps:
        if row[15] == -1:
            row[15] = lead_of_deal[int(row[0])]  # type: ignore[call-overload]

    activity_rows: list[tuple[object, ...]] = []
    for _ in range(activities):
        kind = rng.choice(ACTIVITY_TYPES)
        on_deal = rng.random() < 0.8
        opp_id = rng.choice(open_ids) if on_deal else None
        lead_id = None if on_deal else rng.randint(1, total_leads)
        done = rng.random() < 0.6
        has_time = rng.random() < 0.4
        due_day = today + timedelta(days=rng.randint(-60, 45) if not done else rng.randint(-400, 0))
        due_at = datetime(due_day.year, due_day.month, due_day.day)
        if has_time:
            due_at += timedelta(hours=rng.randint(8, 18), minutes=rng.choice((0, 15, 30, 45)))
        if rng.random() < 0.05:
            due_text: str | None = None
            has_time = False
        else:
            due_text = ts(due_at)
        created = min(now, due_at) - timedelta(days=rng.randint(1, 20))
        done_at = ts(min(now, due_at + timedelta(hours=rng.randint(0, 48)))) if done else None
        owner = rng.choice(OWNERS)
        activity_rows.append(
            (
                kind, f"{kind.title()} about {rng.choice(WORDS)}", lead_id, opp_id, due_text,
                int(has_time), int(done), done_at, owner, owner.lower(), ts(created),
                done_at or ts(created),
            )
        )  # fmt: skip

    with con:
        con.executemany(
            "INSERT INTO account (id, name, name_key, created_at) VALUES (?, ?, ?, ?)", accounts
        )
        con.executemany(
            "INSERT INTO opportunity (id, name, name_key, account_id, contact_id, stage_id,"
            " amount, probability, probability_manual, status, expected_close, owner, owner_key,"
            " lost_reason, competitor, lead_id, created_at, updated_at, closed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            opps,
        )
        con.executemany(
            "INSERT INTO opportunity_history (opportunity_id, stage_id, stage_name, status,"
            " probability, at) VALUES (?, ?, ?, ?, ?, ?)",
            history,
        )
        con.executemany(
            "INSERT INTO lead (id, name, source, source_key, status, owner, owner_key,"
            " search_key, account_id, opportunity_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            lead_rows,
        )
        con.executemany(
            "INSERT INTO activity (type, subject, lead_id, opportunity_id, due, due_has_time,"
            " done, done_at, owner, owner_key, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            activity_rows,
        )
    con.execute("ANALYZE")
    con.close()
    return {
        "accounts": len(accounts),
        "opportunities": len(opps),
        "history": len(history),
        "leads": len(lead_rows),
        "activities": len(activity_rows),
    }


def database(deals: int, rebuild: bool) -> Path:
    """The cached database for `deals` deals built today, built when missing."""
    today = date.today()
    stem = f"reports-{deals}-seed{SEED}-v{DATA_VERSION}"
    path = DATA / f"{stem}-{today.isoformat()}.db"
    if path.exists() and not rebuild:
        return path
    DATA.mkdir(exist_ok=True)
    for old in DATA.glob(f"reports-{deals}-seed*.db"):
        old.unlink()
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    crm = crm_command()
    print(f"building {path.relative_to(HERE.parent)} ...", flush=True)
    start = time.perf_counter()
    subprocess.run([*crm, "--db", str(tmp), "db", "init"], capture_output=True, check=True)
    counts = populate(tmp, deals, today)
    built = time.perf_counter() - start
    print("  " + ", ".join(f"{v:,} {k}" for k, v in counts.items()) + f" in {built:.1f} s")
    check = subprocess.run(
        [*crm, "--db", str(tmp), "db", "check", "--json"], capture_output=True, text=True
    )
    print(f"  crm db check: exit {check.returncode}: {' '.join(check.stdout.split())[:300]}")
    if check.returncode != 0:
        print(f"  warning: the check failed: {check.stderr.strip()[-300:]}")
    tmp.rename(path)
    print(f"  {path.stat().st_size / 2**20:.1f} MiB", flush=True)
    return path


# --- the timing -----------------------------------------------------------------------------


def timed(argv: Sequence[str]) -> tuple[float, bool, int]:
    """(seconds, stdout is valid JSON, exit status) of one run of `argv`."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    try:
        json.loads(done.stdout)
        valid = True
    except ValueError:
        valid = False
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-2:]
        print(f"  warning: {' '.join(argv[-4:])} exited {done.returncode}: {' | '.join(tail)}")
    return elapsed, valid, done.returncode


def rounds(db: Path, repeat: int) -> Iterator[tuple[str, float, str]]:
    """Interleave A, A2 and every command for `repeat` rounds; yield (label, median, json)."""
    crm = crm_command()
    cases: list[tuple[str, list[str], bool]] = [
        ("A   python -c pass", [sys.executable, "-c", "pass"], False),
        ("A2  python -c sqlite3 aggregate", [sys.executable, "-c", BASELINE, str(db)], False),
    ]
    cases += [(f"B   crm {' '.join(c)}", [*crm, "--db", str(db), *c], True) for c in COMMANDS]
    times: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    valid: dict[str, bool] = {label: True for label, _, _ in cases}
    for i in range(repeat):
        for label, argv, is_json in cases:
            seconds, ok, _ = timed(argv)
            times[label].append(seconds)
            valid[label] = valid[label] and (ok or not is_json)
        print(f"  round {i + 1}/{repeat} done", flush=True)
    for label, _, is_json in cases:
        yield (
            label,
            statistics.median(times[label]),
            ("yes" if valid[label] else "NO") if is_json else "-",
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    args = parser.parse_args(argv)
    print(
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {args.deals:,} deals, repeat {args.repeat}",
        flush=True,
    )
    try:
        db = database(args.deals, args.rebuild)
        results = list(rounds(db, max(1, args.repeat)))
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"error: {exc}")
        return 0
    a2 = next(median for label, median, _ in results if label.startswith("A2"))
    print()
    print(f"{'command':<52} {'median s':>9} {'/A2':>7}  json")
    for label, median, valid in results:
        print(f"{label:<52} {median:>9.3f} {median / a2:>6.1f}x  {valid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
