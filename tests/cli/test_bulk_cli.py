"""Many at once: the per-record actions take several refs (or `-`: stdin), in one transaction
and one change set, all or nothing; and a lead's e-mail wherever a lead id is."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import typer.testing
from typer.testing import Result

Run = Callable[..., Result]


def _export(crm: Run) -> str:
    return crm("export", "--format", "json").stdout


def _history(crm: Run) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(crm("history", "--json").stdout)
    return found


def _leads(crm: Run) -> dict[int, str]:
    rows = json.loads(crm("lead", "list", "--all", "--json").stdout)
    return {row["id"]: row["status"] for row in rows}


@pytest.fixture
def leads(crm: Run) -> None:
    """Leads 1-4 (new, with e-mails), lead 5 converted."""
    for name in ("Ana", "Bia", "Caio", "Duda"):
        crm("lead", "add", name, "--email", f"{name.lower()}@x.com.br", "-q")
    crm("lead", "add", "Eva", "--company", "Acme", "--budget", "10", "--timeline", "2027-01-31")
    crm("lead", "qualify", "5")
    crm("lead", "convert", "5", "--no-opportunity")


@pytest.fixture
def deals(crm: Run) -> None:
    """Open deals 1-3 at account Acme, in the first stage."""
    for name in ("Torre A", "Torre B", "Torre C"):
        crm("opp", "add", name, "--account", "Acme", "--amount", "100", "-q")


def test_archive_of_several_is_one_change_set_that_one_undo_reverts(crm: Run, leads: None) -> None:
    before = _export(crm)
    result = crm("lead", "archive", "1", "2", "caio@x.com.br")
    assert result.stdout.splitlines() == [
        "Lead 1 archived: Ana",
        "Lead 2 archived: Bia",
        "Lead 3 archived: Caio",
    ]
    assert _leads(crm)[1] == _leads(crm)[2] == _leads(crm)[3] == "archived"
    newest = _history(crm)[0]
    assert newest["command"] == "lead archive 1 2 caio@x.com.br"
    assert [(c["entity"], c["id"], c["op"]) for c in newest["changes"]] == [
        ("lead", 1, "update"),
        ("lead", 2, "update"),
        ("lead", 3, "update"),
    ]
    crm("undo", "--yes")
    assert _export(crm) == before


def test_one_refused_record_writes_nothing_and_each_refusal_has_its_line(
    crm: Run, leads: None
) -> None:
    before = _export(crm)
    sets = len(_history(crm))
    result = crm("lead", "archive", "1", "5", "99", "nobody@x.com.br", "2", code=1)
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "crm: error: lead 5 is converted: only a lead that is contacted, disqualified, new,"
        " qualified can be archived",
        "crm: error: no lead with id 99",
        "crm: error: no lead with the e-mail nobody@x.com.br",
    ]
    assert _export(crm) == before
    assert len(_history(crm)) == sets


def test_refs_from_stdin_one_per_line_blank_lines_ignored(crm: Run, leads: None) -> None:
    result = crm("lead", "contact", "-", "--quiet", input="1\n\n  \nbia@x.com.br\n3\n")
    assert result.stdout == "1\n2\n3\n"
    assert [_leads(crm)[i] for i in (1, 2, 3, 4)] == ["contacted"] * 3 + ["new"]
    assert len(_history(crm)[0]["changes"]) == 3


def test_nothing_on_stdin_is_a_usage_error(crm: Run, leads: None) -> None:
    result = crm("lead", "archive", "-", input="\n\n", code=2)
    assert "no references on stdin" in result.stderr


def test_a_bad_ref_on_stdin_is_a_usage_error_before_anything_is_written(
    crm: Run, leads: None
) -> None:
    before = _export(crm)
    result = crm("lead", "archive", "-", input="1\nAna\n", code=2)
    assert 'lead: "Ana" is not an id or an e-mail' in result.stderr
    assert _export(crm) == before


def test_json_of_many_is_a_list_and_options_apply_to_all(crm: Run, leads: None) -> None:
    out = crm("lead", "disqualify", "1", "2", "--reason", "no budget", "--json").stdout
    records = json.loads(out)
    assert [(r["id"], r["status"]) for r in records] == [(1, "disqualified"), (2, "disqualified")]
    shown = json.loads(crm("lead", "show", "2", "--json").stdout)
    assert shown["disqualify_reason"] == "no budget"


def test_the_same_lead_named_twice_is_changed_once(crm: Run, leads: None) -> None:
    records = json.loads(crm("lead", "archive", "1", "ana@x.com.br", "1", "--json").stdout)
    assert [r["id"] for r in records] == [1]
    assert len(_history(crm)[0]["changes"]) == 1


def test_qualify_many_needs_budget_and_timeline_of_each(crm: Run, leads: None) -> None:
    refused = crm("lead", "qualify", "1", "2", "--budget", "500", code=1)
    assert refused.stderr.splitlines() == [
        "crm: error: lead 1 cannot be qualified: it needs a timeline (--timeline)",
        "crm: error: lead 2 cannot be qualified: it needs a timeline (--timeline)",
    ]
    done = crm("lead", "qualify", "1", "2", "--budget", "500", "--timeline", "2027-03-31", "-q")
    assert done.stdout == "1\n2\n"
    shown = json.loads(crm("lead", "show", "2", "--json").stdout)
    assert (shown["status"], shown["budget"], shown["timeline"]) == (
        "qualified",
        "500.00",
        "2027-03-31",
    )


def test_delete_many_needs_yes_off_a_terminal_and_undo_brings_all_back(
    crm: Run, leads: None
) -> None:
    crm("activity", "add", "Ligar", "--type", "call", "--lead", "bia@x.com.br", "-q")
    before = _export(crm)
    refused = crm("lead", "delete", "1", "2", code=2)
    assert "refusing to delete without --yes" in refused.stderr
    result = crm("lead", "delete", "1", "2", "--yes", "--json")
    assert json.loads(result.stdout) == [{"id": 1, "deleted": True}, {"id": 2, "deleted": True}]
    assert sorted(_leads(crm)) == [3, 4, 5]
    assert {(c["entity"], c["op"]) for c in _history(crm)[0]["changes"]} == {
        ("lead", "delete"),
        ("activity", "delete"),
    }
    crm("undo", "--yes")
    assert _export(crm) == before


def test_a_converted_lead_among_deletes_refuses_all(crm: Run, leads: None) -> None:
    result = crm("lead", "delete", "1", "5", "--yes", code=1)
    assert result.stderr.splitlines() == [
        "crm: error: lead 5 was converted: it is kept as the record of that conversion"
    ]
    assert sorted(_leads(crm)) == [1, 2, 3, 4, 5]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin reads as a terminal (the answers come from `input`)."""
    monkeypatch.setattr(
        typer.testing._NamedTextIOWrapper, "isatty", lambda self: self.name == "<stdin>"
    )


