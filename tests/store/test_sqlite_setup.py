"""SQLite connection settings, file permissions and write transactions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from crmcli.store.db import Database


@pytest.mark.sqlite_only
def test_new_database_folder_is_0700_and_file_0600_under_umask_022(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "new" / "folder" / "crm.db"
        db = Database(str(path))
        with db.write() as uow:
            uow.settings.set("x", "y")
            uow.commit()
        modes = {
            p.name: stat.S_IMODE(p.stat().st_mode)
            for p in (path.parent, path, Path(f"{path}-wal"), Path(f"{path}-shm"))
            if p.exists()
        }
        db.dispose()
    finally:
        os.umask(old)
    assert modes.pop("folder") == 0o700
    assert set(modes.values()) == {0o600}


@pytest.mark.sqlite_only
def test_every_connection_has_wal_foreign_keys_and_busy_timeout(db: Database) -> None:
    with db.read() as uow:
        pragma = uow.conn.scalar
        assert pragma("PRAGMA journal_mode") == "wal"
        assert pragma("PRAGMA foreign_keys") == 1
        assert pragma("PRAGMA busy_timeout") == 30000


@pytest.mark.sqlite_only
def test_write_transactions_begin_immediate(db: Database) -> None:
    import sqlite3

    with db.write() as uow:
        uow.settings.set("k", "v")
        other = sqlite3.connect(str(db.path), timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        uow.commit()


@pytest.mark.sqlite_only
def test_read_transactions_do_not_take_the_write_lock(db: Database) -> None:
    import sqlite3

    with db.read() as uow:
        uow.settings.get("currency")
        other = sqlite3.connect(str(db.path), timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()


def test_failed_write_rolls_back_everything(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as uow:
        uow.settings.set("half", "written")
        raise RuntimeError("boom")
    with db.read() as uow:
        assert uow.settings.get("half") is None


def test_leaving_a_unit_of_work_without_commit_rolls_it_back(db: Database) -> None:
    from datetime import datetime

    with db.write() as uow:
        uow.settings.set("dry", "run")
        now = datetime(2026, 1, 2, 3, 4, 5)
        uow.leads.add({"name": "Ana", "status": "new", "created_at": now, "updated_at": now})
    with db.write() as uow:
        uow.settings.set("kept", "yes")
        uow.commit()
    with db.read() as uow:
        assert (uow.settings.get("dry"), uow.settings.get("kept")) == (None, "yes")
        assert uow.leads.list() == []


@pytest.mark.sqlite_only
def test_bulk_lead_insert_stores_values_exactly_as_the_column_types_do(db: Database) -> None:
    from datetime import date, datetime
    from decimal import Decimal

    values = {
        "name": "Ana",
        "budget": Decimal("1234.50"),
        "timeline": date(2026, 12, 31),
        "extras": {"Interesse": "Sensores"},
        "status": "new",
        "created_at": datetime(2026, 1, 2, 3, 4, 5),
        "updated_at": datetime(2026, 1, 2, 3, 4, 5, 600),
    }
    with db.write() as uow:
        uow.leads.add({**values, "email": "one@x.br"})
        uow.leads.add_many([{**values, "email": "two@x.br"}])
        stored = uow.conn.rows(
            "SELECT typeof(budget), budget, timeline, created_at, updated_at, extras, "
            "search_key, owner_key FROM lead ORDER BY id"
        )
        leads = uow.leads.by_emails(["one@x.br", "two@x.br"])
        uow.commit()
    assert stored[0][:6] == stored[1][:6]
    assert stored[0][:4] == ("integer", 123450, "2026-12-31", "2026-01-02 03:04:05.000000")
    first, second = leads["one@x.br"], leads["two@x.br"]
    assert (first.budget, first.timeline, first.extras, first.updated_at) == (
        second.budget,
        second.timeline,
        second.extras,
        second.updated_at,
    )
