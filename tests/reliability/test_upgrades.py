"""Databases left by every older schema upgrade with every row kept, after a 0600 backup;
several processes starting on an old file upgrade it once; a newer schema is refused untouched.

The fixtures are the committed `fixtures/schema-<last migration>.db` files (made by
`make_fixtures.py`); a prefix of the migration list without a committed fixture (a migration
added since) is built into a temporary folder by the same code, so a new migration is tested
without anyone remembering to add a file.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from make_fixtures import FIXTURES, build, fixture_name
from reliability_harness import Ran, crm, crm_env, integrity, rows
from test_concurrent_imports import GO, release

from crmcli.domain.tags import SEARCHED, search_key
from crmcli.domain.values import normalise_name
from crmcli.store.migrations import _NAME_KEYS, MIGRATIONS

ALL = [m.name for m in MIGRATIONS]
Snapshot = dict[str, tuple[list[str], list[tuple[object, ...]]]]


def fixture(upto: int, scratch: Path) -> Path:
    """The database of the first `upto` migrations: committed, or built now if missing."""
    name = fixture_name(MIGRATIONS[upto - 1].name)
    committed = FIXTURES / name
    if committed.exists():
        return committed
    scratch.mkdir(exist_ok=True)
    return build(scratch / name, upto)


def install(source: Path, folder: Path) -> Path:
    """A private copy of a fixture as `folder/crm.db` (0700 folder, 0600 file)."""
    folder.mkdir(mode=0o700)
    target = folder / "crm.db"
    shutil.copyfile(source, target)
    target.chmod(0o600)
    return target


def snapshot(db_path: Path, like: Snapshot | None = None) -> Snapshot:
    """Every row of every table (those and the columns of `like`, when given)."""
    tables = (
        list(like)
        if like is not None
        else [
            r[0]
            for r in rows(
                db_path,
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT IN ('sqlite_sequence', 'crm_migrations') ORDER BY name",
            )
        ]
    )
    taken: Snapshot = {}
    for table in tables:
        columns = (
            like[table][0]
            if like is not None
            else [r[1] for r in rows(db_path, f'PRAGMA table_info("{table}")')]
        )
        names = ", ".join(f'"{c}"' for c in columns)
        taken[table] = (columns, rows(db_path, f'SELECT {names} FROM "{table}" ORDER BY rowid'))
    return taken


def without_keys(taken: Snapshot) -> Snapshot:
    """`taken` without the matching-key columns that migrations 0004 and 0007 recompute."""
    folded = {(table, key) for table, key, _source in _NAME_KEYS}
    kept: Snapshot = {}
    for table, (columns, found) in taken.items():
        index = [i for i, c in enumerate(columns) if (table, c) not in folded]
        kept[table] = ([columns[i] for i in index], [tuple(r[i] for i in index) for r in found])
    return kept


def check_folded_keys(db_path: Path) -> None:
    """Every matching key of a non-ASCII name is its key without accents (`normalise_name`);
    ASCII names keep the keys they had, byte for byte."""
    for table, key, source in _NAME_KEYS:
        if source == "search":
            continue  # 0008 recomputes every search key: check_search_keys
        for row in rows(db_path, f"SELECT {key}, {source} FROM {table}"):
            if all(str(part).isascii() for part in row[1:] if part is not None):
                continue
            expected = normalise_name(row[1]) if row[1] is not None else None
            assert row[0] == expected, (table, key, row)
    assert any(
        r[0].startswith("joao d'avila")
        for r in rows(db_path, "SELECT search_key FROM lead WHERE name LIKE 'Jo%'")
    )


def check_search_keys(db_path: Path) -> None:
    """0008: every row of every searched table has the search key of its fields, and no note
    is left pending."""
    for table, fields in SEARCHED.items():
        for row in rows(db_path, f"SELECT search_key, {', '.join(fields)} FROM {table}"):
            assert row[0] == search_key(table, dict(zip(fields, row[1:], strict=True))), row
    assert rows(db_path, "SELECT COUNT(*) FROM activity WHERE type = 'note' AND NOT done") == [(0,)]


def applied(db_path: Path) -> list[str]:
    return [r[0] for r in rows(db_path, "SELECT name FROM crm_migrations ORDER BY name")]


def check_duplicate_keys(db_path: Path) -> None:
    """The keys of `crm duplicates` (0006) computed from the fixture's rows."""
    assert rows(db_path, "SELECT id, phone_key, match_key FROM lead ORDER BY id") == [
        (1, None, "joana prado\x1fagrovale"),
        (2, "11912345678", None),
    ]
    assert rows(db_path, "SELECT id, match_key FROM account ORDER BY id") == [
        (1, "agrovale"),
        (2, "cafe tres rios"),
    ]
    assert rows(db_path, "SELECT id, match_key FROM contact ORDER BY id") == [(1, "joana prado")]


