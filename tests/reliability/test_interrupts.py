"""Ctrl-C (SIGINT) and SIGTERM at any moment: one line saying what was and was not written.

A real `python -m crmcli lead import` of a 30 000-row file (30 of them rejected, with
`--rejects`) is interrupted at a random moment while it works, and at the moment its COMMIT
checkpoints the WAL into the database file (the file grows: the commit is under way). Either
nothing was committed and the message says so, or every row was committed, the message says the
change was saved, and the rejects file holds the rejected rows. Never a traceback, never a
temporary file left in the folder. SIGTERM behaves as Ctrl-C, with exit code 143 instead of 130.
"""

from __future__ import annotations

import csv
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_harness import crm_env, has_open, rows

from crmcli.services import leads
from crmcli.store.db import Database

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals and /proc are POSIX")

ROWS = 30_000
BAD = {n for n in range(ROWS) if n % 1000 == 7}  # 30 rows with a broken e-mail
NOTHING = "crm: interrupted: nothing was written"
SAVED = "crm: interrupted after the change was saved (it is in the database)"
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def big_file(path: Path) -> Path:
    lines = ["Nome;E-mail;Empresa"]
    lines += [
        f"Lead {n};{'broken' if n in BAD else ''}lead{n}{'' if n in BAD else '@x.com'};Firma {n % 700}"
        for n in range(ROWS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fresh_database(path: Path) -> Path:
    db = Database(str(path), currency="BRL")
    try:
        leads.add_lead(db, "Existing", email="existing@x.com")
    finally:
        db.dispose()
    return path


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen[bytes]) -> bool:
    """Poll `condition` until it holds (True) or the process ended (False)."""
    deadline = time.monotonic() + 60
    while proc.poll() is None:
        if condition():
            return True
        assert time.monotonic() < deadline, "the import never got there"
        time.sleep(0.001)
    return False


def interrupt_import(
    folder: Path, source: Path, signum: signal.Signals, *, at_commit: bool, delay: float
) -> tuple[str, subprocess.CompletedProcess[str]]:
    """Import `source` into a fresh database in `folder`; send `signum` once it has opened the
    file and `delay` seconds passed, or (at_commit) as soon as the database file grows.

    Returns where the signal was sent ("finished" when the import had ended first) and the
    finished process."""
    db = fresh_database(folder / "crm.db")
    size = db.stat().st_size
    rejects = folder / "rejects.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmcli", "lead", "import", str(source), "--rejects", str(rejects)],
        env=crm_env(db),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        where = "working"
        if not wait_until(lambda: has_open(proc.pid, source), proc):
            where = "finished"
        elif at_commit:
            # WAL mode: the database file itself is written only by the checkpoint in COMMIT
            where = "commit" if wait_until(lambda: db.stat().st_size != size, proc) else "finished"
        else:
            time.sleep(delay)
        if proc.poll() is not None:
            where = "finished"
        else:
            proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    ran = subprocess.CompletedProcess(proc.args, proc.returncode, out.decode(), err.decode())
    return where, ran


