"""Schema versioning: migrations build the schema the models describe, upgrades keep data."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from crmcli.errors import StorageError
from crmcli.store import migrations
from crmcli.store.db import Database
from crmcli.store.migrations import MIGRATIONS, Migration
from crmcli.store.tables import SQLModel
from crmcli.store.uow import UnitOfWork


def _schema(path: Path) -> dict[str, object]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        insp = inspect(engine)
        return {
            table: (
                sorted((c["name"], bool(c["nullable"])) for c in insp.get_columns(table)),
                sorted(i["name"] or "" for i in insp.get_indexes(table)),
                sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"])
                    for f in insp.get_foreign_keys(table)
                ),
            )
            for table in insp.get_table_names()
            if table != "sqlite_sequence"
        }
    finally:
        engine.dispose()


@pytest.mark.sqlite_only
def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    migrated = tmp_path / "migrated.db"
    Database(str(migrated)).upgrade()
    modelled = tmp_path / "modelled.db"
    engine = create_engine(f"sqlite:///{modelled}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    assert _schema(migrated) == _schema(modelled)


def test_fresh_database_records_every_migration_and_default_stages(db: Database) -> None:
    assert db.applied_migrations() == [m.name for m in MIGRATIONS]
    with db.read() as uow:
        assert uow.stages.all()[0].name == "Prospecting"
        assert uow.settings.get("currency") == "BRL"


def _old_database(path: Path, upto: int) -> None:
    """A database as a crmcli that knew only the first `upto` migrations left it, with data."""
    db = Database(str(path))
    original = migrations.MIGRATIONS
    try:
        migrations.MIGRATIONS = original[:upto]
        import crmcli.store.db as dbmod

        dbmod.MIGRATIONS = original[:upto]
        db.upgrade()
        with db.write() as uow:
            stage = uow.stages.all()[0]
            conn = uow.conn
            conn.run(
                "INSERT INTO account (name, name_key, created_at) "
                "VALUES ('Acme', 'acme', '2026-01-02 03:04:05.000000')"
            )
            conn.run(
                "INSERT INTO lead (name, email, email_key, status, budget, search_key, "
                "created_at, updated_at) VALUES ('João', 'j@x.br', 'j@x.br', 'new', 1250000, "
                "'joão', '2026-01-02 03:04:05', '2026-01-02 03:04:05')"
            )
            conn.run(
                "INSERT INTO opportunity (name, name_key, account_id, stage_id, amount, "
                "probability, probability_manual, status, created_at, updated_at) VALUES "
                f"('Deal', 'deal', 1, {stage.id}, 99999, 10, 0, 'open', "
                "'2026-01-02 03:04:05', '2026-01-02 03:04:05')"
            )
            uow.commit()
    finally:
        migrations.MIGRATIONS = original
        dbmod.MIGRATIONS = original
        db.dispose()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("upto", range(1, len(MIGRATIONS) + 1))
def test_database_from_an_older_schema_upgrades_without_losing_data(
    tmp_path: Path, upto: int
) -> None:
    path = tmp_path / "old.db"
    _old_database(path, upto)
    db = Database(str(path))
    with db.read() as uow:
        lead = uow.leads.get(1)
        opp = uow.opps.get(1)
    assert (lead.name, str(lead.budget)) == ("João", "12500.00")
    assert (opp.name, str(opp.amount), opp.stage) == ("Deal", "999.99", "Prospecting")
    assert db.applied_migrations() == sorted(m.name for m in MIGRATIONS)


@pytest.mark.sqlite_only
def test_upgrade_takes_a_backup_and_applies_a_new_migration_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "crm.db"
    _old_database(path, len(MIGRATIONS))
    extra = Migration(
        "9999_test_column",
        lambda conn: conn.run("ALTER TABLE account ADD COLUMN tag VARCHAR"),
    )
    import crmcli.store.db as dbmod

    monkeypatch.setattr(migrations, "MIGRATIONS", (*MIGRATIONS, extra))
    monkeypatch.setattr(dbmod, "MIGRATIONS", (*MIGRATIONS, extra))
    notes: list[str] = []
    db = Database(str(path), notify=notes.append)
    with db.read() as uow:
        assert uow.leads.get(1).name == "João"
    assert "9999_test_column" in db.applied_migrations()
    backups = list(tmp_path.glob("crm.db.*.bak"))
    assert len(backups) == 1 and (backups[0].stat().st_mode & 0o777) == 0o600
    with sqlite3.connect(backups[0]) as old:
        assert old.execute("SELECT name FROM lead").fetchall() == [("João",)]
        columns = [r[1] for r in old.execute("PRAGMA table_info(account)")]
        assert "tag" not in columns
    assert any("backed up" in n for n in notes)
    db.dispose()
    assert Database(str(path)).upgrade() == []


@pytest.mark.sqlite_only
def test_newer_schema_is_refused_and_left_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    db = Database(str(path))
    db.upgrade()
    with db.write() as uow:
        uow.conn.run(
            "INSERT INTO crm_migrations (name, applied_at) VALUES ('9999_future', '2030-01-01')"
        )
        uow.commit()
    db.dispose()
    before = path.read_bytes()
    with pytest.raises(StorageError, match="newer crmcli"):
        Database(str(path)).open()
    assert path.read_bytes() == before


@pytest.mark.sqlite_only
def test_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE invoices (id INTEGER)")
    before = path.read_bytes()
    with pytest.raises(StorageError, match="not a crmcli one"):
        Database(str(path)).open()
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


@pytest.mark.sqlite_only
def test_non_sqlite_file_and_directory_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    with pytest.raises(StorageError, match="not a SQLite database"):
        Database(str(text)).open()
    assert text.read_text() == "not a database\n"
    with pytest.raises(StorageError, match="directory"):
        Database(str(tmp_path)).open()


@contextmanager
def written_before(
    backend_url: str, monkeypatch: pytest.MonkeyPatch, migration: str
) -> Iterator[UnitOfWork]:
    """A unit of work on `backend_url` as it was before `migration`: the migrations before it
    applied, the rows written in the block committed; then every migration is known again."""
    import crmcli.store.db as dbmod

    before = next(i for i, m in enumerate(MIGRATIONS) if m.name == migration)
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:before])
    monkeypatch.setattr(dbmod, "MIGRATIONS", MIGRATIONS[:before])
    old = Database(backend_url)
    try:
        old.upgrade()
        with old.write() as uow:
            yield uow
            uow.commit()
    finally:
        old.dispose()
        monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS)
        monkeypatch.setattr(dbmod, "MIGRATIONS", MIGRATIONS)


def test_upgrade_back_fills_the_keys_of_duplicates(
    backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0006 computes `phone_key` and `match_key` of rows stored before it, on either backend."""
    from crmcli.services.duplicates import find_duplicates

    at = "'2026-01-02 03:04:05'"
    leads = [
        ("João Silva", "+55 (11) 98765-4321", "Construtora Horizonte Ltda"),
        ("JOAO SILVA", "011 98765-4321", "CONSTRUTORA HORIZONTE S/A"),
        ("Ana", "(00) 0000-0000", None),
        ("Bia", "(00) 0000-0000", None),
    ]
    with written_before(backend_url, monkeypatch, "0006_duplicate_keys") as uow:
        for n, (name, phone, company) in enumerate(leads):
            uow.conn.run(
                "INSERT INTO lead (name, phone, company, status, search_key, created_at,"
                f" updated_at) VALUES (:n, :p, :c, 'new', 'x{n}', {at}, {at})",
                {"n": name, "p": phone, "c": company},
            )
        for name, phone in [("Acme Ltda", "55 21 3456 7890"), ("ACME S.A.", None)]:
            uow.conn.run(
                "INSERT INTO account (name, name_key, phone, created_at)"
                f" VALUES (:n, :k, :p, {at})",
                {"n": name, "k": name.lower(), "p": phone},
            )
        for name in ("Maria Conceição", "maria conceicao"):
            uow.conn.run(
                "INSERT INTO contact (name, name_key, account_id, type, created_at)"
                f" VALUES (:n, :k, 1, 'prospect', {at})",
                {"n": name, "k": name.lower()},
            )

    db = Database(backend_url)
    try:
        with db.read() as uow:
            keys = uow.conn.rows("SELECT id, phone_key, match_key FROM lead ORDER BY id")
            accounts = uow.conn.rows("SELECT id, phone_key, match_key FROM account ORDER BY id")
            contacts = uow.conn.rows("SELECT id, match_key FROM contact ORDER BY id")
        assert keys == [
            (1, "11987654321", "joao silva\x1fconstrutora horizonte"),
            (2, "11987654321", "joao silva\x1fconstrutora horizonte"),
            (3, None, None),  # a placeholder phone is no key
            (4, None, None),
        ]
        assert accounts == [(1, "2134567890", "acme"), (2, None, "acme")]
        assert contacts == [(1, "maria conceicao"), (2, "maria conceicao")]
        found = [(g.entity, g.ids, g.reasons) for g in find_duplicates(db)]
        assert found == [
            ("lead", (1, 2), ("phone", "name")),
            ("contact", (1, 2), ("name",)),
            ("account", (1, 2), ("name",)),
        ]
    finally:
        db.dispose()