def test_delete_many_on_a_terminal_asks_once(crm: Run, leads: None, terminal: None) -> None:
    kept = crm("lead", "delete", "1", "2", input="n\n", code=1)
    assert kept.stderr.count("[y/N]") == 1
    assert "Delete 2 leads (lead 1 (Ana), lead 2 (Bia)) for good?" in kept.stderr
    assert sorted(_leads(crm)) == [1, 2, 3, 4, 5]
    done = crm("lead", "delete", "1", "2", input="s\n")
    assert done.stderr.count("[y/N]") == 1
    assert sorted(_leads(crm)) == [3, 4, 5]


def test_one_ref_keeps_the_single_record_output(crm: Run, leads: None) -> None:
    result = crm("lead", "archive", "1", "--json")
    assert json.loads(result.stdout)["id"] == 1  # an object, not a list
    refused = crm("lead", "archive", "99", code=1)
    assert refused.stderr == "crm: error: no lead with id 99\n"


# -- deals and activities --------------------------------------------------------------------


def test_opp_win_many_and_undo(crm: Run, deals: None) -> None:
    before = _export(crm)
    result = crm("opp", "win", "1", "Torre B", "--json")
    assert [(o["id"], o["status"], o["probability"]) for o in json.loads(result.stdout)] == [
        (1, "won", 100),
        (2, "won", 100),
    ]
    assert {(c["entity"], c["id"]) for c in _history(crm)[0]["changes"]} == {
        ("opportunity", 1),
        ("opportunity", 2),
    }
    crm("undo", "--yes")
    assert _export(crm) == before


