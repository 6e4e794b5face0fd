"""References are not names (issue 12, bug 1).

What a user types to point at a record (`opp add --account 1`, `account show 2`) is a
reference: an id, or an unambiguous name. A name taken from data (a lead's company on
conversion, the account cell of a deal file, the new name of an edit or rename) is matched by
its name key only: a company called `1`, `2024` or `3M` is a name, never account 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
Json = Callable[..., Any]


@pytest.fixture
def acme(crm: Run) -> Run:
    """Account 1 is "Acme Ltda", account 2 is "Beta"."""
    crm("account", "add", "Acme Ltda", "-q")
    crm("account", "add", "Beta", "-q")
    return crm


def _qualified_lead(crm: Run, company: str) -> str:
    lead_id = crm(
        "lead", "add", "Ana", "--company", company, "--budget", "100", "--timeline", "2030-01-01",
        "-q",
    ).stdout.strip()  # fmt: skip
    crm("lead", "qualify", lead_id, "-q")
    return lead_id


@pytest.mark.parametrize("company", ["1", "2", " 1 "])
def test_a_lead_whose_company_is_digits_converts_into_an_account_of_that_name(
    acme: Run, crm_json: Json, company: str
) -> None:
    lead_id = _qualified_lead(acme, company)
    converted = crm_json("lead", "convert", lead_id)
    assert converted["plan"]["account"]["action"] == "create"
    assert converted["account"]["name"] == company.strip()
    assert converted["account"]["id"] == 3
    assert crm_json("account", "show", "1")["opportunities"] == []
    # a second lead of the same company reuses that account, by name
    again = crm_json("lead", "convert", _qualified_lead(acme, company.strip()))
    assert (again["plan"]["account"]["action"], again["account"]["id"]) == ("reuse", 3)


def test_convert_account_option_is_still_a_reference(acme: Run, crm_json: Json) -> None:
    lead_id = _qualified_lead(acme, "Whatever")
    converted = crm_json("lead", "convert", lead_id, "--account", "2")
    assert (converted["account"]["id"], converted["account"]["name"]) == (2, "Beta")


def test_account_edit_name_to_digits_is_a_name(acme: Run, crm_json: Json) -> None:
    assert crm_json("account", "edit", "2", "--name", "7")["name"] == "7"
    assert crm_json("account", "edit", "2", "--name", "1")["name"] == "1"
    assert crm_json("account", "show", "1")["name"] == "Acme Ltda"
    # a real clash is still refused, named by the account that holds the name
    clash = acme("account", "edit", "1", "--name", " 1", code=1)
    assert clash.stderr == 'crm: error: account "1" already exists (id 2)\n'


def test_stage_names_made_of_digits_are_names(crm: Run, crm_json: Json) -> None:
    stages = crm_json("stage", "list")
    assert len(stages) >= 2
    crm("stage", "rename", stages[1]["name"], "1")
    names = [s["name"] for s in crm_json("stage", "list")]
    assert names[1] == "1" and names[0] == stages[0]["name"]
    added = crm("stage", "add", "2", "--probability", "5", "-q")
    assert added.stdout.strip().isdigit()
    assert "2" in [s["name"] for s in crm_json("stage", "list")]
    # the clash check still works by name
    again = crm("stage", "add", "1", "--probability", "5", code=1)
    assert again.stderr == 'crm: error: a stage named "1" already exists\n'


def test_a_deal_file_whose_account_cell_is_digits_creates_that_account(
    acme: Run, crm_json: Json, tmp_path: Path
) -> None:
    source = tmp_path / "deals.csv"
    source.write_text("name,account,amount\nBig,1,100\nSmall,Acme Ltda,5\nOther,1,7\n", "utf-8")
    summary = json.loads(acme("opp", "import", str(source), "--json").stdout)
    assert (summary["inserted"], summary["rejected"]) == (3, 0)
    accounts = {a["name"]: a["id"] for a in crm_json("account", "list")}
    assert accounts == {"Acme Ltda": 1, "Beta": 2, "1": 3}
    deals = {o["name"]: o["account_id"] for o in crm_json("opp", "list")}
    assert deals == {"Big": 3, "Small": 1, "Other": 3}
