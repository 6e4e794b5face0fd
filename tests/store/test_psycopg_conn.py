"""The server's fast path: `PsycopgConn` runs crmcli's `:name` SQL on psycopg 3 itself (no
SQLAlchemy), `server_params` reads a target URL into libpq keywords, and `Database` keeps one
connection per process between units of work, with each unit's isolation level.

The PostgreSQL tests run only when CRM_TEST_POSTGRES_URL names a server (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal

import pytest

from crmcli.errors import StorageError
from crmcli.services import leads
from crmcli.store.db import PG_LOCK_TIMEOUT, Database, server_params, server_url
from crmcli.store.sql import IntegrityProblem, pyformat

# -- the SQL text psycopg is sent (pure) -----------------------------------------------------


def test_named_parameters_become_pyformat_and_percent_signs_are_doubled() -> None:
    sql = "SELECT :a, x::text, '10:30', name LIKE 'Ana%' ESCAPE '\\' FROM t WHERE b = :b_2"
    assert pyformat(sql) == (
        "SELECT %(a)s, x::text, '10:30', name LIKE 'Ana%%' ESCAPE '\\' FROM t WHERE b = %(b_2)s"
    )
    assert pyformat("SELECT \\:kept, :ção") == "SELECT :kept, %(ção)s"
    assert pyformat("SELECT :p::int") == "SELECT :p::int"  # as text() had it: a cast, no bind


def test_a_server_url_becomes_libpq_keywords_with_the_default_timeouts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    monkeypatch.delenv("PGOPTIONS", raising=False)
    assert server_params("postgresql://sales:p%40ss%3Aw0rd@db.example:6543/crm") == {
        "user": "sales",
        "password": "p@ss:w0rd",
        "host": "db.example",
        "port": "6543",
        "dbname": "crm",
        "connect_timeout": "30",
        "options": f"-c lock_timeout={PG_LOCK_TIMEOUT}",
    }
    given = server_params(
        "postgresql+psycopg://[::1]/crm?options=-csearch_path%3Dteam&sslmode=require"
    )
    assert (given["host"], given["sslmode"]) == ("::1", "require")
    assert given["options"] == f"-csearch_path=team -c lock_timeout={PG_LOCK_TIMEOUT}"
    socket = server_params("postgres:///crm?host=/run/postgresql&connect_timeout=5")
    assert (socket["host"], socket["connect_timeout"], "user" in socket) == (
        "/run/postgresql",
        "5",
        False,
    )
    assert server_params("postgresql://%2Frun%2Fpostgresql/crm")["host"] == "/run/postgresql"
    assert server_url("postgresql://%2Frun%2Fpostgresql/crm").startswith(
        "postgresql://%2Frun%2Fpostgresql/crm?"
    )
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=9s")
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "3")
    kept = server_params("postgresql://u@h/db")
    assert "connect_timeout" not in kept
    assert kept["options"] == f"-c statement_timeout=9s -c lock_timeout={PG_LOCK_TIMEOUT}"


@pytest.mark.parametrize(
    "url", ["postgresql://u:s3cret@h:port/db", "mysql://u:s3cret@h/db", "postgresql://u@h:99x/d"]
)
def test_a_url_crmcli_cannot_use_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(StorageError, match="unsupported database URL") as caught:
        server_params(url)
    assert "s3cret" not in str(caught.value)


# -- on the server ---------------------------------------------------------------------------


@pytest.mark.postgres_only
def test_percent_signs_and_colons_reach_the_server_as_written(db: Database) -> None:
    with db.read() as uow:
        conn = uow.conn
        assert conn.rows("SELECT 'a%b', '10:30', CAST('7' AS int)::text") == [("a%b", "10:30", "7")]
        assert conn.rows(
            "SELECT :p LIKE 'ab%', '100%', :p || '%s', CAST(:n AS int)", {"p": "abc", "n": 3}
        ) == [(True, "100%", "abc%s", 3)]


@pytest.mark.postgres_only
def test_values_come_back_in_the_types_the_stores_read(db: Database) -> None:
    with db.read() as uow:
        row = uow.conn.one(
            "SELECT SUM(CAST(:c AS BIGINT)) AS total, CAST(:ts AS TIMESTAMP) AS ts, "
            "CAST(:d AS DATE) AS d, CAST(:j AS JSON) AS j, CAST(:ids AS integer[]) AS ids",
            {
                "c": 999999999999999,
                "ts": datetime(2026, 1, 2, 3, 4, 5, 600),
                "d": date(2026, 12, 31),
                "j": json.dumps({"Cidade": "São Paulo"}),
                "ids": [1, 2],
            },
        )
    assert row == {
        "total": Decimal(999999999999999),
        "ts": datetime(2026, 1, 2, 3, 4, 5, 600),
        "d": date(2026, 12, 31),
        "j": {"Cidade": "São Paulo"},
        "ids": [1, 2],
    }


@pytest.mark.postgres_only
def test_reads_are_read_only_snapshots_and_writes_read_committed(db: Database) -> None:
    def level(write: bool) -> tuple[str, str]:
        with db.unit(write=write) as uow:
            found = uow.conn.rows(
                "SELECT current_setting('transaction_isolation'), "
                "current_setting('transaction_read_only')"
            )
        return str(found[0][0]), str(found[0][1])

    assert level(False) == ("repeatable read", "on")
    assert level(True) == ("read committed", "off")
    assert level(False) == ("repeatable read", "on")  # the same connection, set per unit


@pytest.mark.postgres_only
def test_one_connection_serves_the_units_of_a_process_and_a_dead_one_is_replaced(
    db: Database,
) -> None:
    def pid() -> int:
        with db.read() as uow:
            return int(uow.conn.scalar("SELECT pg_backend_pid()"))

    first = pid()
    assert pid() == first
    with pytest.raises(IntegrityProblem) as caught, db.write() as uow:
        uow.conn.run("INSERT INTO crm_meta (\"key\", value) VALUES ('currency', 'USD')")
    assert caught.value.unique
    assert pid() == first  # rolled back, idle again: kept
    with db.write() as uow, db.read() as inner:  # nested units: two connections
        assert uow.conn.scalar("SELECT pg_backend_pid()") != inner.conn.scalar(
            "SELECT pg_backend_pid()"
        )
    other = Database(db.target)
    try:
        with other.read() as uow:
            uow.conn.rows("SELECT pg_terminate_backend(:p)", {"p": first})
    finally:
        other.dispose()
    with pytest.raises(Exception, match=r"terminat|closed|server"):
        pid()  # the server ended it between units: this unit fails, once
    assert pid() != first
    assert leads.add_lead(db, "Ana").id == 1


@pytest.mark.postgres_only
def test_a_stream_reads_a_page_at_a_time_and_other_statements_may_run_between(
    db: Database,
) -> None:
    from crmcli.store.sql import STREAM_PAGE

    total = 2 * STREAM_PAGE + 7
    with db.read() as uow:
        conn = uow.conn
        names, rows = conn.stream(
            "SELECT g AS n, '50%' AS pct FROM generate_series(1, :n) AS g ORDER BY g",
            {"n": total},
        )
        assert names == ("n", "pct")
        first = next(rows)
        # a server-side cursor: the rest is still on the server, and the connection is free
        assert conn.scalar("SELECT COUNT(*) FROM pg_cursors WHERE name LIKE 'crm_stream_%'") == 1
        rest = list(rows)
        assert [first, *rest] == [(n, "50%") for n in range(1, total + 1)]
        _names, left = conn.stream("SELECT '%' FROM generate_series(1, 10 * 2000)")
        assert next(left) == ("%",)  # abandoned: it ends with the transaction
    with db.write() as uow:
        _names, left = uow.conn.stream("SELECT id FROM stage ORDER BY id")
        next(left)
        uow.conn.run("UPDATE crm_meta SET value = 'EUR' WHERE \"key\" = 'currency'")
        uow.commit()
    with db.read() as uow:
        assert uow.conn.scalar("SELECT value FROM crm_meta WHERE \"key\" = 'currency'") == "EUR"


EVERYDAY_ON_A_SERVER = [
    ["lead", "add", "Bia", "-q"],
    ["lead", "show", "1"],
    ["lead", "list", "--limit", "50"],
    ["lead", "edit", "1", "--phone", "+55 11 5555-0000"],
    ["opp", "add", "Deal", "--account", "Acme", "--amount", "10", "-q"],
    ["opp", "show", "1"],
    ["opp", "advance", "1", "--to", "Proposal"],
    ["opp", "list", "--account", "Acme"],
    ["activity", "add", "Ligar", "--type", "call", "--opp", "1"],
    ["agenda"],
    ["stage", "list"],
    ["pipeline", "report"],
    ["forecast"],
    ["history"],
    ["db", "migrate"],
    ["db", "check"],
]

_PROBE = """
import json, sys
sys.argv = ["crm", *json.loads(sys.argv[1])]
from crmcli.cli.app import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
if code:
    sys.exit(f"exit {code}")
heavy = {"sqlalchemy", "sqlmodel", "pydantic", "rich"}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)), file=sys.stderr)
"""


@pytest.mark.postgres_only
def test_everyday_commands_on_a_server_load_psycopg_and_no_database_layer(
    backend_url: str,
) -> None:
    env = {**os.environ, "CRM_DB": backend_url}
    subprocess.run(
        [sys.executable, "-m", "crmcli", "lead", "add", "Ana", "-q"], env=env, check=True
    )
    for args in EVERYDAY_ON_A_SERVER:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, json.dumps(args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, (args, done.stderr)
        assert json.loads(done.stderr.strip().splitlines()[-1]) == [], args
