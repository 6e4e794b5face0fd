"""Whatever `--db` names that is not a usable crmcli database is refused with one clear line
(exit 1), and nothing there is overwritten, created or left behind.

An empty file is refused too: crmcli never leaves an empty database file (a new one is linked
into place only once it has its SQLite header), so a 0-byte file is someone else's
(`touch`, `mktemp`, a half-written download) and is not ours to initialise.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_harness import crm

# a write, and a read through the light (stdlib sqlite3) path
COMMANDS = [["lead", "add", "Ana"], ["pipeline", "report"]]


def tree(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under `folder` with its mode and, for files, its bytes."""
    found: dict[str, tuple[int, bytes | None]] = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        found[str(path.relative_to(folder))] = (mode, None if path.is_dir() else path.read_bytes())
    return found


def random_bytes(folder: Path) -> Path:
    path = folder / "photo.jpg"
    path.write_bytes(bytes(range(256)) * 40 + os.urandom(4096))
    return path


def sqlite_header_then_garbage(folder: Path) -> Path:
    path = folder / "broken.db"
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    return path


def wal_header_then_garbage(folder: Path) -> Path:
    """A header that claims WAL mode (bytes 18 and 19 are 2): SQLite would create -wal and
    -shm beside it before noticing the rest is garbage (1 in 65,536 random headers does)."""
    path = folder / "broken.db"
    head = bytearray(b"SQLite format 3\x00" + os.urandom(8192))
    head[18:20] = b"\x02\x02"
    path.write_bytes(bytes(head))
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "empty.db"
    path.touch()
    return path


def directory(folder: Path) -> Path:
    path = folder / "a-folder"
    path.mkdir()
    (path / "keep.txt").write_text("mine\n")
    return path


def foreign_sqlite(folder: Path) -> Path:
    path = folder / "invoices.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoice (id INTEGER PRIMARY KEY, total INTEGER)")
        conn.execute("INSERT INTO invoice (total) VALUES (100)")
    conn.close()
    return path


def below_a_file(folder: Path) -> Path:
    (folder / "notes.txt").write_text("not a folder\n")
    return folder / "notes.txt" / "crm.db"


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "random-bytes": (random_bytes, "not a SQLite database"),
    "sqlite-header-then-garbage": (sqlite_header_then_garbage, "cannot be read as a database"),
    "wal-header-then-garbage": (wal_header_then_garbage, "cannot be read as a database"),
    "empty-file": (empty_file, "empty file"),
    "directory": (directory, "is a directory"),
    "foreign-sqlite": (foreign_sqlite, "not a crmcli one"),
    "path-below-a-file": (below_a_file, "Not a directory"),
}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("case", list(CASES))
def test_not_a_database_is_refused_in_one_line_and_left_alone(
    tmp_path: Path, case: str, command: list[str]
) -> None:
    folder = tmp_path / "place"
    folder.mkdir()
    make, expected = CASES[case]
    target = make(folder)
    before = tree(folder)

    ran = crm("--db", str(target), *command)

    assert ran.code == 1, (ran.code, ran.stderr)
    line = ran.one_line_error()
    assert line.startswith("crm: error: ") and expected in line, line
    assert ran.stdout == ""
    assert tree(folder) == before  # nothing overwritten, nothing created beside it


def crm_database(path: Path) -> Path:
    added = crm("lead", "add", "Ana", "--email", "ana@x.com", db=path)
    assert added.code == 0, added.stderr
    assert sorted(os.listdir(path.parent)) == [path.name]
    return path


@pytest.mark.usefixtures("modes_are_enforced")
@pytest.mark.parametrize("command", [["lead", "list"], ["lead", "add", "Bia"]], ids=" ".join)
def test_read_only_database_file_is_refused_untouched(tmp_path: Path, command: list[str]) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db_path = crm_database(folder / "crm.db")
    db_path.chmod(0o400)
    before = tree(folder)
    ran = crm(*command, db=db_path, honour_modes=True)
    assert ran.code == 1, ran.stderr
    assert "read-only" in ran.one_line_error()
    assert tree(folder) == before


@pytest.mark.usefixtures("modes_are_enforced")
def test_read_only_folder_is_refused_untouched(tmp_path: Path) -> None:
    empty = tmp_path / "locked-empty"
    empty.mkdir()
    used = tmp_path / "locked-used"
    used.mkdir()
    db_path = crm_database(used / "crm.db")
    for folder in (empty, used):
        folder.chmod(0o500)
    try:
        created = crm("lead", "add", "Bia", db=empty / "crm.db", honour_modes=True)
        assert created.code == 1, created.stderr
        assert "cannot create" in created.one_line_error()
        assert os.listdir(empty) == []

        before = tree(used)
        opened = crm("lead", "list", db=db_path, honour_modes=True)
        assert opened.code == 1, opened.stderr
        assert "read-only" in opened.one_line_error()
        assert tree(used) == before
    finally:
        for folder in (empty, used):
            folder.chmod(0o700)


def test_the_same_commands_work_on_a_real_database(tmp_path: Path) -> None:
    """The counterpart: what is refused above is refused for what it is, not for the command."""
    db_path = tmp_path / "place" / "crm.db"
    for command in [*COMMANDS, ["lead", "list"], ["db", "migrate"]]:
        ran = crm("--db", str(db_path), *command)
        assert ran.code == 0, (command, ran.stderr)
        assert "Traceback" not in ran.stderr
