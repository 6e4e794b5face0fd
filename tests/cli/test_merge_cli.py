"""`crm lead|contact|account merge KEEP OTHER…` (issue 13): KEEP's values win, what it lacks is
filled from the others, every link moves to KEEP, the others go; one change set that
`crm undo` takes back to the byte; `--dry-run` writes nothing."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
Json = Callable[..., Any]

LEADS_CSV = (
    "name,email,company,stand,cidade\n"
    "Maria,maria@x.br,Acme,A1,SP\n"
    "MARIA,maria2@x.br,,B2,SP\n"
    "Maria O.,,Acme,,\n"
)


def _export(crm: Run) -> str:
    return crm("export", "--format", "json").stdout


def _clean(crm: Run) -> None:
    assert json.loads(crm("db", "check", "--json").stdout)["problems"] == []


def _history(crm: Run) -> list[dict[str, Any]]:
    return list(json.loads(crm("history", "--json").stdout))


def _merged_and_undone(crm: Run, *args: str) -> dict[str, Any]:
    """Run the merge (JSON), check the database, undo it and check the export is as before."""
    before = _export(crm)
    result = json.loads(crm(*args, "--json").stdout)
    assert _export(crm) != before
    _clean(crm)
    newest = _history(crm)[0]
    assert newest["command"] == shlex.join((*args, "--json"))
    crm("undo", "--yes")
    assert _export(crm) == before
    _clean(crm)
    crm(*args)  # and it can be done again after the undo
    return dict(result)


@pytest.fixture
def leads(crm: Run, tmp_path: Path) -> None:
    """Leads 1-3 from a file (extras `stand`, `cidade`), lead 2 with a phone, budget and notes,
    lead 1 with notes; activities 1 and 2 on lead 2, 3 on lead 3, 4 on lead 1."""
    path = tmp_path / "leads.csv"
    path.write_text(LEADS_CSV, encoding="utf-8")
    crm("lead", "import", str(path))
    crm("lead", "edit", "1", "--notes", "Met at the fair")
    crm("lead", "edit", "2", "--phone", "+55 11 5555-0000", "--budget", "1.500,00",
        "--notes", "Wants a demo")  # fmt: skip
    crm("lead", "edit", "3", "--title", "CFO", "--notes", "Met at the fair")
    for subject, lead in (("Ligar", "2"), ("Proposta", "2"), ("Visita", "3"), ("Nota", "1")):
        crm("activity", "add", subject, "--type", "task", "--lead", lead)


def test_lead_merge_fills_keep_keeps_every_value_and_moves_the_activities(
    crm: Run, crm_json: Json, leads: None
) -> None:
    result = _merged_and_undone(crm, "lead", "merge", "1", "2", "3")
    assert result["kept"] == 1 and result["removed"] == [2, 3]
    assert result["moved"] == {"activities": 3}
    record = result["record"]
    assert (record["name"], record["email"], record["company"]) == ("Maria", "maria@x.br", "Acme")
    assert (record["phone"], record["budget"], record["title"]) == (
        "+55 11 5555-0000",
        "1500.00",
        "CFO",
    )
    assert record["extras"] == {"stand": "A1", "cidade": "SP", "stand (lead 2)": "B2"}
    assert record["notes"] == (
        "Met at the fair\n\nWants a demo\n\n"
        "Merged from lead 2: name MARIA; email maria2@x.br\n"
        "Merged from lead 3: name Maria O."
    )
    fields = {f["field"]: f["from"] for f in result["fields"]}
    assert fields["phone"] == 2 and fields["title"] == 3 and fields["name"] is None
    # after the second run (in _merged_and_undone): the others are gone, their activities on 1
    crm("lead", "show", "2", code=1)
    activities = crm_json("lead", "show", "1")["activities"]
    assert sorted(a["subject"] for a in activities) == ["Ligar", "Nota", "Proposta", "Visita"]


def test_keep_takes_an_others_e_mail_and_an_e_mail_that_cannot_stay_goes_to_the_notes(
    crm: Run, crm_json: Json
) -> None:
    crm("lead", "add", "Ana")
    crm("lead", "add", "Ana S", "--email", "ana@x.com")
    crm("lead", "add", "Ana", "--email", "ana.s@y.com", "--phone", "(11) 4444-0000")
    crm("lead", "merge", "1", "2", "3")
    lead = crm_json("lead", "show", "1")
    assert lead["email"] == "ana@x.com"  # unique: lead 2 went first, so 1 could take it
    assert lead["phone"] == "(11) 4444-0000"
    assert lead["notes"] == (
        "Merged from lead 2: name Ana S\nMerged from lead 3: email ana.s@y.com"
    )
    assert crm("lead", "add", "Other", "--email", "ana.s@y.com", "-q").stdout.strip() == "4"


def test_a_dry_run_shows_the_result_and_writes_nothing(crm: Run, leads: None) -> None:
    before, history = _export(crm), _history(crm)
    dry = json.loads(crm("lead", "merge", "1", "2", "--dry-run", "--json").stdout)
    assert dry["dry_run"] is True and dry["moved"] == {"activities": 2}
    assert dry["record"]["phone"] == "+55 11 5555-0000"
    table = crm("lead", "merge", "1", "2", "--dry-run")
    assert "Lead 1: merge of 2 (dry run)" in table.stdout
    assert "Moves 2 activities to lead 1; removes lead 2." in table.stdout
    assert "phone" in table.stdout and "lead 2" in table.stdout
    assert "dry run: nothing was changed" in table.stderr
    assert _export(crm) == before and _history(crm) == history
    done = crm("lead", "merge", "1", "2")
    assert "Moved 2 activities to lead 1; removed lead 2." in done.stdout


def test_the_json_document_has_the_contract_keys(crm: Run, crm_json: Json) -> None:
    crm("account", "add", "Acme")
    crm("account", "add", "Acme SA", "--website", "acme.com")
    result = crm_json("account", "merge", "1", "2")
    assert list(result) == ["entity", "kept", "removed", "fields", "moved", "record"]
    assert result["entity"] == "account" and result["removed"] == [2]
    assert result["moved"] == {"contacts": 0, "deals": 0, "activities": 0, "leads": 0}
    assert {"field": "website", "value": "acme.com", "from": 2} in result["fields"]
    assert all(list(f) == ["field", "value", "from"] for f in result["fields"])
    assert result["record"]["id"] == 1 and result["record"]["website"] == "acme.com"


@pytest.fixture
def people(crm: Run) -> None:
    """Contact 1 Rita (no e-mail, no account) and contact 2 Rita S (e-mail, at Acme, notes)
    with deal 1, activity 1 and lead 1 converted into her (lead.contact_id = 2)."""
    crm("contact", "add", "Rita", "--title", "CFO")
    crm("contact", "add", "Rita S", "--email", "rita@acme.com", "--account", "Acme",
        "--type", "customer", "--notes", "Prefers calls")  # fmt: skip
    crm("opp", "add", "Torre", "--account", "Acme", "--contact", "2", "--amount", "10")
    crm("activity", "add", "Ligar", "--type", "call", "--contact", "2")
    crm("lead", "add", "Rita", "--email", "rita@acme.com", "--budget", "5",
        "--timeline", "2027-01-31")  # fmt: skip
    crm("lead", "qualify", "1")
    crm("lead", "convert", "1", "--account", "Acme", "--no-opportunity")


def test_contact_merge_by_name_moves_deals_activities_and_conversion_links(
    crm: Run, crm_json: Json, people: None
) -> None:
    assert crm_json("lead", "show", "1")["contact_id"] == 2
    result = _merged_and_undone(crm, "contact", "merge", "1", "Rita S")
    assert result["moved"] == {"deals": 1, "activities": 1, "leads": 1}
    record = result["record"]
    # KEEP lacked an e-mail and an account: filled; its type (prospect) wins
    assert (record["email"], record["account_id"], record["type"]) == (
        "rita@acme.com",
        1,
        "prospect",
    )
    assert record["notes"] == ("Prefers calls\n\nMerged from contact 2: name Rita S; type customer")
    assert crm_json("lead", "show", "1")["contact_id"] == 1
    assert crm_json("opp", "show", "Torre")["contact_id"] == 1
    assert crm_json("activity", "list", "--all")[0]["contact_id"] == 1
    crm("contact", "show", "2", code=1)


def test_account_merge_moves_contacts_deals_activities_and_leads(crm: Run, crm_json: Json) -> None:
    crm("account", "add", "Acme Ltda", "--industry", "Steel")
    crm("account", "add", "ACME S/A", "--website", "acme.com", "--phone", "+55 11 3333-0000")
    crm("contact", "add", "Rita", "--account", "2")
    crm("opp", "add", "Torre", "--account", "1", "--amount", "5")
    crm("opp", "add", "Torre", "--account", "2", "--amount", "10")  # same name: allowed after
    crm("activity", "add", "Visita", "--type", "meeting", "--account", "2")
    crm("lead", "add", "Bia", "--company", "ACME S/A", "--budget", "1", "--timeline", "+30d")
    crm("lead", "qualify", "1")
    crm("lead", "convert", "1", "--no-opportunity")  # into account 2, new contact 2 there
    result = _merged_and_undone(crm, "account", "merge", "Acme Ltda", "ACME S/A")
    assert result["moved"] == {"contacts": 2, "deals": 1, "activities": 1, "leads": 1}
    assert result["record"]["website"] == "acme.com" and result["record"]["industry"] == "Steel"
    shown = crm_json("account", "show", "1")
    assert sorted(c["name"] for c in shown["contacts"]) == ["Bia", "Rita"]
    assert [o["name"] for o in shown["opportunities"]] == ["Torre", "Torre"]
    assert crm_json("lead", "show", "1")["account_id"] == 1
    assert [a["account_id"] for a in crm_json("activity", "list", "--all")] == [1]
    crm("account", "show", "ACME S/A", code=1)


def test_a_converted_other_is_refused_but_a_converted_keep_is_merged_into(
    crm: Run, crm_json: Json
) -> None:
    crm("lead", "add", "Maria", "--company", "Acme", "--budget", "10", "--timeline", "+30d")
    crm("lead", "qualify", "1")
    crm("lead", "convert", "1")
    crm("lead", "add", "Maria", "--company", "Acme", "--phone", "11 3333-0000")
    before = _export(crm)
    refused = crm("lead", "merge", "2", "1", code=1)
    assert refused.stderr == (
        "crm: error: lead 1 is converted: only the lead kept may be converted\n"
    )
    assert _export(crm) == before
    crm("lead", "merge", "1", "2")
    lead = crm_json("lead", "show", "1")
    assert lead["status"] == "converted" and lead["phone"] == "11 3333-0000"


@pytest.mark.parametrize(
    "args",
    [
        ("lead", "merge", "1", "1"),
        ("lead", "merge", "1", "2", "2"),
        ("account", "merge", "Acme", "1"),
        ("account", "merge", "1", "Globex", "2"),
        ("contact", "merge", "rita@acme.com", "Rita"),
    ],
    ids=" ".join,
)
def test_keep_among_the_others_or_an_other_twice_is_a_usage_error(
    crm: Run, args: tuple[str, ...]
) -> None:
    crm("lead", "add", "A")
    crm("lead", "add", "B")
    crm("account", "add", "Acme")
    crm("account", "add", "Globex")
    crm("contact", "add", "Rita", "--email", "rita@acme.com")
    before = _export(crm)
    refused = crm(*args, code=2)
    assert refused.stderr.count("\n") == 1 and "name each" in refused.stderr
    assert _export(crm) == before


def test_a_missing_record_is_not_found(crm: Run) -> None:
    crm("lead", "add", "A")
    crm("account", "add", "Acme")
    assert crm("lead", "merge", "1", "9", code=1).stderr == "crm: error: no lead with id 9\n"
    assert "no account" in crm("account", "merge", "Acme", "Nada", code=1).stderr
    assert "no contact" in crm("contact", "merge", "1", "2", code=1).stderr
    assert "is not an id" in crm("lead", "merge", "1", "x", code=2).stderr
    assert "Missing argument" in crm("lead", "merge", "1", code=2).stderr


def test_the_commands_crm_duplicates_prints_run_as_printed(crm: Run, crm_json: Json) -> None:
    crm("lead", "add", "Ana", "--phone", "+55 (11) 98765-4321")
    crm("lead", "add", "Ana S", "--phone", "(11) 98765-4321")
    crm("account", "add", "Horizonte Ltda")
    crm("account", "add", "HORIZONTE S/A")
    crm("contact", "add", "Rui", "--phone", "11 3333-4444")
    crm("contact", "add", "Rui B", "--phone", "+55 11 3333-4444")
    groups = crm_json("duplicates")
    assert {g["entity"] for g in groups} == {"lead", "contact", "account"}
    for group in groups:
        words = shlex.split(group["merge"])
        assert words[0] == "crm"
        crm(*words[1:])
    assert crm_json("duplicates") == []
