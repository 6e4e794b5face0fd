"""Leads through the command line: JSON keys, exit codes, stderr, quiet and CSV output."""

from __future__ import annotations

import json
from collections.abc import Callable

from typer.testing import Result

Run = Callable[..., Result]

LEAD_KEYS = set(
    [
        "id",
        "name",
        "email",
        "phone",
        "company",
        "title",
        "source",
        "status",
        "budget",
        "timeline",
        "owner",
        "contact_id",
        "account_id",
        "opportunity_id",
    ]
)


def test_lead_add_prints_the_contract_keys_with_exact_money(crm_json) -> None:
    lead = crm_json(
        "lead",
        "add",
        "João Silva",
        "--email",
        "Joao@Acme.com.br",
        "--company",
        "Acme Ltda",
        "--budget",
        "R$ 12.500,00",
        "--timeline",
        "31/12/2026",
        "--source",
        "Feira",
    )
    assert lead.keys() >= LEAD_KEYS
    assert lead["budget"] == "12500.00"
    assert lead["timeline"] == "2026-12-31"
    assert lead["email"] == "joao@acme.com.br"
    assert lead["status"] == "new"
    assert lead["owner"] == "tester"
    assert lead["opportunity_id"] is None


def test_quiet_prints_only_the_id(crm: Run) -> None:
    first = crm("lead", "add", "Ana", "-q").stdout
    second = crm("lead", "add", "Bia", "-q").stdout
    assert (first, second) == ("1\n", "2\n")


def test_duplicate_email_is_refused_naming_the_other_lead(crm: Run) -> None:
    crm("lead", "add", "Maria Souza", "--email", "maria@x.com.br")
    result = crm("lead", "add", "Outra", "--email", "MARIA@X.com.br", code=1)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert 'lead 1 ("Maria Souza")' in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_amount_is_a_usage_error_naming_the_option(crm: Run) -> None:
    result = crm("lead", "add", "X", "--budget", "12,3,4", code=2)
    assert "--budget" in result.stderr and "12,3,4" in result.stderr
    assert result.stderr.count("\n") == 1


def test_impossible_date_is_a_usage_error(crm: Run) -> None:
    result = crm("lead", "add", "X", "--timeline", "2027-02-30", code=2)
    assert "2027-02-30" in result.stderr


def test_unknown_option_exits_2(crm: Run) -> None:
    assert crm("lead", "add", "X", "--bogus", code=2).exit_code == 2


def test_missing_lead_exits_1_with_one_line(crm: Run) -> None:
    crm("db", "init")  # else the first line says the database was created
    result = crm("lead", "show", "99", code=1)
    assert result.stderr == "crm: error: no lead with id 99\n"


def test_qualify_names_what_is_missing(crm: Run) -> None:
    crm("lead", "add", "Ana", "--budget", "1000")
    result = crm("lead", "qualify", "1", code=1)
    assert "timeline" in result.stderr and "budget" not in result.stderr
    lead = json.loads(crm("lead", "qualify", "1", "--timeline", "2027-01-15", "--json").stdout)
    assert lead["status"] == "qualified" and lead["timeline"] == "2027-01-15"


def test_list_hides_archived_unless_all(crm: Run, crm_json) -> None:
    crm("lead", "add", "Kept")
    crm("lead", "add", "Gone")
    crm("lead", "archive", "2")
    assert [x["name"] for x in crm_json("lead", "list")] == ["Kept"]
    assert [x["name"] for x in crm_json("lead", "list", "--all")] == ["Kept", "Gone"]
    assert [x["name"] for x in crm_json("lead", "list", "--status", "archived")] == ["Gone"]


def test_search_is_literal_and_unicode_case_insensitive(crm: Run, crm_json) -> None:
    crm("lead", "add", "João 100% Pão", "--company", "O'Neil_Co")
    crm("lead", "add", "Joana 100 Pães", "--company", "ONeilXCo")
    assert [x["id"] for x in crm_json("lead", "list", "--search", "JOÃO")] == [1]
    assert [x["id"] for x in crm_json("lead", "list", "--search", "100%")] == [1]
    assert [x["id"] for x in crm_json("lead", "list", "--search", "o'neil_")] == [1]
    assert crm_json("lead", "list", "--search", "%") == [
        x for x in crm_json("lead", "list") if "%" in x["name"]
    ]


def test_csv_neutralises_formula_cells(crm: Run) -> None:
    crm("lead", "add", '=HYPERLINK("http://evil")', "--company", "+cmd", "--notes", "ok")
    out = crm("lead", "list", "--csv").stdout.splitlines()
    assert out[0].startswith("id,name,email")
    assert "'=HYPERLINK" in out[1] and ",'+cmd," in out[1]


def test_rich_markup_in_data_is_printed_literally(crm: Run) -> None:
    crm("lead", "add", "Beta [/] Ltda", "--company", "[bold]Acme[/bold]")
    table = crm("lead", "list").stdout
    assert "Beta [/] Ltda" in table and "[bold]Acme[/bold]" in table
    assert "Beta [/] Ltda" in crm("lead", "show", "1").stdout


def test_delete_needs_yes_when_not_on_a_terminal(crm: Run, crm_json) -> None:
    crm("lead", "add", "Temp")
    refused = crm("lead", "delete", "1", code=2)
    assert "--yes" in refused.stderr
    assert len(crm_json("lead", "list")) == 1
    crm("lead", "delete", "1", "--yes")
    assert crm_json("lead", "list", "--all") == []


def test_edit_changes_fields_and_clears_with_empty_text(crm_json) -> None:
    crm_json("lead", "add", "Ana", "--phone", "123", "--title", "CEO")
    lead = crm_json("lead", "edit", "1", "--phone", "", "--title", "CFO")
    assert lead["phone"] is None and lead["title"] == "CFO"


def test_disqualify_needs_a_reason_and_records_it(crm: Run, crm_json) -> None:
    crm("lead", "add", "Ana")
    crm("lead", "disqualify", "1", code=2)
    lead = crm_json("lead", "disqualify", "1", "--reason", "Sem orçamento")
    assert lead["status"] == "disqualified"
    assert crm_json("lead", "show", "1")["disqualify_reason"] == "Sem orçamento"


def test_contact_then_convert_twice_is_refused(crm: Run) -> None:
    crm("lead", "add", "Ana", "--company", "Acme", "--budget", "10", "--timeline", "+30d")
    crm("lead", "contact", "1")
    crm("lead", "qualify", "1")
    crm("lead", "convert", "1")
    result = crm("lead", "convert", "1", code=1)
    assert "already converted" in result.stderr