def test_opp_advance_many_each_to_its_next_stage_or_all_to_one(crm: Run, deals: None) -> None:
    crm("opp", "advance", "2")
    result = crm("opp", "advance", "1", "2")
    assert result.stdout.splitlines() == [
        "Opportunity 1 now in Qualification (20%): Torre A",
        "Opportunity 2 now in Needs analysis (40%): Torre B",
    ]
    moved = crm("opp", "advance", "1", "2", "3", "--to", "negotiation", "--probability", "70")
    assert moved.stdout.splitlines()[2] == "Opportunity 3 now in Negotiation (70%): Torre C"


def test_opp_lose_many_refuses_all_when_one_is_closed(crm: Run, deals: None) -> None:
    crm("opp", "win", "2")
    before = _export(crm)
    result = crm("opp", "lose", "1", "2", "nothing", "--reason", "price", code=1)
    assert result.stderr.splitlines() == [
        "crm: error: opportunity 2 is won: it cannot be lost (reopen it first with `crm opp reopen`)",
        'crm: error: no opportunity "nothing"',
    ]
    assert _export(crm) == before
    crm("opp", "lose", "1", "3", "--reason", "price", "--competitor", "Rival")
    lost = json.loads(crm("opp", "show", "3", "--json").stdout)
    assert (lost["status"], lost["lost_reason"], lost["competitor"]) == ("lost", "price", "Rival")


def test_opp_delete_many_previews_each_and_undo_brings_all_back(
    crm: Run, deals: None, terminal: None
) -> None:
    before = _export(crm)
    kept = crm("opp", "delete", "1", "2", input="n\n", code=1)
    assert 'Deletes opportunity 1 "Torre A" (1 history row).' in kept.stderr
    assert 'Deletes opportunity 2 "Torre B" (1 history row).' in kept.stderr
    assert "Delete 2 deals for good? [y/N]" in kept.stderr
    assert _export(crm) == before
    done = crm("opp", "delete", "1", "2", "--yes", "--json")
    assert [d["id"] for d in json.loads(done.stdout)] == [1, 2]
    assert [o["id"] for o in json.loads(crm("opp", "list", "--json").stdout)] == [3]
    crm("undo", "--yes")
    assert _export(crm) == before


def test_activity_done_and_delete_many(crm: Run, leads: None) -> None:
    for subject in ("Ligar", "Visitar", "Enviar"):
        crm("activity", "add", subject, "--type", "task", "--lead", "1", "-q")
    assert crm("activity", "done", "1", "3", "-q").stdout == "1\n3\n"
    refused = crm("activity", "done", "2", "3", "7", code=1)
    lines = refused.stderr.splitlines()
    assert lines[0].startswith("crm: error: activity 3 is already done")
    assert lines[1] == "crm: error: no activity with id 7"
    assert json.loads(crm("activity", "show", "2", "--json").stdout)["done"] is False
    gone = crm("activity", "delete", "-", "--yes", input="1\n2\n")
    assert gone.stderr.splitlines() == [
        "crm: deleted activity 1 (Ligar)",
        "crm: deleted activity 2 (Visitar)",
    ]
    crm("undo", "--yes")
    assert len(json.loads(crm("activity", "list", "--all", "--json").stdout)) == 3


# -- a lead's e-mail wherever a lead id is -----------------------------------------------------