@pytest.mark.parametrize("upto", range(1, len(MIGRATIONS) + 1), ids=ALL)
def test_fixture_upgrades_keeping_every_row_after_a_private_backup(
    tmp_path: Path, upto: int
) -> None:
    db_path = install(fixture(upto, tmp_path / "built"), tmp_path / "data")
    before = snapshot(db_path)
    assert sum(len(r) for _, r in before.values()) >= 15  # the fixture holds data

    ran = crm("lead", "list", "--all", "--json", db=db_path, umask=0o022)
    assert ran.code == 0, ran.stderr
    assert sorted(lead["name"] for lead in json.loads(ran.stdout)) == [
        "Joana Prado",
        "João D'Ávila",
    ]
    assert applied(db_path) == sorted(ALL)
    assert integrity(db_path) == []
    after = snapshot(db_path, like=before)
    # every old row, every old column, as was, but for the matching keys: 0007 folds accents
    assert without_keys(after) == without_keys(before)
    if "0007_fold_accents" not in ALL[:upto]:  # the fixture holds keys with accents
        check_folded_keys(db_path)
    if "0008_day_work" not in ALL[:upto]:  # 0008 back-fills the search keys of the old rows
        check_search_keys(db_path)
    else:  # a fixture from 0008 on is written with the keys it holds: nothing is recomputed
        assert after == before
    if "0006_duplicate_keys" not in ALL[:upto]:  # its keys are back-filled from the old rows
        check_duplicate_keys(db_path)

    backups = sorted(db_path.parent.glob("crm.db.*.bak"))
    if upto == len(MIGRATIONS):
        assert backups == [] and ran.stderr == ""
        return
    assert len(backups) == 1, backups
    backup = backups[0]
    assert backup.name.startswith(f"crm.db.{MIGRATIONS[upto - 1].name}.")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert "backed up" in ran.stderr and "upgraded the schema" in ran.stderr
    # the backup is the database as it was before the upgrade, whole and self-contained
    assert not Path(f"{backup}-wal").exists()
    assert applied(backup) == sorted(ALL[:upto])
    assert snapshot(backup) == before
    assert integrity(backup) == []

    lost = crm("opp", "list", "--status", "lost", "--json", db=db_path)
    assert lost.code == 0, lost.stderr
    assert [(o["name"], o["amount"]) for o in json.loads(lost.stdout)] == [
        ("Três Rios roasting line", "1234567.89")
    ]


def test_processes_starting_at_once_on_an_old_database_upgrade_it_once(tmp_path: Path) -> None:
    db_path = install(fixture(1, tmp_path / "built"), tmp_path / "data")
    before = snapshot(db_path)
    (tmp_path / "signals").mkdir()
    go = tmp_path / "signals" / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", GO, str(go), "lead", "list", "--all", "--json"],
            env=crm_env(db_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    try:
        release(procs, go)
        done = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            done.append(Ran(proc.returncode, out.decode(), err.decode()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for ran in done:
        assert ran.code == 0, ran.stderr
        assert "database is locked" not in ran.stderr and "Traceback" not in ran.stderr
        assert len(json.loads(ran.stdout)) == 2
    assert sum("upgraded the schema" in r.stderr for r in done) == 1, [r.stderr for r in done]
    assert len(list(db_path.parent.glob("crm.db.*.bak"))) == 1
    assert rows(db_path, "SELECT COUNT(*), COUNT(DISTINCT name) FROM crm_migrations") == [
        (len(ALL), len(ALL))
    ]
    assert without_keys(snapshot(db_path, like=before)) == without_keys(before)
    check_folded_keys(db_path)
    assert integrity(db_path) == []


def folder_state(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Name -> (size, mtime, bytes) of every file in `folder`."""
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.iterdir())
    }


@pytest.mark.parametrize(
    "command",
    [
        ["lead", "list"],
        ["lead", "add", "Someone"],
        ["pipeline", "report", "--json"],
        ["db", "migrate"],
        ["db", "check"],
        ["lead", "import", "-"],
    ],
    ids=lambda c: " ".join(c),
)
def test_database_from_a_newer_crmcli_is_refused_and_left_byte_identical(
    tmp_path: Path, command: list[str]
) -> None:
    db_path = install(fixture(len(MIGRATIONS), tmp_path / "built"), tmp_path / "data")
    conn = sqlite3.connect(db_path)
    conn.execute(
        "INSERT INTO crm_migrations (name, applied_at) VALUES ('9999_from_the_future', '2031-01-01')"
    )
    conn.commit()
    conn.close()
    assert sorted(os.listdir(db_path.parent)) == ["crm.db"]
    before = folder_state(db_path.parent)

    ran = crm(*command, db=db_path, stdin=b"Nome;E-mail\nAna;ana@x.com\n")
    assert ran.code == 1, ran.stderr
    line = ran.one_line_error()
    assert "newer crmcli" in line and "9999_from_the_future" in line
    assert folder_state(db_path.parent) == before  # no byte changed, no -wal or -shm left
