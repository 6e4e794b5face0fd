"""Every file crm writes (`export -o`, `import --rejects`, `db backup`) goes through one guard.

Real `python -m crmcli` processes on real files: the database and its `-wal`, links to it and
the input file are refused before any work; a directory or a missing folder is refused before
the import; a FIFO or a device is written into, never renamed over; a full disk is one line
and leaves no temporary file; a diagnostic that cannot be written never undoes an import.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from reliability_harness import crm, crm_env, dump, rows

from crmcli.services import leads
from crmcli.store.db import Database

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and devices are POSIX")


def _database(tmp_path: Path) -> Path:
    """A database holding three leads, made in-process (quicker than three processes)."""
    path = tmp_path / "v.db"
    db = Database(str(path), currency="BRL")
    try:
        for n in range(3):
            leads.add_lead(db, f"Lead {n}", email=f"lead{n}@x.com")
    finally:
        db.dispose()
    return path


def _hidden(folder: Path) -> list[str]:
    """Temporary files crm might have left (`.NAME.XXXX.tmp`) in `folder`."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _leads_file(path: Path, good: int, bad: int, *, pad: int = 0) -> Path:
    lines = ["Nome;E-mail;Notas"]
    lines += [f"Good {n};good{n}@x.com;" for n in range(good)]
    lines += [f"Bad {n};not-an-email-{n};{'x' * pad}" for n in range(bad)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- the database and the input file are never written over -----------------------------------


@pytest.mark.parametrize("name", ["itself", "wal", "symlink", "hardlink"])
def test_export_refuses_the_database_its_wal_and_links_to_it(tmp_path: Path, name: str) -> None:
    db = _database(tmp_path)
    before = dump(db)
    target = {
        "itself": db,
        "wal": Path(f"{db}-wal"),
        "symlink": tmp_path / "link.db",
        "hardlink": tmp_path / "hard.db",
    }[name]
    if name == "symlink":
        target.symlink_to(db.name)
    elif name == "hardlink":
        os.link(db, target)
    ran = crm("--db", str(db), "export", "--format", "csv", "--entity", "leads",
              "-o", str(target))  # fmt: skip
    line = ran.one_line_error()
    assert ran.code == 1, ran.stderr
    assert line.startswith(f"crm: error: --output {target} is the database"), line
    assert dump(db) == before
    assert rows(db, "SELECT COUNT(*) FROM lead") == [(3,)]
    assert _hidden(tmp_path) == []


def test_backup_refuses_the_wal_and_a_hard_link_to_the_database(tmp_path: Path) -> None:
    db = _database(tmp_path)
    hard = tmp_path / "hard.db"
    os.link(db, hard)
    before = dump(db)
    for target in (Path(f"{db}-shm"), hard):
        ran = crm("db", "backup", str(target), "--force", db=db)
        assert ran.code == 1, ran.stderr
        assert "is the database" in ran.one_line_error()
    assert dump(db) == before
    assert _hidden(tmp_path) == []


def test_rejects_refuses_the_input_file_and_imports_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    source = _leads_file(tmp_path / "in.csv", good=2, bad=1)
    original = source.read_bytes()
    ran = crm("lead", "import", str(source), "--rejects", str(source), db=db)
    assert ran.code == 1
    assert ran.one_line_error() == (
        f"crm: error: --rejects {source} is the file being imported; refusing to write over it"
    )
    assert source.read_bytes() == original
    # the same file reached through standard input, and through a symlink
    link = tmp_path / "link.csv"
    link.symlink_to(source.name)
    with source.open("rb") as stdin:
        piped = subprocess.run(
            [sys.executable, "-m", "crmcli", "lead", "import", "-", "--rejects", str(link)],
            env=crm_env(db),
            stdin=stdin,
            capture_output=True,
            timeout=120,
        )
    assert piped.returncode == 1
    assert b"is the file being imported" in piped.stderr and b"Traceback" not in piped.stderr
    assert source.read_bytes() == original
    assert not db.exists() or rows(db, "SELECT COUNT(*) FROM lead") == [(0,)]
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("where", ["directory", "missing folder"])
def test_rejects_into_a_directory_or_missing_folder_is_refused_before_importing(
    tmp_path: Path, where: str
) -> None:
    db = tmp_path / "crm.db"
    source = _leads_file(tmp_path / "in.csv", good=5, bad=2)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder if where == "directory" else tmp_path / "missing" / "rejects.csv"
    ran = crm("lead", "import", str(source), "--rejects", str(target), db=db)
    assert ran.code == 1
    line = ran.one_line_error()  # before any row was read: no "line N" diagnostics either
    assert line.startswith(f"crm: error: cannot write {target} (--rejects): "), line
    assert ("it is a directory" if where == "directory" else "does not exist") in line
    assert not db.exists() or rows(db, "SELECT COUNT(*) FROM lead") == [(0,)]
    assert list(folder.iterdir()) == [] and _hidden(tmp_path) == []


# -- devices and FIFOs are written into, never replaced ----------------------------------------


def _read_fifo(fifo: Path, into: list[bytes]) -> threading.Thread:
    def read() -> None:
        with fifo.open("rb") as handle:
            into.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


def test_a_fifo_target_is_written_into_not_renamed_over(tmp_path: Path) -> None:
    db = _database(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    ran = crm("export", "--format", "csv", "--entity", "leads", "-o", str(fifo), db=db)
    reader.join(timeout=60)
    assert ran.code == 0, ran.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced"
    assert got and got[0].startswith(b"id,") and got[0].count(b"Lead ") == 3
    # a backup into a FIFO: the verified copy's bytes are streamed into it
    got.clear()
    reader = _read_fifo(fifo, got)
    backed = crm("db", "backup", str(fifo), "--force", db=db)
    reader.join(timeout=60)
    assert backed.code == 0, backed.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].startswith(b"SQLite format 3\x00")
    assert _hidden(tmp_path) == []


def test_a_device_node_target_stays_a_device(tmp_path: Path) -> None:
    db = _database(tmp_path)
    node = tmp_path / "null"
    try:  # /dev/null's numbers, in our own folder: the real /dev/null is never touched
        os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    ran = crm("export", "-o", str(node), db=db)
    assert ran.code == 0, ran.stderr
    assert stat.S_ISCHR(os.lstat(node).st_mode), "the device node was replaced by a file"
    source = _leads_file(tmp_path / "in.csv", good=1, bad=2)
    imported = crm("lead", "import", str(source), "--rejects", str(node), db=db)
    assert imported.code == 3, imported.stderr
    assert stat.S_ISCHR(os.lstat(node).st_mode)
    assert _hidden(tmp_path) == []


def _dev_full() -> Path:
    full = Path("/dev/full")
    if not full.exists() or not stat.S_ISCHR(full.stat().st_mode):
        pytest.skip("no /dev/full here")
    return full


def test_a_full_device_is_one_line_and_the_import_is_kept(tmp_path: Path) -> None:
    """/dev/full fails every write with ENOSPC: the non-regular-file path on a full disk."""
    full = _dev_full()
    db = _database(tmp_path)
    ran = crm("export", "-o", str(full), db=db)
    assert ran.code == 1
    assert ran.one_line_error() == f"crm: error: cannot write {full}: No space left on device"
    source = _leads_file(tmp_path / "in.csv", good=3, bad=2)
    imported = crm("lead", "import", str(source), "--rejects", str(full), db=db)
    assert imported.code == 1 and "Traceback" not in imported.stderr
    assert imported.stderr.splitlines()[-1] == (
        f"crm: error: cannot write {full}: No space left on device (the import itself was saved)"
    )
    assert rows(db, "SELECT COUNT(*) FROM lead") == [(3 + 3,)]
    assert "inserted" in imported.stdout  # the summary is still printed
    assert _hidden(tmp_path) == []


# -- a full disk (a small tmpfs in a private mount namespace) ----------------------------------


def _in_full_folder(folder: Path, *crm_args: str, env: dict[str, str]) -> str:
    """Run crm with `folder` a 64 kB tmpfs, in a private mount namespace (the mount goes with
    it); returns crm's stderr, then `rc=N` and the listing of `folder` afterwards."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("mounting a small tmpfs needs root and unshare(1)")
    folder.mkdir()
    crm_command = shlex.join([sys.executable, "-m", "crmcli", *crm_args])
    script = (
        f"mount -t tmpfs -o size=64k tmpfs {shlex.quote(str(folder))} || exit 99\n"
        f'{crm_command}; echo "rc=$?" >&2; ls -A {shlex.quote(str(folder))} >&2'
    )
    ran = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], env=env, capture_output=True, timeout=300
    )
    err = ran.stderr.decode(errors="replace")
    if ran.returncode == 99 or (ran.returncode != 0 and "rc=" not in err):
        pytest.skip(f"cannot mount a small tmpfs here: {err.strip()}")
    return err


def test_rejects_on_a_full_disk_never_undo_the_import_and_leave_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    # 400 rejected rows of 1 kB each: four times what the 64 kB disk holds
    source = _leads_file(tmp_path / "in.csv", good=50, bad=400, pad=1000)
    full = tmp_path / "full"
    target = full / "rejects.csv"
    err = _in_full_folder(
        full, "lead", "import", str(source), "--rejects", str(target), env=crm_env(db)
    )
    assert "Traceback" not in err, err
    lines = err.splitlines()
    error = f"crm: error: cannot write {target}: No space left on device"
    assert f"{error} (the import itself was saved)" in lines, err
    assert lines[-1] == "rc=1", err  # and `ls -A` of the full folder printed nothing
    assert rows(db, "SELECT COUNT(*) FROM lead") == [(50,)]


def test_export_and_backup_on_a_full_disk_leave_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    source = _leads_file(tmp_path / "in.csv", good=600, bad=0)
    assert crm("lead", "import", str(source), db=db).code == 0
    for n, args in enumerate([("export", "-o"), ("db", "backup")]):
        full = tmp_path / f"full{n}"
        target = full / "copy"
        err = _in_full_folder(full, *args, str(target), env=crm_env(db))
        lines = err.splitlines()
        assert lines == [f"crm: error: cannot write {target}: No space left on device", "rc=1"]
    assert rows(db, "SELECT COUNT(*) FROM lead") == [(600,)]


# -- a diagnostic that cannot be written never undoes the user's data --------------------------


def test_a_closed_stderr_never_rolls_back_an_import(tmp_path: Path) -> None:
    """`crm lead import f.csv 2>&1 | head -1`: the reader goes after the first reject line."""
    db = tmp_path / "crm.db"
    assert crm("db", "init", db=db).code == 0  # else the first line says it was created
    source = _leads_file(tmp_path / "in.csv", good=2000, bad=3000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmcli", "lead", "import", str(source)],
        env=crm_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # 3000 reject lines cannot fit in the pipe's buffer
    code = proc.wait(timeout=120)
    assert first.startswith(b"crm: line "), first
    assert code in (1, 3)  # 3: the import's own code; 1: the summary met the closed pipe
    assert rows(db, "SELECT COUNT(*) FROM lead") == [(2000,)]
