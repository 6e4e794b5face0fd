"""`crm lead convert` killed with SIGKILL at random moments: all of the conversion or none of it.

Each attempt copies a database holding one qualified lead, starts a real `python -m crmcli lead
convert` on it, waits until the process has the database open, and kills it 0-50 ms later
(it commits about 25 ms after opening the file, so kills land before, during and after). Afterwards the file passes
`PRAGMA integrity_check`, and either the lead is converted with its account, contact and deal
all present and linked, or it is still qualified and none of them exists; the next command
works. A slow variant also kills the 30 000-row import many more times.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_harness import crm, crm_env, integrity, kill_after, rows
from test_import_kill import check_database, database_with_three_leads, lead_file, start_and_kill

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and /proc are POSIX-only")


def template(path: Path) -> Path:
    """A database with one qualified lead (id 1) ready to convert, and nothing else."""
    added = crm(
        "lead",
        "add",
        "Joana Prado",
        "--email",
        "joana@agrovale.com.br",
        "--company",
        "AgroVale Ltda",
        "--budget",
        "R$ 48.000,00",
        "--timeline",
        "30/06/2027",
        "-q",
        db=path,
    )
    assert added.code == 0, added.stderr
    assert crm("lead", "qualify", "1", db=path).code == 0
    assert not Path(f"{path}-wal").exists()  # one self-contained file to copy
    return path


def kill_convert(db_path: Path, delay: float) -> str:
    """Start the conversion, SIGKILL it `delay` s after it opened the database. Its fate:
    "finished" or "killed"."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmcli", "lead", "convert", "1"],
        env=crm_env(db_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    landed = kill_after(proc, db_path, delay, writing=False, opened=db_path)
    return "finished" if landed == "finished" else "killed"


def conversion_state(db_path: Path) -> str:
    """ "none" or "all"; anything in between fails the test."""
    ((status, contact_id, account_id, opp_id),) = rows(
        db_path, "SELECT status, contact_id, account_id, opportunity_id FROM lead WHERE id = 1"
    )
    counts = {
        table: rows(db_path, f"SELECT COUNT(*) FROM {table}")[0][0]
        for table in ("account", "contact", "opportunity", "opportunity_history")
    }
    if status == "qualified":
        assert (contact_id, account_id, opp_id) == (None, None, None)
        assert counts == dict.fromkeys(counts, 0), counts
        return "none"
    assert status == "converted", status
    assert counts == {"account": 1, "contact": 1, "opportunity": 1, "opportunity_history": 1}
    ((opp_account, opp_contact, amount),) = rows(
        db_path, "SELECT account_id, contact_id, amount FROM opportunity WHERE id = ?", (opp_id,)
    )
    assert (opp_account, opp_contact, amount) == (account_id, contact_id, 4_800_000)
    return "all"


def kill_conversions(tmp_path: Path, attempts: int) -> None:
    base = template(tmp_path / "template.db")
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    seen: list[tuple[str, str]] = []
    retried = False
    for attempt in range(attempts):
        db_path = tmp_path / f"convert-{attempt}.db"
        shutil.copyfile(base, db_path)
        # half the kills aim before the commit (~25 ms after opening), half anywhere
        delay = rng.uniform(0.0, 0.015 if attempt % 2 == 0 else 0.06)
        where = f"attempt {attempt} (kill {delay * 1000:.0f} ms in, seed {seed})"
        fate = kill_convert(db_path, delay)
        assert integrity(db_path) == [], where
        state = conversion_state(db_path)
        if fate == "finished":
            assert state == "all", where
        seen.append((fate, state))
        # the next command works, and sees the same all-or-nothing state
        shown = crm("lead", "show", "1", "--json", db=db_path)
        assert shown.code == 0, f"{where}: {shown.stderr}"
        status = json.loads(shown.stdout)["status"]
        assert status == ("converted" if state == "all" else "qualified"), where
        if state == "none" and not retried:  # ... and the conversion can still be made
            retried = True
            again = crm("lead", "convert", "1", "--json", db=db_path)
            assert again.code == 0, f"{where}: {again.stderr}"
            assert conversion_state(db_path) == "all", where
            checked = crm("db", "check", db=db_path)
            assert checked.code == 0, f"{where}: {checked.stdout} {checked.stderr}"
    print(f"conversion kills: {seen} (seed {seed})")
    if ("killed", "none") not in seen:
        pytest.skip(f"no kill landed before the commit: {seen} (seed {seed})")


def test_killed_conversion_is_all_or_nothing(tmp_path: Path) -> None:
    kill_conversions(tmp_path, attempts=6)


@pytest.mark.slow
def test_killed_conversion_is_all_or_nothing_many_times(tmp_path: Path) -> None:
    kill_conversions(tmp_path, attempts=100)


@pytest.mark.slow
def test_killed_import_many_times(tmp_path: Path) -> None:
    """The long form of test_import_kill: 25 kills at random moments of a 30 000-row import."""
    csv_path = lead_file(tmp_path / "feira.csv")
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    states = []
    for attempt in range(25):
        db_path = tmp_path / f"crm-{attempt}.db"
        database_with_three_leads(db_path)
        writing = attempt % 3 != 0
        delay = rng.uniform(0.0, 1.5 if writing else 0.3)
        state = start_and_kill(db_path, csv_path, delay, writing=writing)
        states.append(state)
        count = check_database(db_path)
        expected = {3 + 30_000} if state == "finished" else {3, 3 + 30_000}
        assert count in expected, f"attempt {attempt}: {state}: {count} leads (seed {seed})"
        listed = crm("lead", "list", "--search", "Existing", "--json", db=db_path)
        assert listed.code == 0, listed.stderr
        assert len(json.loads(listed.stdout)) == 3
    assert "writing" in states, f"no kill landed while writing: {states} (seed {seed})"
