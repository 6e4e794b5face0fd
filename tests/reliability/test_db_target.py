"""Where the database is: every layer opens the file `--db` names, and says plainly why not.

Real `python -m crmcli` processes (FIFOs, full disks and never-answering servers are involved).
"""

from __future__ import annotations

import socket
import sqlite3
import stat
import time
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
