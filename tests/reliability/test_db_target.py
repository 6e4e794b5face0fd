"""Where the database is: every layer opens the file `--db` names, and says plainly why not.

Real `python -m crmcli` processes (FIFOs, full disks and never-answering servers are involved).
"""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from reliability_harness import crm, crm_env


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def _folder(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


# -- finding 3: the literal file, in every layer --------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["foreign.db?x=1", "crm%41.db", "a#b.db", "sp ace%2F.db"],
    ids=["query", "pct", "hash", "sp"],
)
def test_db_path_with_url_characters_is_the_literal_file(tmp_path: Path, name: str) -> None:
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE theirs (a)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    target = tmp_path / name

    added = crm("lead", "add", "Ana", "--email", "ana@example.com", "-q", db=target)
    assert added.code == 0, added.stderr
    listed = crm("lead", "list", "--json", db=target)  # the stdlib read path
    assert listed.code == 0, listed.stderr
    assert "ana@example.com" in listed.stdout

    assert target.is_file()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert {"lead", "crm_migrations"} <= _tables(target)
    assert foreign.read_bytes() == before, "another program's database was written"
    assert _tables(foreign) == {"theirs"}
    assert not (tmp_path / "crmA.db").exists()
    left = {p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))}
    assert left == {"foreign.db", name}