def test_a_lead_is_named_by_its_email_in_any_case(crm: Run, leads: None) -> None:
    shown = json.loads(crm("lead", "show", "BIA@X.com.br", "--json").stdout)
    assert shown["id"] == 2
    crm("lead", "edit", "bia@x.com.br", "--phone", "5555")
    assert json.loads(crm("lead", "show", "2", "--json").stdout)["phone"] == "5555"
    added = crm("activity", "add", "Ligar", "--type", "call", "--lead", "Bia@X.com.br", "--json")
    assert json.loads(added.stdout)["lead_id"] == 2
    listed = crm("activity", "list", "--for", "lead", "bia@x.com.br", "--json")
    assert [a["lead_id"] for a in json.loads(listed.stdout)] == [2]


def test_an_unknown_email_is_the_usual_not_found(crm: Run, leads: None) -> None:
    result = crm("lead", "show", "zé@x.com.br", code=1)
    assert result.stderr == "crm: error: no lead with the e-mail zé@x.com.br\n"
    result = crm("activity", "add", "Ligar", "--type", "call", "--lead", "no@x.com.br", code=1)
    assert result.stderr == "crm: error: no lead with the e-mail no@x.com.br\n"


def test_a_malformed_email_is_a_usage_error(crm: Run, leads: None) -> None:
    result = crm("lead", "show", "ana@x", code=2)
    assert result.stderr == 'crm: error: lead: "ana@x" is not a valid e-mail address\n'


def test_convert_by_email(crm: Run) -> None:
    crm("lead", "add", "Gil", "--email", "gil@x.com.br", "--company", "Initech", "-q")
    crm("lead", "qualify", "gil@x.com.br", "--budget", "900", "--timeline", "2027-02-28")
    result = crm("lead", "convert", "GIL@x.com.br", "--json")
    data = json.loads(result.stdout)
    assert (data["id"], data["status"], data["opportunity"]["amount"]) == (1, "converted", "900.00")
    table = crm("lead", "convert", "gil@x.com.br", code=1)
    assert "lead 1 is converted" in table.stderr


def test_merge_by_email(crm: Run, leads: None) -> None:
    crm("lead", "edit", "2", "--phone", "+55 11 5555-0101")
    merged = json.loads(crm("lead", "merge", "ANA@x.com.br", "bia@x.com.br", "--json").stdout)
    assert (merged["kept"], merged["removed"]) == (1, [2])
    assert json.loads(crm("lead", "show", "ana@x.com.br", "--json").stdout)["phone"] == (
        "+55 11 5555-0101"
    )
    refused = crm("lead", "merge", "1", "ana@x.com.br", code=2)
    assert "lead 1 is both the one kept and one to merge into it" in refused.stderr


def test_refs_on_the_line_and_from_stdin_together(crm: Run, leads: None) -> None:
    result = crm("lead", "archive", "1", "-", "-q", input="duda@x.com.br\n")
    assert result.stdout == "1\n4\n"


def test_a_refusal_that_does_not_name_the_record_is_prefixed_with_it(crm: Run, deals: None) -> None:
    crm("opp", "advance", "Torre C", "--to", "Negotiation")
    result = crm("opp", "advance", "1", "Torre C", code=1)
    assert result.stderr == (
        'crm: error: opportunity 3: "Negotiation" is the last stage: close the deal with'
        " `crm opp win`\n"
    )
    assert json.loads(crm("opp", "show", "1", "--json").stdout)["stage"] == "Prospecting"


@pytest.mark.sqlite_only  # hooks run the same way on both backends; once is enough here
def test_a_bulk_win_runs_the_hook_once_with_every_record(
    crm: Run, deals: None, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "hooks"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    monkeypatch.setenv("CRM_HOOKS_DIR", str(folder))
    monkeypatch.delenv("CRM_NO_HOOKS", raising=False)
    script = folder / "opp-won"
    script.write_text(
        f'#!/bin/sh\ncat >> "{tmp_path}/sent.jsonl"\necho >> "{tmp_path}/sent.jsonl"\n'
    )
    script.chmod(0o700)
    crm("opp", "win", "1", "3")
    sent = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().split("\n") if line]
    assert len(sent) == 1
    assert sent[0]["event"] == "opp-won"
    assert sent[0]["change_set"] == _history(crm)[0]["id"]
    assert [r["id"] for r in sent[0]["records"]] == [1, 3]