def check_outcome(
    folder: Path, signum: signal.Signals, where: str, ran: subprocess.CompletedProcess[str]
) -> str:
    """The promises, whatever moment the signal hit; returns "nothing" or "saved"."""
    assert "Traceback" not in ran.stderr, ran.stderr
    db, rejects = folder / "crm.db", folder / "rejects.csv"
    count = rows(db, "SELECT COUNT(*) FROM lead")[0][0]
    leftovers = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    assert leftovers == [], f"{where}: temporary files left: {leftovers}"
    if where == "finished":
        assert ran.returncode == 3 and count == 1 + ROWS - len(BAD)
        return "finished"
    # every stderr line is a rejected row's (the first 20, then one line saying how many
    # more), except exactly one: the interrupt's, last
    lines = ran.stderr.splitlines()
    assert lines, f"{where}: nothing on stderr"
    assert all(line.startswith(("crm: line ", "crm: … ")) for line in lines[:-1]), ran.stderr
    assert len([line for line in lines if line.startswith("crm: line ")]) <= 20, ran.stderr
    assert ran.returncode == EXIT[signum], (where, ran.returncode, ran.stderr)
    if lines[-1] == NOTHING:
        assert count == 1, f"{where}: said nothing was written, yet {count} leads"
        assert not rejects.exists(), f"{where}: a rejects file for an import that was undone"
        return "nothing"
    assert lines[-1] == SAVED, f"{where}: {lines[-1]!r}"
    assert count == 1 + ROWS - len(BAD), f"{where}: said saved, yet {count} leads"
    with rejects.open(newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle, delimiter=";"))  # the source's delimiter
    assert table[0] == ["Nome", "E-mail", "Empresa", "reason"]
    assert sorted(int(r[0].split()[1]) for r in table[1:]) == sorted(BAD)
    return "saved"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_import_says_what_was_written(
    tmp_path: Path, signum: signal.Signals
) -> None:
    source = big_file(tmp_path / "feira.csv")
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    outcomes = []
    for attempt, at_commit in enumerate([False, True]):
        folder = tmp_path / f"attempt{attempt}"
        folder.mkdir()
        delay = rng.uniform(0.0, 1.5)
        where, ran = interrupt_import(folder, source, signum, at_commit=at_commit, delay=delay)
        outcome = check_outcome(folder, signum, where, ran)
        outcomes.append((where, outcome))
        if where == "commit":
            # a signal held back during COMMIT is acted on once the import has said what it did
            assert outcome == "saved", (where, outcome, seed)
            assert "inserted" in ran.stdout, f"no summary after a saved import: {ran.stdout!r}"
    print(f"{signum.name}: {outcomes} (seed {seed})")
    if ("working", "nothing") not in outcomes:
        pytest.skip(f"the random {signum.name} did not land before the commit: {outcomes}")
    if ("commit", "saved") not in outcomes:
        pytest.skip(f"no {signum.name} landed during the commit: {outcomes} (seed {seed})")


def test_sigterm_during_an_export_removes_its_temporary_file(tmp_path: Path) -> None:
    db = fresh_database(tmp_path / "crm.db")
    source = big_file(tmp_path / "feira.csv")
    loaded = subprocess.run(
        [sys.executable, "-m", "crmcli", "lead", "import", str(source)],
        env=crm_env(db),
        capture_output=True,
        timeout=300,
    )
    assert loaded.returncode == 3, loaded.stderr
    out = tmp_path / "out"
    out.mkdir()
    target = out / "export.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmcli", "export", "-o", str(target)],
        env=crm_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # the temporary file appears first (the target is checked before any work)
    if not wait_until(lambda: any(out.iterdir()), proc):
        pytest.skip("the export ended before its temporary file was seen")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the export finished before SIGTERM landed")
    assert proc.returncode == 143
    assert err.decode().splitlines() == [NOTHING]
    assert list(out.iterdir()) == []


LATE = """
import signal, sys
import crmcli.cli.app as entry
from crmcli import interrupts

def finished_then_interrupted(**_: object) -> None:
    if sys.argv[1] == "saved":
        interrupts.note_saved()
    raise KeyboardInterrupt  # as Ctrl-C between the command's end and the process's

entry.app = finished_then_interrupted
try:
    entry.main()
finally:
    print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
"""


@pytest.mark.parametrize(
    ("state", "said"), [("saved", SAVED), ("read", "crm: interrupted: nothing was written")]
)
def test_an_interrupt_while_crm_exits_still_says_it_and_exits_130(state: str, said: str) -> None:
    """A signal that lands after the command's own handler (its output written, the process
    not yet gone) is said as any other, with 130, not a death by SIGINT; then none can land."""
    ran = subprocess.run(
        [sys.executable, "-c", LATE, state], capture_output=True, text=True, env=crm_env()
    )
    assert ran.returncode == 130, ran.stderr
    assert ran.stderr.strip().splitlines() == [said]
    assert ran.stdout.strip() == "True"
