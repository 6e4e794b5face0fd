"""The PostgreSQL backend itself: the migrations build the modelled schema there too, upgrades
keep data, read transactions are read-only snapshots, and money columns are exact BIGINT cents.

Runs only when CRM_TEST_POSTGRES_URL names a server (see tests/conftest.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, inspect

from crmcli.errors import StorageError
from crmcli.services import leads, opportunities
from crmcli.store import migrations
from crmcli.store.db import Database
from crmcli.store.migrations import EXPRESSION_INDEXES, MIGRATIONS
from crmcli.store.tables import SQLModel

pytestmark = pytest.mark.postgres_only


def _engine_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _schema(url: str) -> dict[str, object]:
    engine = create_engine(_engine_url(url))
    try:
        insp = inspect(engine)
        return {
            table: (
                sorted(
                    (c["name"], bool(c["nullable"]), str(c["type"]))
                    for c in insp.get_columns(table)
                ),
                sorted(i["name"] or "" for i in insp.get_indexes(table)),
                sorted(
                    (tuple(u["column_names"]), u["name"])
                    for u in insp.get_unique_constraints(table)
                ),
                sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"])
                    for f in insp.get_foreign_keys(table)
                ),
            )
            for table in insp.get_table_names()
        }
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models_on_postgresql(
    backend_url: str, new_database_url: Callable[[], str]
) -> None:
    Database(backend_url).upgrade()
    modelled = new_database_url()
    engine = create_engine(_engine_url(modelled))
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    migrated = _schema(backend_url)
    expected = _schema(modelled)
    for table, names in EXPRESSION_INDEXES.items():  # reflected here, unlike on SQLite
        columns, indexes, unique, foreign = expected[table]  # type: ignore[misc]
        expected[table] = (columns, sorted([*indexes, *names]), unique, foreign)
    assert migrated == expected
    columns = {name: kind for name, _, kind in migrated["opportunity"][0]}  # type: ignore[index]
    assert columns["amount"] == "BIGINT"
    assert ("name_key",) in {cols for cols, _ in migrated["account"][2]}  # type: ignore[index]
    assert ("email_key",) in {cols for cols, _ in migrated["lead"][2]}  # type: ignore[index]


def test_largest_amount_is_exact_in_bigint_cents_and_in_the_report(db: Database) -> None:
    largest = Decimal("9999999999999.99")
    opportunities.add_opportunity(db, "Big", account="Acme", amount=largest, probability=33)
    opportunities.add_opportunity(db, "Small", account="Acme", amount=Decimal("0.01"))
    with db.read() as uow:
        stored = uow.conn.rows("SELECT amount FROM opportunity ORDER BY id")
    assert stored == [(999999999999999,), (1,)]
    from crmcli.services.reports import pipeline_report

    report = pipeline_report(db)
    assert str(report.total.amount) == "10000000000000.00"
    # Σ cents × % = 999999999999999 × 33 + 1 × 10 = 32999999999999977, / 100 = 329999999999999.77
    # cents, rounded half-up once: 330000000000000 cents
    assert str(report.total.weighted) == "3300000000000.00"


def _old_database(url: str, upto: int) -> None:
    """A database as a crmcli that knew only the first `upto` migrations left it, with data."""
    import crmcli.store.db as dbmod

    original = migrations.MIGRATIONS
    db = Database(url)
    try:
        migrations.MIGRATIONS = original[:upto]
        dbmod.MIGRATIONS = original[:upto]
        db.upgrade()
        with db.write() as uow:
            stage = uow.stages.all()[0]
            conn = uow.conn
            conn.run(
                "INSERT INTO account (name, name_key, created_at) "
                "VALUES ('Acme', 'acme', '2026-01-02 03:04:05')"
            )
            conn.run(
                "INSERT INTO lead (name, email, email_key, status, budget, search_key, "
                "created_at, updated_at) VALUES ('João', 'j@x.br', 'j@x.br', 'new', 1250000, "
                "'joão', '2026-01-02 03:04:05', '2026-01-02 03:04:05')"
            )
            conn.run(
                "INSERT INTO opportunity (name, name_key, account_id, stage_id, amount, "
                "probability, probability_manual, status, created_at, updated_at) VALUES "
                f"('Deal', 'deal', 1, {stage.id}, 99999, 10, false, 'open', "
                "'2026-01-02 03:04:05', '2026-01-02 03:04:05')"
            )
            uow.commit()
    finally:
        migrations.MIGRATIONS = original
        dbmod.MIGRATIONS = original
        db.dispose()


@pytest.mark.parametrize("upto", range(1, len(MIGRATIONS)))
def test_database_from_an_older_schema_upgrades_without_losing_data(
    backend_url: str, upto: int
) -> None:
    _old_database(backend_url, upto)
    notes: list[str] = []
    db = Database(backend_url, notify=notes.append)
    try:
        with db.read() as uow:
            lead = uow.leads.get(1)
            opp = uow.opps.get(1)
        assert (lead.name, str(lead.budget)) == ("João", "12500.00")
        assert (opp.name, str(opp.amount), opp.stage) == ("Deal", "999.99", "Prospecting")
        assert db.applied_migrations() == sorted(m.name for m in MIGRATIONS)
        assert any("upgraded the schema" in n for n in notes)
        # the identity sequences carry on after rows inserted by hand
        assert leads.add_lead(db, "Next").id == 2
    finally:
        db.dispose()


def test_newer_schema_is_refused(backend_url: str) -> None:
    db = Database(backend_url)
    db.upgrade()
    with db.write() as uow:
        uow.conn.run(
            "INSERT INTO crm_migrations (name, applied_at) VALUES ('9999_future', '2030-01-01')"
        )
        uow.commit()
    db.dispose()
    with pytest.raises(StorageError, match="newer crmcli"):
        Database(backend_url).open()


def test_read_transaction_is_a_read_only_snapshot(db: Database) -> None:
    leads.add_lead(db, "Ana")
    other = Database(db.target)
    try:
        with db.read() as uow:
            assert len(uow.leads.list()) == 1
            leads.add_lead(other, "Bia")  # committed by someone else meanwhile
            assert len(uow.leads.list()) == 1  # one snapshot for the whole transaction
        with pytest.raises(Exception, match="read-only transaction"), db.read() as uow:
            uow.conn.run("DELETE FROM lead")
        assert len(leads.list_leads(db)) == 2
    finally:
        other.dispose()


def test_writers_do_not_wait_for_each_other_on_different_rows(db: Database) -> None:
    """Unlike SQLite's single writer, two write transactions on a server run side by side."""
    first = leads.add_lead(db, "Ana")
    second = leads.add_lead(db, "Bia")
    other = Database(db.target)
    done = threading.Event()
    try:
        with db.write() as uow:
            uow.leads.get(first.id, lock=True)

            def edit() -> None:
                leads.edit_lead(other, second.id, phone="+55 11 5555-0000")
                done.set()

            thread = threading.Thread(target=edit, daemon=True)
            thread.start()
            assert done.wait(10), "a write on another lead waited for this transaction"
            uow.commit()
        thread.join(10)
        assert leads.get_lead(db, second.id).phone == "+55 11 5555-0000"
    finally:
        other.dispose()


