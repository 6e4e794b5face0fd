"""Export and import services: a full dump restored into a fresh database gives the same dump."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crmcli.cli.export import encode
from crmcli.errors import Duplicate, ValidationError
from crmcli.services import accounts, activities, leads, opportunities, stages
from crmcli.services.export import export_data, import_data
from crmcli.services.leads import ConvertOptions
from crmcli.store.db import Database
from crmcli.store.migrations import KEPT_BY_TRIGGERS
from crmcli.store.repos import dump
from crmcli.store.schema import COLUMNS, derived_keys


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Database]:
    """A second, empty database (another currency) to restore into."""
    database = Database(str(tmp_path / "restored.db"), currency="USD")
    yield database
    database.dispose()


@pytest.fixture
def twin(new_database_url: Callable[[], str]) -> Iterator[Database]:
    """A second, empty database on this test's backend (`fresh` is always a SQLite file)."""
    database = Database(new_database_url(), currency="USD")
    yield database
    database.dispose()


def _at(monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    monkeypatch.setenv("CRM_NOW", moment)


def _populate(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _at(monkeypatch, "2026-11-02T09:00:00")
    stages.rename_stage(db, "Negotiation", "Negociação e detalhamento")
    stages.add_stage(db, "Jurídico", probability=85, after="Negociação e detalhamento")
    stages.remove_stage(db, "Needs analysis")
    accounts.add_account(db, "Ação & Cia Ltda", industry="=HYPERLINK(1)", website="a.example")
    accounts.add_contact(db, "Zoë Ångström", account="Ação & Cia Ltda", email="zoe@acao.example")
    leads.add_lead(db, "Ana Lúcia", email="ana@x.br", company="Padaria Pão Quente", source="Expo")
    leads.add_lead(db, "Bob", email="bob@y.example", budget=Decimal("0.01"))
    leads.add_lead(db, "Carla", company="-5 units", notes="@mention\nline two")
    third = leads.add_lead(db, "Dora", email="dora@z.example")
    leads.mark_contacted(db, 1)
    _at(monkeypatch, "2026-11-03T10:30:15.250000")
    leads.qualify_lead(db, 1, budget=Decimal("9999999.99"), timeline=date(2027, 3, 31))
    leads.convert_lead(db, 1, ConvertOptions(opportunity="Pão Quente – 40 licenças"))
    leads.disqualify_lead(db, 2, "sem orçamento")
    leads.archive_lead(db, 2)
    leads.archive_lead(db, third.id)
    _at(monkeypatch, "2026-11-10T14:00:00")
    opportunities.add_opportunity(
        db, "Ação – renovação", account="Ação & Cia Ltda", amount=Decimal("0.01"), probability=33
    )
    opportunities.advance_opportunity(db, "1", to="NEGOCIAÇÃO E DETALHAMENTO")
    opportunities.advance_opportunity(db, "2")
    _at(monkeypatch, "2026-11-20T08:00:00")
    opportunities.win_opportunity(db, "1", amount=Decimal("12500.00"))
    opportunities.lose_opportunity(db, "2", reason="Preço", competitor="Concorrente S.A.")
    opportunities.reopen_opportunity(db, "2")
    opportunities.lose_opportunity(db, "2", reason="Timing")
    opportunities.add_opportunity(db, "Third deal", account="Novo Cliente", stage="Jurídico")
    _add_activities(db, monkeypatch)


def _add_activities(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """One activity per link kind: date-only and timed dues (one with seconds), none, done."""
    _at(monkeypatch, "2026-12-01T08:15:00")
    activities.add_activity(db, "Ligar para a Carla", type_="call", lead=3, due="2026-12-03")
    activities.add_activity(
        db,
        "=Visita técnica",
        type_="meeting",
        contact="Zoë Ångström",
        due=(datetime(2026, 12, 15, 9, 30, 15), True),
        owner="Zoë Ö",
        notes="@levar\nprotótipo",
    )
    activities.add_activity(db, "Contrato assinado", type_="note", account="Novo Cliente")
    activities.add_activity(db, "Enviar proposta", type_="task", opp="3", due="2026-12-02 17:00")
    activities.add_activity(db, "Follow-up", type_="email", opp="2", due="2026-12-20", owner="")
    _at(monkeypatch, "2026-12-02T18:00:00.500000")
    activities.complete_activity(db, 4)
    activities.complete_activity(db, 1)


def test_round_trip_gives_the_same_export(
    db: Database, fresh: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db, monkeypatch)
    first = export_data(db)
    counts = import_data(fresh, json.loads(json.dumps(encode(first))))
    assert counts == {
        "stages": 5,
        "accounts": 3,
        "contacts": 2,
        "leads": 4,
        "opportunities": 3,
        "history": sum(len(o["history"]) for o in first["opportunities"]),
        "activities": 5,
    }
    assert export_data(fresh) == first
    assert first["currency"] == "BRL"
    assert [s["name"] for s in first["stages"]][-1] == "Jurídico"
    opp = first["opportunities"][0]
    assert opp["amount"] == Decimal("12500.00") and opp["stage"] == "Negociação e detalhamento"
    assert [h["status"] for h in first["opportunities"][1]["history"]] == [
        "open",
        "open",
        "lost",
        "open",
        "lost",
    ]
    sub_second = first["leads"][0]["updated_at"]
    assert sub_second == datetime(2026, 11, 3, 10, 30, 15, 250000)
    acts = first["activities"]
    assert [a["id"] for a in acts] == [1, 2, 3, 4, 5]
    assert [
        (a["lead_id"], a["contact_id"], a["account_id"], a["opportunity_id"]) for a in acts
    ] == [
        (3, None, None, None),
        (None, 1, None, None),
        (None, None, 3, None),
        (None, None, None, 3),
        (None, None, None, 2),
    ]
    assert [(a["done"], a["done_at"]) for a in acts][:3] == [
        (True, datetime(2026, 12, 2, 18, 0, 0, 500000)),
        (False, None),
        (True, datetime(2026, 12, 1, 8, 15)),  # a note is born done
    ]
    assert [(a["due"], a["due_has_time"]) for a in acts] == [
        (datetime(2026, 12, 3), False),
        (datetime(2026, 12, 15, 9, 30, 15), True),
        (None, False),
        (datetime(2026, 12, 2, 17, 0), True),
        (datetime(2026, 12, 20), False),
    ]


def test_an_activity_due_is_written_as_local_time_and_kept_exactly(
    db: Database, fresh: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db, monkeypatch)
    document = json.loads(json.dumps(encode(export_data(db))))
    acts = document["activities"]
    assert [a["due"] for a in acts] == [
        "2026-12-03T00:00:00",
        "2026-12-15T09:30:15",
        None,
        "2026-12-02T17:00:00",
        "2026-12-20T00:00:00",
    ]
    assert acts[0]["done_at"] == "2026-12-02T18:00:00.500000Z"
    assert acts[1]["created_at"] == "2026-12-01T08:15:00Z"
    assert "owner_key" not in acts[0]
    import_data(fresh, document)
    restored = activities.get_activity(fresh, 2)
    assert restored.due == datetime(2026, 12, 15, 9, 30, 15) and restored.due_has_time
    assert restored.type == "meeting" and restored.owner == "Zoë Ö"


def test_domain_values_round_trip_without_json(
    db: Database, fresh: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db, monkeypatch)
    document = export_data(db)
    import_data(fresh, copy.deepcopy(document))
    assert export_data(fresh) == document


def test_keys_are_recomputed_on_restore(
    db: Database, fresh: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db, monkeypatch)
    import_data(fresh, export_data(db))
    with fresh.read() as uow:
        assert uow.stages.find("NEGOCIAÇÃO E DET").name == "Negociação e detalhamento"
        assert uow.leads.by_email("ANA@X.BR") is not None
        assert uow.accounts.find("ação & cia ltda") is not None
        assert [lead.name for lead in uow.leads.list(search="pão quente")] == ["Ana Lúcia"]
        assert [lead.name for lead in uow.leads.list(source="EXPO")] == ["Ana Lúcia"]
        assert len(uow.opps.list(owner="TESTER")) == 3
        now = datetime(2026, 12, 10)
        assert [a.id for a in uow.activities.list(now=now, owner="ZOË ö")] == [2]
        assert len(uow.activities.list(now=now, include_done=True, owner="tester")) == 3
        assert [o.id for o in uow.opps.without_next_step()] == [3]  # its task is done
    with pytest.raises(Duplicate, match=r"ana@x\.br"):
        leads.add_lead(fresh, "Other Ana", email="ana@x.br")
    with pytest.raises(Duplicate):
        accounts.add_account(fresh, "AÇÃO & CIA LTDA")
    with fresh.read() as uow:
        assert uow.settings.get("currency") == "BRL"


def test_a_dump_holds_no_derived_key_columns() -> None:
    for entity, table in dump.TABLES.items():
        names = [f.name for f in dump.fields(entity)]
        assert not [n for n in names if n.endswith("_key")], entity
        assert names[0] == "id"
        row = {name: "x" for name in names}  # a dumped row: what a restore derives keys from
        table_keys = {c for c in COLUMNS[table] if c.endswith("_key")}
        assert set(derived_keys(table, row)) == table_keys, entity


def test_the_nullable_fields_are_the_schema_s(db: Database) -> None:
    with db.read() as uow:
        for entity, table in dump.TABLES.items():
            if uow.dialect == "sqlite":
                stored = {r[1]: not r[3] for r in uow.conn.rows(f"PRAGMA table_info({table})")}
            else:
                stored = {
                    name: nullable == "YES"
                    for name, nullable in uow.conn.rows(
                        "SELECT column_name, is_nullable FROM information_schema.columns"
                        " WHERE table_schema = current_schema() AND table_name = :t",
                        {"t": table},
                    )
                }
            dumped = {f.name: f.nullable for f in dump.fields(entity)}
            derived = KEPT_BY_TRIGGERS.get(table, ())
            kept = {c: n for c, n in stored.items() if not c.endswith("_key") and c not in derived}
            assert dumped == kept, entity


def test_a_restore_is_journaled_in_one_change_set(
    db: Database, twin: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db, monkeypatch)
    document = export_data(db)
    import_data(twin, document)
    with twin.read() as uow:
        assert uow.conn.scalar("SELECT COUNT(*) FROM change_set") == 1
        changes = uow.conn.rows("SELECT entity, op, record_id, last_id FROM change ORDER BY id")
    # the stages a new database starts with, replaced; then every table's ids, as ranges
    assert changes[:5] == [("stage", "delete", i, None) for i in range(1, 6)]
    inserted = {(e, first, last) for e, op, first, last in changes[5:] if op == "insert"}
    assert len(inserted) == len(changes) - 5
    history = [h for o in document["opportunities"] for h in o["history"]]
    for entity, records in [
        ("stage", document["stages"]),
        ("account", document["accounts"]),
        ("contact", document["contacts"]),
        ("lead", document["leads"]),
        ("opportunity", document["opportunities"]),
        ("history", history),
        ("activity", document["activities"]),
    ]:
        ids = {i for e, first, last in inserted if e == entity for i in range(first, last + 1)}
        assert ids == {r["id"] for r in records}, entity


def test_dumps_and_restores_go_page_by_page(
    db: Database, twin: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dump, "CHUNK", 2)  # every table spans several pages and inserts
    _populate(db, monkeypatch)
    first = export_data(db)
    assert [s["id"] for s in first["stages"]] == [1, 2, 4, 5, 6]
    assert len(first["opportunities"]) > 2  # the deals and their history span pages too
    assert sum(len(o["history"]) for o in first["opportunities"][2:]) > 0
    monkeypatch.setattr(dump, "CHUNK", 1000)
    assert export_data(db) == first  # the same document as when it is read in one page
    monkeypatch.setattr(dump, "CHUNK", 2)
    import_data(twin, first)
    assert export_data(twin) == first
    assert stages.add_stage(twin, "Next", probability=5).id == 7  # ids go on above them
    assert leads.add_lead(twin, "Next").id == 5


def test_text_columns_are_only_free_text() -> None:
    kinds = {f.name: f.is_text for f in dump.fields("opportunities")}
    assert kinds["name"] and kinds["owner"] and kinds["lost_reason"]
    assert not any(kinds[c] for c in ("id", "amount", "probability", "expected_close", "closed_at"))


def test_export_of_some_entities(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _populate(db, monkeypatch)
    document = export_data(db, ["activities", "leads", "stages"])
    assert list(document) == ["format_version", "currency", "stages", "leads", "activities"]
    assert len(document["activities"]) == 5
    with pytest.raises(ValidationError, match="unknown entity"):
        export_data(db, ["history"])


def test_an_export_older_than_activities_restores_none(
    db: Database, fresh: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db, monkeypatch)
    document = json.loads(json.dumps(encode(export_data(db))))
    del document["activities"]
    counts = import_data(fresh, document)
    assert counts["activities"] == 0 and counts["leads"] == 4
    assert export_data(fresh)["activities"] == []


def test_import_into_a_database_with_records_is_refused_and_changes_nothing(
    db: Database, fresh: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db, monkeypatch)
    document = export_data(db)
    leads.add_lead(fresh, "Already here")
    stages.rename_stage(fresh, "Prospecting", "Prospecção")
    before = export_data(fresh)
    with pytest.raises(ValidationError, match=r"import needs an empty database.*1 leads"):
        import_data(fresh, document)
    assert export_data(fresh) == before


def test_activities_count_in_the_emptiness_check(
    db: Database, fresh: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db, monkeypatch)
    document = export_data(db)
    accounts.add_account(fresh, "Somewhere")
    activities.add_activity(fresh, "Ligar", type_="call", account="Somewhere")
    before = export_data(fresh)
    with pytest.raises(ValidationError, match=r"this one has 1 accounts, 1 activities \("):
        import_data(fresh, document)
    assert export_data(fresh) == before


def _document(db: Database, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    _populate(db, monkeypatch)
    data: dict[str, Any] = json.loads(json.dumps(encode(export_data(db))))
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format_version=2), "unknown format_version 2"),
        (lambda d: d.pop("format_version"), "no 'format_version'"),
        (lambda d: d.pop("leads"), "no 'leads'"),
        (lambda d: d.update(currency="reais"), "currency"),
        (lambda d: d.update(accounts={}), "accounts: must be a list"),
        (lambda d: d["leads"][1].update(budget="12.345"), r"leads\[1\]\.budget"),
        (lambda d: d["leads"][1].update(budget=12.5), r"leads\[1\]\.budget"),
        (lambda d: d["leads"][0].update(status="hot"), r"leads\[0\]\.status: \"hot\""),
        (lambda d: d["leads"][2].pop("email"), r"leads\[2\]: missing 'email'"),
        (lambda d: d["leads"][2].update(colour="red"), r"leads\[2\]: unknown key 'colour'"),
        (lambda d: d["stages"][0].update(probability="10"), r"stages\[0\]\.probability"),
        (lambda d: d["accounts"][0].update(name=None), r"accounts\[0\]\.name: must not be null"),
        (lambda d: d["contacts"][0].update(account_id=99), r"contacts\[0\]\.account_id: 99"),
        (lambda d: d["stages"][1].update(id=1), r"stages\[1\]\.id: 1 appears twice"),
        (
            lambda d: d["opportunities"][1]["history"][2].update(at="yesterday"),
            r"opportunities\[1\]\.history\[2\]\.at",
        ),
        (lambda d: d["opportunities"][0].pop("history"), r"opportunities\[0\]: missing 'history'"),
        (lambda d: d["leads"].__setitem__(0, "Ana"), r"leads\[0\]: must be an object"),
        (lambda d: d.update(activities=None), "activities: must be a list"),
        (lambda d: d["activities"][1].update(type="lunch"), r"activities\[1\]\.type: \"lunch\""),
        (
            lambda d: d["activities"][1].update(account_id=3),
            r"activities\[1\]: an activity has exactly one of .*given: contact_id and account_id",
        ),
        (
            lambda d: d["activities"][2].update(account_id=None),
            r"activities\[2\]: an activity has exactly one of .*given: none",
        ),
        (
            lambda d: d["activities"][0].update(lead_id=99),
            r"activities\[0\]\.lead_id: 99 is not the id of one of the leads",
        ),
        (
            lambda d: d["activities"][4].update(opportunity_id=9),
            r"activities\[4\]\.opportunity_id: 9 is not the id",
        ),
        (
            lambda d: d["activities"][1].update(due="2026-12-15T09:30:15Z"),
            r"activities\[1\]\.due: .* is not a local time",
        ),
        (
            lambda d: d["activities"][1].update(due="2026-12-15T09:30:15-03:00"),
            r"activities\[1\]\.due",
        ),
        (lambda d: d["activities"][1].update(due="2026-12-15"), r"activities\[1\]\.due"),
        (lambda d: d["activities"][0].update(done_at="ontem"), r"activities\[0\]\.done_at"),
        (lambda d: d["activities"][0].update(done="yes"), r"activities\[0\]\.done"),
        (lambda d: d["activities"][3].pop("updated_at"), r"activities\[3\]: missing 'updated_at'"),
        (lambda d: d["activities"][3].update(owner_key="x"), r"unknown key 'owner_key'"),
        (lambda d: d["activities"][1].update(id=2.0), r"activities\[1\]\.id"),
        (lambda d: d["activities"][1].update(id=1), r"activities\[1\]\.id: 1 appears twice"),
    ],
)
def test_malformed_documents_are_refused_naming_what_is_wrong(
    db: Database,
    fresh: Database,
    monkeypatch: pytest.MonkeyPatch,
    change: Any,
    message: str,
) -> None:
    document = _document(db, monkeypatch)
    change(document)
    with pytest.raises(ValidationError, match=message):
        import_data(fresh, document)
    assert fresh.count("lead") == 0 and fresh.count("stage") == 5
    assert export_data(fresh, ["activities"])["activities"] == []


def test_a_document_that_is_not_an_object_is_refused(fresh: Database) -> None:
    with pytest.raises(ValidationError, match="JSON object"):
        import_data(fresh, [1, 2])