def test_sqlite_url_with_query_opens_the_literal_file(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE theirs (a)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    url = f"sqlite:///{tmp_path}/foreign.db?mode=rw"
    added = crm("lead", "add", "Bo", "-q", env=crm_env(url))
    assert added.code == 0, added.stderr
    assert foreign.read_bytes() == before
    assert {"lead"} <= _tables(tmp_path / "foreign.db?mode=rw")


# -- finding 14: PostgreSQL never waits for ever ---------------------------------------------


def test_server_that_never_answers_times_out_with_one_line(tmp_path: Path) -> None:
    """A TCP listener that accepts and says nothing: connect_timeout ends the wait."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(60)  # the listener closes itself with the test, whatever happens
        port = listener.getsockname()[1]
        url = f"postgresql://crm@127.0.0.1:{port}/crm?connect_timeout=1"
        started = time.monotonic()
        ran = crm("lead", "list", env=crm_env(url), timeout=60)
        waited = time.monotonic() - started
    assert ran.code == 1
    line = ran.one_line_error()
    assert line.startswith("crm: error: database: cannot connect to the server"), line
    assert "timeout" in line and "(psycopg" not in line, line
    assert waited < 30, f"waited {waited:.1f} s with connect_timeout=1"


def test_default_timeouts_are_added_and_merged_with_the_url() -> None:
    from crmcli.store.db import server_url

    url = server_url("postgresql://u@h/db?options=-csearch_path%3Dteam")
    assert "connect_timeout=30" in url
    assert "options=-csearch_path%3Dteam+-c+lock_timeout%3D30000ms" in url
    mine = server_url("postgres://u@h/db?connect_timeout=5&options=-c%20lock_timeout%3D2s")
    assert "connect_timeout=5" in mine and "connect_timeout=30" not in mine
    assert "30000ms" not in mine and "lock_timeout%3D2s" in mine


@pytest.mark.postgres_only
def test_a_lock_held_elsewhere_ends_in_database_is_locked(backend_url: str) -> None:
    import psycopg

    assert crm("lead", "add", "Ana", "-q", env=crm_env(backend_url)).code == 0
    # backend_url ends with ?options=-csearch_path%3D<schema>: add a short lock_timeout to it
    assert "options=" in backend_url and "&" not in backend_url.partition("options=")[2]
    short = backend_url + quote(" -c lock_timeout=1s", safe="")
    libpq = backend_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq) as holder:
        holder.execute("LOCK TABLE lead IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        ran = crm("lead", "add", "Bo", "-q", env=crm_env(short), timeout=120)
        waited = time.monotonic() - started
        holder.rollback()
    assert ran.code == 1
    line = ran.one_line_error()
    assert line.startswith("crm: error: database: database is locked"), line
    assert "(psycopg" not in line, line
    assert waited < 25, f"waited {waited:.1f} s with lock_timeout=1s"
    assert crm("lead", "list", "--json", env=crm_env(backend_url)).stdout.count('"name"') == 1


def test_sqlite_lock_error_is_the_promised_line(tmp_path: Path) -> None:
    """A writer that holds the file past the 30 s busy timeout: the line docs/reliability.md
    promises, not SQLAlchemy's `(sqlite3.OperationalError) …` wrapper."""
    target = tmp_path / "crm.db"
    assert crm("lead", "add", "Ana", "-q", db=target).code == 0
    holder = sqlite3.connect(target, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        ran = crm("lead", "add", "Bo", "-q", db=target, timeout=120)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert ran.code == 1
    assert ran.one_line_error() == "crm: error: database: database is locked"


@pytest.mark.parametrize("url", ["mysql://ana@127.0.0.1/crm", "mssql+pyodbc://ana:pw@h/crm"])
def test_other_database_urls_are_unsupported(url: str) -> None:
    ran = crm("lead", "list", env=crm_env(url))
    assert ran.code == 1
    line = ran.one_line_error()
    assert line.startswith(
        "crm: error: unsupported database URL (crmcli supports SQLite files and postgresql://)"
    ), line
    assert "psycopg" not in line and ":pw@" not in line


# -- finding 15: a full disk is named, not taken for a damaged file --------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted at tmp_path/disk (root only), unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() or 'not root'}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(folder: Path, *, leave: int = 0) -> Path:
    """Write a ballast file until the disk is full, then give back `leave` bytes."""
    ballast = folder / "ballast"
    with ballast.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    if leave:
        os.truncate(ballast, max(0, ballast.stat().st_size - leave))
    return ballast


def test_full_disk_is_named_for_reads_and_writes(small_disk: Path) -> None:
    target = small_disk / "crm.db"
    assert crm("lead", "add", "Ana", "-q", db=target).code == 0
    before = _folder_rows(target)
    ballast = _fill(small_disk)
    for args in (
        ["lead", "list"],
        ["pipeline", "report"],
        ["opp", "list"],
        ["db", "check"],
        ["lead", "add", "Bo", "-q"],
    ):
        ran = crm(*args, db=target)
        assert ran.code == 1, (args, ran.stderr)
        line = ran.one_line_error()
        assert line.startswith(f"crm: error: the disk holding {small_disk} is full"), line
        assert "cannot be read as a database" not in line
    ballast.unlink()
    assert _folder_rows(target) == before  # nothing half-written
    listed = crm("lead", "list", "--json", db=target)
    assert listed.code == 0 and '"Bo"' not in listed.stdout and '"Ana"' in listed.stdout


def test_full_disk_while_importing_rolls_back_and_says_so(small_disk: Path, tmp_path: Path) -> None:
    target = small_disk / "crm.db"
    assert crm("lead", "add", "Ana", "-q", db=target).code == 0
    sheet = tmp_path / "leads.csv"
    lines = ["name,email,company"]
    lines += [f"Person {i},p{i}@example.com,Company {i} of a fairly long name" for i in range(6000)]
    sheet.write_text("\n".join(lines) + "\n")
    ballast = _fill(small_disk, leave=200_000)  # room to open, not to import 6,000 leads
    ran = crm("lead", "import", str(sheet), db=target)
    assert ran.code == 1, ran.stderr
    line = ran.stderr.strip().splitlines()[-1]
    assert "Traceback" not in ran.stderr
    assert line.startswith(f"crm: error: the disk holding {small_disk} is full"), line
    ballast.unlink()
    assert _folder_rows(target) == [("Ana",)]


def test_new_database_on_a_full_disk(small_disk: Path) -> None:
    _fill(small_disk)
    target = small_disk / "crm.db"
    ran = crm("lead", "list", db=target)
    assert ran.code == 1
    line = ran.one_line_error()
    assert line.startswith(f"crm: error: the disk holding {small_disk} is full"), line
    assert sorted(p.name for p in small_disk.iterdir()) == ["ballast"]  # no leftovers


def _folder_rows(target: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(target)
    try:
        return list(conn.execute("SELECT name FROM lead ORDER BY id"))
    finally:
        conn.close()


# -- finding 16: what --db names, and db check / newer schema on PostgreSQL ------------------


def _device(folder: Path) -> Path:
    node = folder / "null-device"
    try:
        os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
    except OSError as exc:
        pytest.skip(f"cannot make a device node here: {exc.strerror}")
    return node


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("args", [["lead", "add", "Ana", "-q"], ["pipeline", "report"]])
def test_db_naming_a_fifo_or_device_is_refused_at_once(
    tmp_path: Path, kind: str, args: list[str]
) -> None:
    folder = tmp_path / "here"
    folder.mkdir()
    if kind == "fifo":
        target = folder / "crm.db"
        os.mkfifo(target)
        expected = "is a named pipe (FIFO), not a regular file"
    else:
        target = _device(folder)
        expected = "is a character device, not a regular file"
    ran = crm(*args, db=target, timeout=30)  # it used to block for ever opening the FIFO
    assert ran.code == 1
    line = ran.one_line_error()
    assert line == (
        f"crm: error: {target} {expected}: a crmcli database is a file (refusing to open it)"
    ), line
    assert [p.name for p in folder.iterdir()] == [target.name]
    assert not stat.S_ISREG(target.lstat().st_mode)


def test_dangling_symlink_says_where_it_points(tmp_path: Path) -> None:
    missing = tmp_path / "gone" / "crm.db"
    link = tmp_path / "crm.db"
    link.symlink_to(missing)
    for args in (["lead", "add", "Ana", "-q"], ["lead", "list"]):
        ran = crm(*args, db=link)
        assert ran.code == 1
        line = ran.one_line_error()
        assert line.startswith(
            f"crm: error: {link} is a symbolic link to {missing}, which does not exist"
        ), line
        assert f"crm --db {missing} db init" in line
    assert link.is_symlink() and os.readlink(link) == str(missing)
    assert not missing.parent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db"]


@pytest.mark.postgres_only
def test_db_check_on_postgresql_checks_something(backend_url: str) -> None:
    import psycopg

    env = crm_env(backend_url)
    assert crm("contact", "add", "Ana", "--account", "Acme", "-q", env=env).code == 0
    healthy = crm("db", "check", env=env)
    assert healthy.code == 0, healthy.stderr
    assert healthy.stdout == "ok\n"
    assert "checked: PostgreSQL: the rows of " in healthy.stderr
    assert "foreign keys" in healthy.stderr

    libpq = backend_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as server:
        # what a restore with triggers off can leave: a contact of an account that is not there
        server.execute("SET session_replication_role = replica")
        server.execute("CREATE TEMP TABLE orphan AS SELECT * FROM contact LIMIT 1")
        server.execute("UPDATE orphan SET id = 50, account_id = 999")
        server.execute("INSERT INTO contact SELECT * FROM orphan")
        server.execute("ALTER TABLE opportunity DISABLE TRIGGER ALL")
    broken = crm("db", "check", env=env)
    assert broken.code == 1
    assert "foreign key: contact row 50 points to a missing account" in broken.stdout
    assert "foreign-key trigger(s) of opportunity are disabled" in broken.stdout
    assert broken.stderr.splitlines()[-1].startswith("crm: error: 2 problem(s) found in ")


@pytest.mark.postgres_only
def test_newer_schema_on_postgresql_speaks_of_the_database(backend_url: str) -> None:
    import psycopg

    env = crm_env(backend_url)
    assert crm("lead", "add", "Ana", "-q", env=env).code == 0
    libpq = backend_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as server:
        server.execute(
            "INSERT INTO crm_migrations (name, applied_at) VALUES ('9999_from_the_future', now())"
        )
    ran = crm("lead", "list", env=env)
    assert ran.code == 1
    line = ran.one_line_error()
    assert "was written by a newer crmcli (schema 9999_from_the_future)" in line, line
    assert line.endswith("(the database was not modified)"), line
    assert "file" not in line