def test_an_unreachable_server_is_one_clear_error_without_the_password() -> None:
    db = Database("postgresql://sales:s3cret@127.0.0.1:1/crm")
    with pytest.raises(Exception) as caught:
        db.open()
    assert "s3cret" not in str(caught.value)
    assert db.display == "postgresql://sales:***@127.0.0.1:1/crm"


def test_bulk_lead_insert_stores_values_exactly_as_a_single_insert_does(db: Database) -> None:
    from datetime import date, datetime

    values = {
        "name": "Ana Lúcia",
        "company": "Pão & Cia",
        "budget": Decimal("1234.50"),
        "timeline": date(2026, 12, 31),
        "extras": {"Interesse": "Sensores", "Cidade": "São Paulo"},
        "owner": "Zoë",
        "source": "Feira",
        "notes": "50% off; 'quoted' %s",
        "status": "new",
        "created_at": datetime(2026, 1, 2, 3, 4, 5),
        "updated_at": datetime(2026, 1, 2, 3, 4, 5, 600),
    }
    with db.write() as uow:
        uow.leads.add({**values, "email": "one@x.br"})
        taken = uow.leads.add_many(
            [{**values, "email": "two@x.br"}, {**values, "email": "one@x.br"}, values]
        )
        stored = uow.conn.rows(
            "SELECT budget, timeline, created_at, updated_at, CAST(extras AS TEXT), search_key, "
            "owner_key, source_key, notes, email_key FROM lead ORDER BY id"
        )
        uow.commit()
    assert [row["email"] for row in taken] == ["one@x.br"]  # already there: not inserted
    assert len(stored) == 3
    same = [(*row[:5], *row[6:9]) for row in stored]  # search_key holds the e-mail
    assert same[0] == same[1] == same[2]
    notes = "\x1f\x1f\x1f50% off; 'quoted' %s\x1f"  # phone, tags, notes, phone digits
    assert [row[5] for row in stored] == [
        "ana lucia\x1fone@x.br\x1fpao & cia" + notes,
        "ana lucia\x1ftwo@x.br\x1fpao & cia" + notes,
        "ana lucia\x1f\x1fpao & cia" + notes,
    ]
    assert stored[0][:4] == (
        123450,
        date(2026, 12, 31),
        *[values["created_at"], values["updated_at"]],
    )
    assert [row[9] for row in stored] == ["one@x.br", "two@x.br", None]
    found = leads.list_leads(db)
    assert {lead.extras["Cidade"] for lead in found} == {"São Paulo"}
    assert {lead.budget for lead in found} == {Decimal("1234.50")}
