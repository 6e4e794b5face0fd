"""Where the database is: every layer opens the file `--db` names, and says plainly why not.

Real `python -m crmcli` processes (FIFOs, full disks and never-answering servers are involved).
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

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
