"""The whole core loop through the CLI: lead → conversion → stages → close → pipeline report."""

from __future__ import annotations

import json
from collections.abc import Callable

from typer.testing import Result

Run = Callable[..., Result]

OPP_KEYS = set(
    [
        "id",
        "name",
        "account_id",
        "contact_id",
        "amount",
        "probability",
        "stage",
        "status",
        "expected_close",
        "owner",
    ]
)


def _qualified_lead(crm: Run) -> None:
    crm(
        "lead",
        "add",
        "Maria Oliveira",
        "--email",
        "maria@horizonte.com.br",
        "--company",
        "Construtora Horizonte",
        "--budget",
        "96.000,00",
        "--timeline",
        "2027-03-31",
    )
    crm("lead", "qualify", "1")


def test_convert_dry_run_writes_nothing_then_convert_links_everything(crm: Run, crm_json) -> None:
    _qualified_lead(crm)
    plan = crm_json("lead", "convert", "1", "--dry-run")
    assert plan["dry_run"] is True
    assert plan["account"] == {"action": "create", "name": "Construtora Horizonte", "id": None}
    assert plan["opportunity"]["amount"] == "96000.00"
    assert crm_json("account", "list") == [] and crm_json("opp", "list") == []
    assert crm_json("lead", "show", "1")["status"] == "qualified"

    lead = crm_json("lead", "convert", "1", "--opportunity", "Horizonte – 40 licenças")
    assert lead["status"] == "converted"
    assert (lead["account_id"], lead["contact_id"], lead["opportunity_id"]) == (1, 1, 1)
    opp = crm_json("opp", "show", "1")
    assert opp.keys() >= OPP_KEYS
    assert opp["amount"] == "96000.00" and opp["expected_close"] == "2027-03-31"
    assert opp["stage"] == "Prospecting" and opp["probability"] == 10


def test_convert_reuses_account_by_normalised_name(crm: Run, crm_json) -> None:
    crm("account", "add", "Construtora Horizonte")
    _qualified_lead(crm)
    plan = crm_json("lead", "convert", "1", "--account", "  CONSTRUTORA   horizonte ", "--dry-run")
    assert plan["account"]["action"] == "reuse" and plan["account"]["id"] == 1
    crm("lead", "convert", "1", "--account", "  CONSTRUTORA   horizonte ")
    assert len(crm_json("account", "list")) == 1


def test_convert_quiet_prints_the_opportunity_id(crm: Run) -> None:
    _qualified_lead(crm)
    assert crm("lead", "convert", "1", "-q").stdout == "1\n"


def test_stages_and_closing(crm: Run, crm_json) -> None:
    _qualified_lead(crm)
    crm("lead", "convert", "1")
    crm("stage", "rename", "negotiation", "Negociação e detalhamento")
    moved = crm_json("opp", "advance", "1")
    assert (moved["stage"], moved["probability"]) == ("Qualification", 20)
    moved = crm_json("opp", "advance", "1", "--to", "NEGOCIAÇÃO E DETALHAMENTO")
    assert (moved["stage"], moved["probability"]) == ("Negociação e detalhamento", 80)
    past = crm("opp", "advance", "1", code=1)
    assert "opp win" in past.stderr
    manual = crm_json("opp", "advance", "1", "--to", "proposal", "--probability", "70")
    assert manual["probability"] == 70 and manual["probability_source"] == "manual"
    assert "set by hand" in crm("opp", "show", "1").stdout

    won = crm_json("opp", "win", "1", "--amount", "90000")
    assert (won["status"], won["probability"], won["amount"]) == ("won", 100, "90000.00")
    assert "reopen" in crm("opp", "advance", "1", code=1).stderr
    reopened = crm_json("opp", "reopen", "1")
    assert (reopened["status"], reopened["probability"]) == ("open", 60)
    lost = crm_json("opp", "lose", "1", "--reason", "Preço", "--competitor", "Rival SA")
    assert (lost["status"], lost["probability"]) == ("lost", 0)

    history = crm_json("opp", "show", "1")["history"]
    assert [(h["stage"], h["status"]) for h in history] == [
        ("Prospecting", "open"),
        ("Qualification", "open"),
        ("Negociação e detalhamento", "open"),
        ("Proposal", "open"),
        ("Proposal", "won"),
        ("Proposal", "open"),
        ("Proposal", "lost"),
    ]
    assert all(h["at"].endswith("Z") for h in history)
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)


