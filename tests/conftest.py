"""Shared fixtures: every test gets its own data folder and database file, never the user's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmcli.store.db import Database


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point CRM_DB and the XDG folders at a temp folder; pin owner, colour and width."""
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("CRM_DB", str(tmp_path / "crm.db"))
    monkeypatch.setenv("CRM_OWNER", "tester")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CRM_NOW", raising=False)
    monkeypatch.delenv("CRM_CURRENCY", raising=False)
    return tmp_path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The database file the CLI uses in this test (CRM_DB)."""
    return tmp_path / "crm.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    """A fresh database on a real SQLite file in tmp_path, with the default pipeline."""
    database = Database(str(db_path), currency="BRL")
    yield database
    database.dispose()