def test_upgrade_folds_the_accents_out_of_every_matching_key(
    backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0007 rewrites the keys of accented names without their accents, on either backend; an
    account whose folded key another account already has keeps its old key (nothing merged)."""

    at = "'2026-01-02 03:04:05'"
    with written_before(backend_url, monkeypatch, "0007_fold_accents") as uow:
        for name, key in [("Açaí Ltda", "açaí ltda"), ("Acai", "acai"), ("AÇAÍ", "açaí")]:
            uow.conn.run(
                f"INSERT INTO account (name, name_key, created_at) VALUES (:n, :k, {at})",
                {"n": name, "k": key},
            )
        uow.conn.run(
            "INSERT INTO stage (name, name_key, position, probability, expected_days)"
            " VALUES ('Negociação final', 'negociação final', 9, 90, 7)"
        )
        uow.conn.run(
            "INSERT INTO lead (name, email, company, status, search_key, owner, owner_key,"
            f" created_at, updated_at) VALUES ('Maria Conceição', 'm@x.br', 'Açaí', 'new',"
            f" 'maria conceição\x1fm@x.br\x1façaí', 'João', 'joão', {at}, {at})"
        )

    db = Database(backend_url)
    try:
        with db.read() as uow:
            accounts = uow.conn.rows("SELECT name, name_key FROM account ORDER BY id")
            stage = uow.conn.scalar("SELECT name_key FROM stage WHERE position = 9")
            lead = uow.conn.rows("SELECT search_key, owner_key FROM lead")
            found = uow.stages.find("negociacao FINAL")
        assert accounts == [("Açaí Ltda", "acai ltda"), ("Acai", "acai"), ("AÇAÍ", "açaí")]
        assert stage == "negociacao final"
        # 0008 widened the search key: name, e-mail, company, phone, tags, notes, phone digits
        assert lead == [("maria conceicao\x1fm@x.br\x1facai\x1f\x1f\x1f\x1f", "joao")]
        assert found.name == "Negociação final"
        assert "0007_fold_accents" in db.applied_migrations()
    finally:
        db.dispose()


def test_upgrade_marks_notes_done_and_back_fills_the_search_keys(
    backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0008 marks every pending note done (when it was written) and gives every searched row
    its search key, on either backend; other pending activities stay pending."""
    at = "'2026-01-02 03:04:05'"
    with written_before(backend_url, monkeypatch, "0008_day_work") as uow:
        uow.conn.run(
            "INSERT INTO account (name, name_key, phone, created_at)"
            f" VALUES ('Açaí Ltda', 'acai ltda', '+55 11 98765-4321', {at})"
        )
        for kind in ("note", "call"):
            uow.conn.run(
                "INSERT INTO activity (type, subject, account_id, due_has_time, done,"
                f" created_at, updated_at) VALUES (:t, 'Sem verba até março', 1, FALSE, FALSE,"
                f" {at}, {at})",
                {"t": kind},
            )

    db = Database(backend_url)
    try:
        with db.read() as uow:
            done = uow.conn.rows("SELECT type, done, done_at FROM activity ORDER BY id")
            account = uow.conn.scalar("SELECT search_key FROM account")
            subjects = uow.conn.rows("SELECT search_key FROM activity ORDER BY id")
        assert [(t, bool(d)) for t, d, _ in done] == [("note", True), ("call", False)]
        assert str(done[0][2]).startswith("2026-01-02 03:04:05")
        assert account == "acai ltda\x1f\x1f+55 11 98765-4321\x1f\x1f\x1f\x1f11987654321"
        assert subjects == [("sem verba ate marco\x1f",)] * 2
        assert "0008_day_work" in db.applied_migrations()
    finally:
        db.dispose()


def test_upgrade_back_fills_the_stage_stays_from_the_history(
    backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0009 stores every completed stay the history holds, on either backend; `report
    velocity` then reads them: means, and medians of an even and an odd number of stays."""
    from crmcli.services.reports import velocity_report

    # (deal, [(day, stage id or None, status)]): stage 1 Prospecting, 2 Qualification
    histories = [
        (1, [(1, 1, "open"), (2, 2, "open"), (4, 2, "open"), (5, None, "won")]),
        (2, [(1, 1, "open"), (3, 1, "open"), (3, 2, "open"), (13, 2, "lost")]),
        (3, [(1, 1, "open"), (4, 1, "lost")]),
        (4, [(1, 1, "open"), (11, 2, "open"), (12, 2, "lost")]),
        (5, [(1, 1, "open")]),  # still in its first stage: no stay has ended
    ]
    with written_before(backend_url, monkeypatch, "0009_stage_stays") as uow:
        uow.conn.run(
            "INSERT INTO account (name, name_key, created_at)"
            " VALUES ('Acme', 'acme', '2026-01-01 00:00:00')"
        )
        for deal, rows in histories:
            uow.conn.run(
                "INSERT INTO opportunity (id, name, name_key, account_id, stage_id, amount,"
                " probability, probability_manual, status, created_at, updated_at) VALUES"
                " (:id, :n, :n, 1, 1, 100, 10, FALSE, 'open', '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')",
                {"id": deal, "n": f"deal {deal}"},
            )
            for day, stage, status in rows:
                uow.conn.run(
                    "INSERT INTO opportunity_history (opportunity_id, stage_id, stage_name,"
                    " status, probability, at) VALUES (:o, :s, :name, :st, 10, :at)",
                    {
                        "o": deal,
                        "s": stage,
                        "name": None if stage is None else f"stage {stage}",
                        "st": status,
                        "at": f"2026-01-{day:02d} 00:00:00",
                    },
                )

    db = Database(backend_url)
    try:
        with db.read() as uow:
            stays = uow.conn.rows(
                "SELECT opportunity_id, stage_id, seconds FROM stage_stay ORDER BY 1, 2"
            )
        day = 86_400
        assert [tuple(s) for s in stays] == [
            (1, 1, day),
            (1, 2, 3 * day),  # the probability-only row on day 4 is no change
            (2, 1, 2 * day),
            (2, 2, 10 * day),
            (3, 1, 3 * day),
            (4, 1, 10 * day),
            (4, 2, day),
        ]
        prospecting, qualification = velocity_report(db).stages[:2]
        assert (prospecting.stays, str(prospecting.average_days)) == (4, "4.0")
        assert str(prospecting.median_days) == "2.5"  # (2 + 3) / 2
        assert (qualification.stays, str(qualification.median_days)) == (3, "3.0")
        assert str(qualification.average_days) == "4.7"
        assert "0009_stage_stays" in db.applied_migrations()
    finally:
        db.dispose()


def test_upgrade_back_fills_each_deals_latest_activity(
    backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0010 stores each deal's latest activity (done_at, else created_at), on either backend;
    a deal without activities keeps none, and activities of other records do not count."""
    with written_before(backend_url, monkeypatch, "0010_last_activity") as uow:
        uow.conn.run(
            "INSERT INTO account (name, name_key, created_at)"
            " VALUES ('Acme', 'acme', '2026-01-01 00:00:00')"
        )
        for deal in (1, 2):
            uow.conn.run(
                "INSERT INTO opportunity (id, name, name_key, account_id, stage_id, amount,"
                " probability, probability_manual, status, created_at, updated_at) VALUES"
                " (:id, :n, :n, 1, 1, 100, 10, FALSE, 'open', '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')",
                {"id": deal, "n": f"deal {deal}"},
            )
        for opp, account, created, done_at in [
            (1, None, "2026-01-05 00:00:00", "2026-01-09 00:00:00"),  # done later: counts
            (1, None, "2026-01-07 00:00:00", None),  # pending: its creation
            (None, 1, "2026-02-01 00:00:00", None),  # the account's: not the deal's
        ]:
            uow.conn.run(
                "INSERT INTO activity (type, subject, opportunity_id, account_id, due_has_time,"
                " done, done_at, created_at, updated_at) VALUES ('call', 'x', :o, :a, FALSE,"
                " :done, :done_at, :c, :c)",
                {
                    "o": opp,
                    "a": account,
                    "done": done_at is not None,
                    "done_at": done_at,
                    "c": created,
                },
            )

    db = Database(backend_url)
    try:
        with db.read() as uow:
            stored = uow.conn.rows("SELECT id, last_activity_at FROM opportunity ORDER BY id")
        assert [(i, None if at is None else str(at)[:19]) for i, at in stored] == [
            (1, "2026-01-09 00:00:00"),
            (2, None),
        ]
        assert "0010_last_activity" in db.applied_migrations()
    finally:
        db.dispose()