def test_opp_add_creates_account_and_says_so_on_stderr(crm: Run) -> None:
    result = crm("opp", "add", "Pão Quente – forno", "--account", "Padaria Pão Quente", "--json")
    opp = json.loads(result.stdout)
    assert opp["account_id"] == 1
    assert 'created account 1 "Padaria Pão Quente"' in result.stderr
    again = crm("opp", "add", "Second", "--account", "padaria pão quente", "--json")
    assert json.loads(again.stdout)["account_id"] == 1 and again.stderr == ""


def test_ambiguous_name_lists_candidates(crm: Run) -> None:
    crm("account", "add", "Acme Brasil")
    crm("account", "add", "Acme Chile")
    result = crm("account", "show", "acme", code=1)
    assert "1 Acme Brasil" in result.stderr and "2 Acme Chile" in result.stderr


def test_stage_commands(crm: Run, crm_json) -> None:
    added = crm_json("stage", "add", "Demo", "--probability", "30", "--after", "qualification")
    assert added["position"] == 3
    names = [s["name"] for s in crm_json("stage", "list")]
    assert names[:4] == ["Prospecting", "Qualification", "Demo", "Needs analysis"]
    crm("stage", "move", "demo", "--position", "1")
    assert crm_json("stage", "list")[0]["name"] == "Demo"
    assert crm_json("stage", "set-probability", "demo", "35")["probability"] == 35
    crm("opp", "add", "Deal", "--account", "Acme", "--stage", "Demo")
    refused = crm("stage", "remove", "demo", code=1)
    assert "--move-to" in refused.stderr
    crm("stage", "remove", "demo", "--move-to", "Proposal")
    assert crm_json("opp", "show", "1")["stage"] == "Proposal"
    assert "Demo" not in [s["name"] for s in crm_json("stage", "list")]


def test_pipeline_report_json_shape_and_exact_figures(crm: Run, crm_json) -> None:
    crm("opp", "add", "A", "--account", "Acme", "--amount", "333.33", "--probability", "15")
    crm("opp", "add", "B", "--account", "Acme", "--amount", "1000", "--stage", "proposal")
    crm("opp", "add", "C", "--account", "Acme", "--amount", "500", "--owner", "bruno")
    crm("opp", "add", "D", "--account", "Acme", "--amount", "700")
    crm("opp", "win", "D")
    report = crm_json("pipeline", "report")
    assert report["stages"][0] == {
        "stage": "Prospecting",
        "count": 2,
        "amount": "833.33",
        "weighted": "100.00",
    }
    assert report["stages"][3] == {
        "stage": "Proposal",
        "count": 1,
        "amount": "1000.00",
        "weighted": "600.00",
    }
    assert report["total"] == {"count": 3, "amount": "1833.33", "weighted": "700.00"}
    assert [s["stage"] for s in report["stages"]][-1] == "Negotiation"
    mine = crm_json("pipeline", "report", "--owner", "BRUNO")
    assert mine["total"] == {"count": 1, "amount": "500.00", "weighted": "50.00"}
    text = crm("pipeline", "report").stdout
    assert "Total" in text and "1,833.33" in text


def test_contact_commands(crm: Run, crm_json) -> None:
    added = crm(
        "contact",
        "add",
        "Ana Souza",
        "--account",
        "Clínica Vida",
        "--type",
        "customer",
        "--email",
        "ana@vida.com.br",
        "--json",
    )
    contact = json.loads(added.stdout)
    assert contact["type"] == "customer" and "created account" in added.stderr
    assert crm("contact", "add", "X", "--type", "friend", code=2).exit_code == 2
    assert crm_json("contact", "show", "ana@vida.com.br")["id"] == contact["id"]
    edited = crm_json("contact", "edit", "Ana Souza", "--type", "partner")
    assert edited["type"] == "partner"
    shown = crm_json("account", "show", "clínica vida")
    assert [c["name"] for c in shown["contacts"]] == ["Ana Souza"]


def test_account_prefix_in_a_creating_command_is_refused_with_candidates(
    crm: Run, crm_json
) -> None:
    crm("account", "add", "AgroVale Ltda")
    refused = crm("opp", "add", "Deal", "--account", "agro", code=1)
    assert "1 AgroVale Ltda" in refused.stderr
    assert len(crm_json("account", "list")) == 1
    crm("opp", "add", "Deal", "--account", "agrovale ltda")
    assert len(crm_json("account", "list")) == 1


def test_convert_table_shows_the_ids_it_created(crm: Run) -> None:
    _qualified_lead(crm)
    table = crm("lead", "convert", "1").stdout
    lines = {line.split()[0]: line.split() for line in table.splitlines() if line.strip()}
    assert lines["account"][-1] == "1" and lines["contact"][-1] == "1"
