"""Export and import services: a full dump restored into a fresh database gives the same dump."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crmcli.cli.export import encode
from crmcli.errors import Duplicate, ValidationError
from crmcli.services import accounts, leads, opportunities, stages
from crmcli.services.export import export_data, import_data
from crmcli.services.leads import ConvertOptions
from crmcli.store import dump
from crmcli.store.db import Database


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Database]:
    """A second, empty database (another currency) to restore into."""
    database = Database(str(tmp_path / "restored.db"), currency="USD")
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
    with fresh.read() as repo:
        assert repo.stage_find("NEGOCIAÇÃO E DET").name == "Negociação e detalhamento"
        assert repo.lead_by_email("ANA@X.BR") is not None
        assert repo.account_find("ação & cia ltda") is not None
        assert [lead.name for lead in repo.lead_list(search="pão quente")] == ["Ana Lúcia"]
        assert [lead.name for lead in repo.lead_list(source="EXPO")] == ["Ana Lúcia"]
        assert len(repo.opp_list(owner="TESTER")) == 3
    with pytest.raises(Duplicate, match=r"ana@x\.br"):
        leads.add_lead(fresh, "Other Ana", email="ana@x.br")
    with pytest.raises(Duplicate):
        accounts.add_account(fresh, "AÇÃO & CIA LTDA")
    with fresh.read() as repo:
        assert repo.meta_get("currency") == "BRL"


def test_a_dump_holds_no_derived_key_columns() -> None:
    for entity in dump.TABLES:
        names = [f.name for f in dump.fields(entity)]
        assert not [n for n in names if n.endswith("_key")], entity
        assert names[0] == "id"
        derived = set(dump.DERIVED[entity][0])
        table_keys = {c.name for c in dump.TABLES[entity].columns if c.name.endswith("_key")}
        assert derived == table_keys, entity


def test_text_columns_are_only_free_text() -> None:
    kinds = {f.name: f.is_text for f in dump.fields("opportunities")}
    assert kinds["name"] and kinds["owner"] and kinds["lost_reason"]
    assert not any(kinds[c] for c in ("id", "amount", "probability", "expected_close", "closed_at"))


def test_export_of_some_entities(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _populate(db, monkeypatch)
    document = export_data(db, ["leads", "stages"])
    assert list(document) == ["format_version", "currency", "stages", "leads"]
    with pytest.raises(ValidationError, match="unknown entity"):
        export_data(db, ["activities"])


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


def test_a_document_that_is_not_an_object_is_refused(fresh: Database) -> None:
    with pytest.raises(ValidationError, match="JSON object"):
        import_data(fresh, [1, 2])
