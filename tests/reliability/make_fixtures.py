"""Build small databases as each older crmcli left them, for the upgrade tests.

    .venv/bin/python tests/reliability/make_fixtures.py          # the missing fixtures/schema-*.db
    .venv/bin/python tests/reliability/make_fixtures.py --all    # rebuild every one

A fixture of schema N is a database with exactly the first N migrations of the real, append-only
list in `crmcli.store.migrations` applied (as a crmcli that knew only those would have left it),
holding a little of everything those migrations have tables for: accounts, contacts, leads
(one converted), deals with history, activities. Rows are written with only the columns the
table has at that schema, so a later migration changes nothing here. The committed fixtures
freeze the old files; `tests/reliability/test_upgrades.py` builds any that are missing (a
migration added since) into a temporary folder with this same code.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
APPLIED_AT = "2026-01-02 03:04:05.000000"


def fixture_name(last_migration: str) -> str:
    """`schema-0002_activities.db` for the schema whose last migration is 0002_activities."""
    return f"schema-{last_migration}.db"


def _columns(conn: Any, table: str) -> set[str]:
    return {r[1] for r in conn.rows(f'PRAGMA table_info("{table}")')}


def _insert(conn: Any, table: str, values: dict[str, object]) -> None:
    """INSERT the values whose columns exist at this schema."""
    present = _columns(conn, table)
    if not present:
        return
    kept = {k: v for k, v in values.items() if k in present}
    names = ", ".join(f'"{k}"' for k in kept)
    marks = ", ".join(f":{k}" for k in kept)
    conn.run(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', kept)


DATA: list[tuple[str, dict[str, object]]] = [
    ("crm_meta", {"key": "currency", "value": "BRL"}),
    (
        "account",
        {"id": 1, "name": "AgroVale Ltda", "name_key": "agrovale ltda", "created_at": APPLIED_AT},
    ),
    (
        "account",
        {"id": 2, "name": "Café Três Rios", "name_key": "café três rios", "created_at": APPLIED_AT},
    ),
    (
        "contact",
        {
            "id": 1,
            "name": "Joana Prado",
            "name_key": "joana prado",
            "email": "joana@agrovale.com.br",
            "email_key": "joana@agrovale.com.br",
            "account_id": 1,
            "type": "prospect",
            "created_at": APPLIED_AT,
        },
    ),
    (
        "opportunity",
        {
            "id": 1,
            "name": "AgroVale – Joana Prado",
            "name_key": "agrovale – joana prado",
            "account_id": 1,
            "contact_id": 1,
            "stage_id": 2,
            "amount": 4_800_000,
            "probability": 20,
            "probability_manual": 0,
            "status": "open",
            "expected_close": "2027-06-30",
            "owner": "ana",
            "owner_key": "ana",
            "lead_id": 1,
            "created_at": APPLIED_AT,
            "updated_at": APPLIED_AT,
        },
    ),
    (
        "opportunity",
        {
            "id": 2,
            "name": "Três Rios roasting line",
            "name_key": "três rios roasting line",
            "account_id": 2,
            "stage_id": 4,
            "amount": 123_456_789,
            "probability": 0,
            "probability_manual": 0,
            "status": "lost",
            "lost_reason": "price",
            "competitor": "Outra Máquinas",
            "created_at": APPLIED_AT,
            "updated_at": APPLIED_AT,
            "closed_at": APPLIED_AT,
        },
    ),
    (
        "opportunity_history",
        {
            "id": 1,
            "opportunity_id": 1,
            "stage_id": 2,
            "stage_name": "Qualification",
            "status": "open",
            "probability": 20,
            "at": APPLIED_AT,
        },
    ),
    (
        "opportunity_history",
        {
            "id": 2,
            "opportunity_id": 2,
            "stage_id": 4,
            "stage_name": "Proposal",
            "status": "lost",
            "probability": 0,
            "at": APPLIED_AT,
        },
    ),
    (
        "lead",
        {
            "id": 1,
            "name": "Joana Prado",
            "email": "joana@agrovale.com.br",
            "email_key": "joana@agrovale.com.br",
            "company": "AgroVale Ltda",
            "source": "ExpoVendas 2026",
            "source_key": "expovendas 2026",
            "status": "converted",
            "budget": 4_800_000,
            "timeline": "2027-06-30",
            "owner": "ana",
            "owner_key": "ana",
            "search_key": "joana prado joana@agrovale.com.br agrovale ltda",
            "contact_id": 1,
            "account_id": 1,
            "opportunity_id": 1,
            "created_at": APPLIED_AT,
            "updated_at": APPLIED_AT,
        },
    ),
    (
        "lead",
        {
            "id": 2,
            "name": "João D'Ávila",
            "email": "joao@exemplo.com.br",
            "email_key": "joao@exemplo.com.br",
            "phone": "(11) 91234-5678",
            "status": "new",
            "notes": "met at the stand; 100% interested",
            "extras": '{"Cidade": "São Paulo"}',
            "search_key": "joão d'ávila joao@exemplo.com.br",
            "created_at": APPLIED_AT,
            "updated_at": APPLIED_AT,
        },
    ),
    (
        "activity",
        {
            "id": 1,
            "type": "call",
            "subject": "Follow up on the proposal",
            "opportunity_id": 1,
            "due": "2027-01-15 09:00:00.000000",
            "due_has_time": 1,
            "done": 0,
            "created_at": APPLIED_AT,
            "updated_at": APPLIED_AT,
        },
    ),
    (
        "activity",
        {
            "id": 2,
            "type": "note",
            "subject": "Asked for references",
            "lead_id": 2,
            "due_has_time": 0,
            "done": 1,
            "done_at": APPLIED_AT,
            "created_at": APPLIED_AT,
            "updated_at": APPLIED_AT,
        },
    ),
]


def build(path: Path, upto: int) -> Path:
    """Write at `path` a database with the first `upto` migrations applied, holding DATA."""
    from crmcli.store.migrations import MIGRATIONS, MIGRATIONS_TABLE_SQL
    from crmcli.store.sql import SqliteConn

    if not 1 <= upto <= len(MIGRATIONS):
        raise ValueError(f"upto must be from 1 to {len(MIGRATIONS)}")
    path.unlink(missing_ok=True)
    conn = SqliteConn(sqlite3.connect(path, isolation_level=None))
    try:
        conn.raw.execute("BEGIN")
        conn.run(MIGRATIONS_TABLE_SQL.format(ts="DATETIME"))
        for migration in MIGRATIONS[:upto]:
            migration.apply(conn)
            conn.run(
                "INSERT INTO crm_migrations (name, applied_at) VALUES (:n, :at)",
                {"n": migration.name, "at": APPLIED_AT},
            )
        for table, values in DATA:
            _insert(conn, table, values)
        conn.commit()
    finally:
        conn.raw.close()
    raw = sqlite3.connect(path)
    try:
        raw.execute("PRAGMA journal_mode = WAL")  # as crmcli leaves its files
        raw.execute("VACUUM")
    finally:
        raw.close()
    path.chmod(0o600)
    return path


def fixtures(folder: Path = FIXTURES, *, rebuild: bool = False) -> list[Path]:
    """A fixture for every prefix of the migration list, oldest first (built when missing)."""
    from crmcli.store.migrations import MIGRATIONS

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for upto, migration in enumerate(MIGRATIONS, start=1):
        path = folder / fixture_name(migration.name)
        if rebuild or not path.exists():
            build(path, upto)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for made in fixtures(rebuild="--all" in sys.argv[1:]):
        print(made)
