"""Shared fixtures: every test gets its own data folder and database, never the user's.

Backends: the tests of `tests/store`, `tests/services` and `tests/cli` (and any test marked
`both_backends`) run twice, on a SQLite file and on PostgreSQL, through the `backend` fixture.
The PostgreSQL variant needs `CRM_TEST_POSTGRES_URL` (e.g.
`postgresql://postgres@127.0.0.1:5432/test`) and is skipped with that reason when it is not
set. Each PostgreSQL test gets a schema of its own in that database (reached through
`?options=-csearch_path%3D<schema>` in the URL), dropped after the test. Tests that are about
SQLite files themselves (permissions, WAL, backups of files) are marked `sqlite_only`; tests
of the server backend itself are marked `postgres_only`.

Other tests can ask for `backend_url` (the database `CRM_DB` points at in this test) or
`new_database_url` (a factory of further empty databases on the same backend).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from crmcli import i18n
from crmcli.store.db import Database

POSTGRES_ENV = "CRM_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")
BOTH_BACKEND_FOLDERS = ("store", "services", "cli")
"""Test folders (under tests/) whose every test runs on both backends unless sqlite_only."""

_TESTS = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: about SQLite files themselves; not run on PostgreSQL"
    )
    config.addinivalue_line(
        "markers", "both_backends: run on SQLite and PostgreSQL (automatic in store/services/cli)"
    )
    config.addinivalue_line("markers", "postgres_only: about the PostgreSQL backend itself")


def _on_both(metafunc: pytest.Metafunc) -> bool:
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        return False
    if metafunc.definition.get_closest_marker("both_backends") is not None:
        return True
    try:
        relative = Path(str(metafunc.definition.path)).resolve().relative_to(_TESTS)
    except ValueError:
        return False
    return relative.parts[0] in BOTH_BACKEND_FOLDERS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("postgres_only") is not None:
        metafunc.parametrize("backend", ["postgresql"], indirect=True)
    elif _on_both(metafunc):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


def postgres_admin_url() -> str | None:
    """The PostgreSQL server the tests may use (CRM_TEST_POSTGRES_URL), if any."""
    return os.environ.get(POSTGRES_ENV) or None


def _libpq(url: str) -> str:
    # psycopg wants a libpq URL: no SQLAlchemy driver suffix.
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def _schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}', safe='')}"


class PostgresSchemas:
    """Creates fresh schemas in the test server's database and drops them afterwards."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def new_url(self) -> str:
        """A URL whose connections use a new, empty schema."""
        import psycopg

        name = f"crm_test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        self.created.append(name)
        return _schema_url(self.admin_url, name)

    def drop_all(self) -> None:
        """Drop every schema made here (and everything in them)."""
        if not self.created:
            return
        import psycopg

        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as conn:
            conn.execute("SET lock_timeout = '20s'")
            for name in self.created:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        self.created.clear()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test: "sqlite" unless parametrised (see module docs)."""
    name = str(getattr(request, "param", "sqlite"))
    if name == "postgresql" and postgres_admin_url() is None:
        pytest.skip(f"{POSTGRES_ENV} not set: the PostgreSQL variant needs a server")
    return name


@pytest.fixture
def new_database_url(backend: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A factory of empty databases on this test's backend: file paths or schema URLs."""
    if backend == "sqlite":
        counter = iter(range(1, 1000))

        def new_file() -> str:
            return str(tmp_path / f"extra-{next(counter)}.db")

        yield new_file
        return
    admin = postgres_admin_url()
    assert admin is not None
    schemas = PostgresSchemas(admin)
    try:
        yield schemas.new_url
    finally:
        schemas.drop_all()


@pytest.fixture
def backend_url(backend: str, tmp_path: Path, new_database_url: Callable[[], str]) -> str:
    """The database this test's CRM_DB points at: tmp_path/crm.db, or a fresh schema."""
    if backend == "sqlite":
        return str(tmp_path / "crm.db")
    return new_database_url()


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend_url: str) -> Path:
    """Point CRM_DB and the XDG folders at a temp folder; pin owner, colour, width, language
    (English, whatever the machine's LANG), a new database's currency (BRL) and time zone
    (UTC)."""
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("CRM_DB", backend_url)
    monkeypatch.setenv("CRM_OWNER", "tester")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CRM_NOW", raising=False)
    monkeypatch.delenv("CRM_CURRENCY", raising=False)
    monkeypatch.setenv("CRM_LANG", "en")
    # new test databases keep reais, as the test data write them (`R$ 1.234,56`)
    monkeypatch.setenv("LC_MONETARY", "pt_BR.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    i18n.reset()
    return tmp_path


@pytest.fixture
def db_path(tmp_path: Path, backend: str) -> Path:
    """The SQLite file the CLI uses in this test (CRM_DB); SQLite-only tests ask for it."""
    if backend != "sqlite":
        pytest.fail("this test uses the SQLite file itself: mark it sqlite_only")
    return tmp_path / "crm.db"


@pytest.fixture
def db(backend_url: str) -> Iterator[Database]:
    """A fresh database (a SQLite file in tmp_path, or a PostgreSQL schema), BRL currency."""
    database = Database(backend_url, currency="BRL")
    yield database
    database.dispose()
