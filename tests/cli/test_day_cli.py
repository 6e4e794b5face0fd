"""A salesperson's day through the CLI: tags, search, logging what happened, who to call."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def morning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", "2026-12-07T10:00")


def _json(crm: Run, *args: str) -> Any:
    return json.loads(crm(*args, "--json").stdout)


# -- tags --------------------------------------------------------------------------------------


def test_tags_on_every_kind_of_record_through_add_edit_list_show_and_csv(crm: Run) -> None:
    lead = _json(crm, "lead", "add", "Maria Souza", "--tag", "Feira SP", "--tag", "vip; Quente")
    assert lead["tags"] == ["Feira SP", "vip", "Quente"]
    crm("lead", "add", "José", "--tag", "feira sp", "-q")  # the same tag, by its key
    crm("lead", "add", "Ana", "-q")
    edited = _json(crm, "lead", "edit", "1", "--untag", "VIP", "--tag", "novo", "--tag", "quente")
    assert edited["tags"] == ["Feira SP", "Quente", "novo"]
    assert [x["id"] for x in _json(crm, "lead", "list", "--tag", "FEIRA sp")] == [1, 2]
    assert [x["id"] for x in _json(crm, "lead", "list", "--tag", "feira sp", "--tag", "novo")] == [
        1
    ]
    assert _json(crm, "lead", "list", "--tag", "nenhuma") == []
    assert _json(crm, "lead", "show", "3")["tags"] == []
    shown = crm("lead", "show", "1").stdout
    assert "Feira SP, Quente, novo" in shown
    rows = list(csv.DictReader(io.StringIO(crm("lead", "list", "--csv").stdout)))
    assert [r["tags"] for r in rows] == ["Feira SP, Quente, novo", "feira sp", ""]

    account = _json(crm, "account", "add", "Açaí Ltda", "--tag", "cliente")
    assert account["tags"] == ["cliente"]
    contact = _json(crm, "contact", "add", "Pedro", "--account", "1", "--tag", "decisor")
    assert contact["tags"] == ["decisor"]
    opp = _json(crm, "opp", "add", "Site", "--account", "1", "--tag", "Q1", "--tag", "feira")
    assert opp["tags"] == ["Q1", "feira"]
    assert _json(crm, "opp", "edit", "1", "--untag", "q1")["tags"] == ["feira"]
    assert _json(crm, "contact", "edit", "Pedro", "--tag", "vip")["tags"] == ["decisor", "vip"]
    assert _json(crm, "account", "edit", "1", "--untag", "cliente")["tags"] == []
    assert [o["id"] for o in _json(crm, "opp", "list", "--tag", "FEIRA")] == [1]
    assert [c["id"] for c in _json(crm, "contact", "list", "--tag", "vip")] == [1]
    assert _json(crm, "account", "list", "--tag", "cliente") == []


def test_a_tag_already_there_changes_nothing_and_records_no_change(crm: Run) -> None:
    crm("lead", "add", "Maria", "--tag", "vip", "-q")
    before = _json(crm, "history")
    assert _json(crm, "lead", "edit", "1", "--tag", "VIP")["tags"] == ["vip"]
    assert _json(crm, "history") == before


def test_a_too_long_tag_is_refused_naming_the_field(crm: Run) -> None:
    result = crm("lead", "add", "Maria", "--tag", "x" * 41, code=1)
    assert result.stderr.startswith("crm: error: tags: ")
    assert _json(crm, "lead", "list") == []


def test_undo_takes_a_tag_back(crm: Run) -> None:
    crm("lead", "add", "Maria", "-q")
    crm("lead", "edit", "1", "--tag", "feira", "-q")
    assert [x["id"] for x in _json(crm, "lead", "list", "--tag", "feira")] == [1]
    crm("undo", "--yes")
    assert _json(crm, "lead", "list", "--tag", "feira") == []


# -- search ------------------------------------------------------------------------------------


@pytest.fixture
def people(crm: Run) -> None:
    crm("lead", "add", "Maria Souza", "--email", "maria@acai.com.br", "--company", "Açaí", "-q")
    crm("lead", "add", "João Maria", "--phone", "+55 11 98765-4321", "-q")
    crm("lead", "add", "Zé", "--notes", "conhece a Maria da feira", "--tag", "Feira SP", "-q")
    crm("account", "add", "Açaí do Norte", "--tag", "cliente", "-q")
    crm("contact", "add", "Maria", "--account", "1", "--email", "m@norte.com", "-q")
    crm("opp", "add", "Site novo", "--account", "1", "--tag", "feira", "-q")
    crm("activity", "add", "Ligar para a Maria", "--type", "call", "--opp", "1", "-q")


def test_search_ranks_the_exact_name_then_names_then_other_fields(crm: Run, people: None) -> None:
    hits = _json(crm, "search", "maria")
    assert [(h["type"], h["id"]) for h in hits] == [
        ("contact", 1),  # the whole name is the search
        ("lead", 1),  # the name begins with it
        ("lead", 2),
        ("activity", 1),
        ("lead", 3),  # only in the notes
    ]
    assert set(hits[0]) == {"type", "id", "name", "snippet"}
    assert hits[-1]["snippet"] == "conhece a Maria da feira"


def test_search_ignores_case_and_accents_and_needs_every_word(crm: Run, people: None) -> None:
    assert [(h["type"], h["id"]) for h in _json(crm, "search", "ACAI")] == [
        ("account", 1),
        ("lead", 1),
    ]
    assert [(h["type"], h["id"]) for h in _json(crm, "search", "maria açaí")] == [("lead", 1)]
    assert [(h["type"], h["id"]) for h in _json(crm, "search", "feira", "--type", "opp")] == [
        ("opp", 1)
    ]
    assert [h["id"] for h in _json(crm, "search", "feira sp")] == [3]  # the tag


def test_search_finds_phones_whatever_their_formatting(crm: Run, people: None) -> None:
    for typed in ("98765-4321", "987654321", "11 98765"):
        assert [(h["type"], h["id"]) for h in _json(crm, "search", typed)] == [("lead", 2)], typed


def test_search_limit_says_how_many_more(crm: Run, people: None) -> None:
    result = crm("search", "maria", "--limit", "2")
    assert "3 more matches" in result.stderr
    assert len(json.loads(crm("search", "maria", "--limit", "2", "--json").stdout)) == 2
    assert crm("search", "nada", "--json").stdout.strip() == "[]"
    assert crm("search", "nada").stdout == "Nothing matches.\n"
    assert crm("search", "  ", code=1).stderr.startswith("crm: error: search: ")


def test_search_follows_edits_and_deletes(crm: Run, people: None) -> None:
    crm("lead", "edit", "3", "--notes", "nada a ver", "-q")
    assert 3 not in [h["id"] for h in _json(crm, "search", "maria", "--type", "lead")]
    crm("lead", "delete", "1", "--yes")
    assert [h["id"] for h in _json(crm, "search", "maria", "--type", "lead")] == [2]
    crm("undo", "--yes")
    assert [h["id"] for h in _json(crm, "search", "maria", "--type", "lead")] == [1, 2]


# -- logging, notes, who to call --------------------------------------------------------------


@pytest.fixture
def deal(crm: Run) -> None:
    crm("account", "add", "Açaí do Norte", "--phone", "(92) 3333-4444", "-q")
    crm("contact", "add", "Pedro", "--account", "1", "--phone", "+55 92 98888-7777", "-q")
    crm("contact", "add", "Rita", "--account", "1", "--email", "rita@norte.com", "-q")
    crm("opp", "add", "Site novo", "--account", "1", "--contact", "Pedro", "-q")
    crm("lead", "add", "Maria", "--phone", "11 91234-5678", "--email", "m@x.com", "-q")


def test_activity_log_records_a_done_activity_at_the_time_given(crm: Run, deal: None) -> None:
    logged = _json(crm, "activity", "log", "Falou com a Rita", "--type", "call", "--opp", "1",
                   "--contact", "Rita", "--at", "08:30")  # fmt: skip
    assert logged["done"] is True
    assert logged["done_at"] == "2026-12-07T08:30:00Z"
    assert logged["due"] == "2026-12-07T08:30"
    assert (logged["opportunity_id"], logged["person_id"]) == (1, 2)
    now = _json(crm, "activity", "log", "Reunião", "--type", "meeting", "--lead", "m@x.com")
    assert now["done_at"] == "2026-12-07T10:00:00Z"
    late = crm("activity", "log", "Amanhã", "--type", "call", "--lead", "1", "--at", "tomorrow",
               code=1)  # fmt: skip
    assert late.stderr.startswith("crm: error: at: ")
    assert "in the future" in late.stderr


def test_a_note_is_born_done_and_is_no_next_step(crm: Run, deal: None) -> None:
    note = _json(crm, "activity", "add", "Cliente sem verba até março", "--type", "nota",
                 "--opp", "1")  # fmt: skip
    assert note["done"] is True and note["done_at"] == "2026-12-07T10:00:00Z"
    day = _json(crm, "agenda")
    assert [d["id"] for d in day["no_next_step"]] == [1]  # the note is no next step
    crm("activity", "add", "Ligar", "--type", "call", "--opp", "1", "--due", "today", "-q")
    assert _json(crm, "agenda")["no_next_step"] == []


def test_agenda_and_activity_list_say_whom_to_call(crm: Run, deal: None) -> None:
    crm("activity", "add", "Proposta", "--type", "call", "--opp", "1", "--due", "today", "-q")
    crm("activity", "add", "Visita", "--type", "meeting", "--account", "1", "--contact", "Rita",
        "--due", "-1d", "-q")  # fmt: skip
    crm("activity", "add", "Retornar", "--type", "call", "--lead", "1", "--due", "today", "-q")
    day = _json(crm, "agenda")
    assert [a["for"] for a in day["overdue"]] == [
        {"type": "account", "id": 1, "name": "Açaí do Norte", "person": "Rita", "phone": None,
         "email": "rita@norte.com"},
    ]  # fmt: skip
    assert [a["for"] for a in day["today"]] == [
        {"type": "opp", "id": 1, "name": "Site novo", "person": "Pedro",
         "phone": "+55 92 98888-7777", "email": None},
        {"type": "lead", "id": 1, "name": "Maria", "person": "Maria", "phone": "11 91234-5678",
         "email": "m@x.com"},
    ]  # fmt: skip
    table = crm("agenda").stdout
    assert "opp 1: Site novo · Pedro" in table and "+55 92 98888-7777" in table
    assert "lead 1: Maria" in table and "11 91234-5678" in table
    assert "account 1: Açaí do Norte · Rita" in table and "rita@norte.com" in table
    listed = _json(crm, "activity", "list")
    assert [a["for"]["name"] for a in listed] == ["Açaí do Norte", "Site novo", "Maria"]
    assert "account 1: Açaí do Norte · Rita" in crm("activity", "list").stdout


def test_contact_and_account_show_list_their_deals_and_activities(crm: Run, deal: None) -> None:
    crm("activity", "add", "Proposta", "--type", "call", "--opp", "1", "--due", "today", "-q")
    crm("activity", "log", "Conversa", "--type", "call", "--opp", "1", "--contact", "Rita", "-q")
    crm("activity", "add", "Aniversário", "--type", "task", "--contact", "Rita", "-q")
    rita = _json(crm, "contact", "show", "Rita")
    assert [a["id"] for a in rita["activities"]] == [3, 2]  # pending first
    assert rita["opportunities"] == []
    pedro = _json(crm, "contact", "show", "Pedro")
    assert [o["id"] for o in pedro["opportunities"]] == [1]
    assert [a["id"] for a in pedro["activities"]] == [1, 2]  # on his deal
    account = _json(crm, "account", "show", "1")
    assert [a["id"] for a in account["activities"]] == [1, 3, 2]
    shown = crm("contact", "show", "Pedro").stdout
    assert "Opportunities" in shown and "Site novo" in shown and "Conversa" in shown


def test_deleting_the_person_keeps_the_deals_activity_and_undo_restores_the_link(
    crm: Run, deal: None
) -> None:
    crm("activity", "log", "Conversa", "--type", "call", "--opp", "1", "--contact", "Rita", "-q")
    crm("contact", "delete", "Rita", "--yes")
    kept = _json(crm, "activity", "show", "1")
    assert (kept["opportunity_id"], kept["person_id"]) == (1, None)
    crm("undo", "--yes")
    assert _json(crm, "activity", "show", "1")["person_id"] == 2
    assert [a["id"] for a in _json(crm, "contact", "show", "Rita")["activities"]] == [1]


def test_a_lead_and_a_contact_are_still_two_links(crm: Run, deal: None) -> None:
    result = crm("activity", "add", "X", "--type", "call", "--lead", "1", "--contact", "Rita",
                 code=2)  # fmt: skip
    assert "exactly one record" in result.stderr


def test_search_takes_its_words_as_separate_arguments(crm: Run, people: None) -> None:
    assert [(h["type"], h["id"]) for h in _json(crm, "search", "maria", "acai")] == [("lead", 1)]


# -- tags through imports and exports ----------------------------------------------------------


def test_an_import_reads_a_tags_column_and_csv_gives_them_back(crm: Run, tmp_path: Any) -> None:
    source = tmp_path / "feira.csv"
    source.write_text(
        "Nome;E-mail;Etiquetas\nAna;ana@x.com;Feira SP, vip\nBia;bia@x.com;\n", encoding="cp1252"
    )
    summary = _json(crm, "lead", "import", str(source))
    assert summary["mapping"]["Etiquetas"] == "tags"
    assert [x["tags"] for x in _json(crm, "lead", "list")] == [["Feira SP", "vip"], []]
    again = tmp_path / "again.csv"
    again.write_text('name,email,tags\nAna,ana@x.com,"VIP; novo"\n', encoding="utf-8")
    assert _json(crm, "lead", "import", str(again), "--on-duplicate", "update")["updated"] == 1
    assert _json(crm, "lead", "show", "ana@x.com")["tags"] == ["Feira SP", "vip", "novo"]
    exported = crm("export", "--format", "csv", "--entity", "leads").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["tags"] for r in rows] == ["Feira SP, vip, novo", ""]
    dump = json.loads(crm("export", "--format", "json").stdout)
    assert dump["leads"][0]["tags"] == ["Feira SP", "vip", "novo"]
