"""`crm export` and `crm import` through the command line."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Run = Callable[..., Result]


def _build(crm: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """A realistic database built through the CLI, with pinned times."""
    monkeypatch.setenv("CRM_NOW", "2026-11-02T09:00:00Z")
    crm("db", "init", "--currency", "BRL")
    crm("stage", "rename", "negotiation", "Negociação e detalhamento")
    crm("stage", "add", "Jurídico", "--probability", "85", "--after", "negociação")
    crm("stage", "remove", "needs analysis")
    crm("stage", "move", "proposal", "--position", "2")
    crm(
        "lead",
        "add",
        "Maria Oliveira",
        "--email",
        "maria@horizonte.com.br",
        "--company",
        "Construtora Horizonte",
        "--budget",
        "9.999.999,99",
        "--timeline",
        "2027-03-31",
        "--source",
        "ExpoVendas 2026",
    )
    crm("lead", "add", "=1+1", "--company", "-5 units", "--budget", "0,01", "--title", "@chefe")
    crm("lead", "add", "João Ninguém", "--email", "joao@x.example")
    crm("lead", "add", "Zoë Ångström", "--email", "zoe@x.example", "--notes", "+55 11 9999")
    crm("lead", "contact", "3")
    crm("lead", "disqualify", "3", "--reason", "Sem orçamento")
    crm("lead", "archive", "3")
    monkeypatch.setenv("CRM_NOW", "2026-11-03T10:15:00Z")
    crm("lead", "qualify", "1")
    crm("lead", "convert", "1", "--opportunity", "Horizonte – 40 licenças")
    crm(
        "opp",
        "add",
        "Ação – renovação",
        "--account",
        "Ação & Cia",
        "--amount",
        "12500.00",
        "--probability",
        "35",
    )
    crm("opp", "add", "Tiny", "--account", "Ação & Cia", "--amount", "0.01")
    monkeypatch.setenv("CRM_NOW", "2026-11-10T16:45:30Z")
    crm("opp", "advance", "1")
    crm("opp", "advance", "1", "--to", "NEGOCIAÇÃO E DETALHAMENTO", "--probability", "70")
    crm("opp", "win", "2")
    crm("opp", "lose", "3", "--reason", "Preço", "--competitor", "Concorrente S.A.")
    monkeypatch.setenv("CRM_NOW", "2026-11-12T08:00:00Z")
    crm("opp", "reopen", "3")
    # Activities of every link kind: timed, date-only and no due; one done.
    crm(
        "activity",
        "add",
        "Ligar para a Maria",
        "--type",
        "call",
        "--contact",
        "maria",
        "--due",
        "2026-11-13 09:30",
    )
    crm(
        "activity",
        "add",
        "=cmd|' /C calc'!A0",
        "--type",
        "task",
        "--lead",
        "2",
        "--due",
        "2026-11-20",
        "--notes",
        "+55 11",
    )
    crm("activity", "add", "Renovação assinada?", "--type", "note", "--account", "Ação & Cia")
    crm(
        "activity",
        "add",
        "Enviar proposta",
        "--type",
        "email",
        "--opp",
        "3",
        "--due",
        "+3d",
        "--owner",
        "Zoë",
    )
    monkeypatch.setenv("CRM_NOW", "2026-11-13T10:00:00Z")
    crm("activity", "done", "1")


def _export(crm: Run, *args: str) -> str:
    return crm(*args, "export").stdout


def test_json_round_trip_into_a_fresh_database_gives_the_same_export(
    crm: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _build(crm, monkeypatch)
    first = _export(crm)
    backup = tmp_path / "backup.json"
    backup.write_text(first, encoding="utf-8")
    other = tmp_path / "restored.db"
    counts = json.loads(crm("--db", str(other), "import", str(backup), "--json").stdout)
    document = json.loads(first)
    assert counts == {
        "stages": 5,
        "accounts": 2,
        "contacts": 1,
        "leads": 4,
        "opportunities": 3,
        "history": sum(len(o["history"]) for o in document["opportunities"]),
        "activities": 4,
    }
    assert _export(crm, "--db", str(other)) == first

    assert document["format_version"] == 1 and document["currency"] == "BRL"
    assert document["leads"][0]["budget"] == "9999999.99"
    assert document["leads"][1]["budget"] == "0.01"
    assert document["opportunities"][0]["updated_at"] == "2026-11-10T16:45:30Z"
    by_position = sorted(document["stages"], key=lambda s: s["position"])
    assert [s["name"] for s in by_position][:2] == ["Prospecting", "Proposal"]

    # The restored database works like the original: names, keys, links.
    crm("--db", str(other), "opp", "reopen", "2")
    moved = json.loads(
        crm("--db", str(other), "opp", "advance", "2", "--to", "JURÍDICO", "--json").stdout
    )
    assert moved["stage"] == "Jurídico" and moved["probability"] == 85
    crm("--db", str(other), "opp", "advance", "3", "--to", "NEGOCIAÇÃO E DETALHAMENTO")
    dup = crm("--db", str(other), "lead", "add", "M", "--email", "MARIA@horizonte.com.br", code=1)
    assert "already has the e-mail" in dup.stderr
    lead = json.loads(crm("--db", str(other), "lead", "show", "1", "--json").stdout)
    assert (lead["status"], lead["account_id"], lead["opportunity_id"]) == ("converted", 1, 1)
    found = json.loads(
        crm("--db", str(other), "lead", "list", "--search", "horizonte", "--json").stdout
    )
    assert [x["id"] for x in found] == [1]
    history = json.loads(crm("--db", str(other), "opp", "show", "1", "--json").stdout)["history"]
    assert [h["stage"] for h in history] == ["Prospecting", "Proposal", "Negociação e detalhamento"]

    # Activities: local dues without a Z, kept exactly; links, done and owners restored.
    acts = document["activities"]
    assert list(document)[-1] == "activities" and list(acts[0])[:3] == ["id", "type", "subject"]
    assert [(a["due"], a["due_has_time"]) for a in acts] == [
        ("2026-11-13T09:30:00", True),
        ("2026-11-20T00:00:00", False),
        (None, False),
        ("2026-11-15T00:00:00", False),
    ]
    assert (acts[0]["done"], acts[0]["done_at"]) == (True, "2026-11-13T10:00:00Z")
    shown = json.loads(crm("--db", str(other), "activity", "show", "1", "--json").stdout)
    assert (shown["due"], shown["contact_id"], shown["done"]) == ("2026-11-13T09:30", 1, True)
    listed = crm("--db", str(other), "activity", "list", "--owner", "ZOË", "-q").stdout
    assert listed == "4\n"
    assert crm("--db", str(other), "activity", "list", "--for", "lead", "2", "-q").stdout == "2\n"


def test_round_trip_keeps_sub_second_times(crm: Run, tmp_path: Path) -> None:
    crm("lead", "add", "Ana")  # real clock: the times have microseconds
    first = _export(crm)
    backup = tmp_path / "b.json"
    backup.write_text(first, encoding="utf-8")
    other = str(tmp_path / "other.db")
    crm("--db", other, "import", str(backup))
    assert _export(crm, "--db", other) == first


def test_import_from_stdin(crm: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _build(crm, monkeypatch)
    first = _export(crm)
    other = str(tmp_path / "other.db")
    result = crm("--db", other, "import", "-", input=first)
    assert "leads" in result.stdout and "4" in result.stdout
    assert _export(crm, "--db", other) == first


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_neutralises_text_cells_only(crm: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    _build(crm, monkeypatch)
    out = crm("export", "--format", "csv", "--entity", "leads").stdout
    assert out.splitlines()[0].startswith("id,name,email,")
    rows = _csv(out)
    assert len(rows) == 4
    formula = rows[1]
    assert formula["name"] == "'=1+1"
    assert formula["company"] == "'-5 units"
    assert formula["title"] == "'@chefe"
    assert formula["budget"] == "0.01" and formula["id"] == "2"
    assert rows[3]["notes"] == "'+55 11 9999"
    assert rows[0]["name"] == "Maria Oliveira" and rows[0]["timeline"] == "2027-03-31"
    assert rows[0]["created_at"] == "2026-11-02T09:00:00Z"
    assert "search_key" not in rows[0] and "email_key" not in rows[0]

    opps = _csv(crm("export", "--format", "csv", "--entity", "opportunities").stdout)
    assert opps[1]["amount"] == "12500.00" and opps[1]["probability"] == "100"
    assert opps[0]["stage"] == "Negociação e detalhamento"
    assert "history" not in opps[0]

    acts = _csv(crm("export", "--format", "csv", "--entity", "activities").stdout)
    assert [a["id"] for a in acts] == ["1", "2", "3", "4"]
    assert acts[1]["subject"] == "'=cmd|' /C calc'!A0" and acts[1]["notes"] == "'+55 11"
    assert acts[1]["lead_id"] == "2" and acts[1]["contact_id"] == ""
    assert acts[0]["due"] == "2026-11-13T09:30:00" and acts[0]["done_at"] == "2026-11-13T10:00:00Z"
    assert acts[3]["owner"] == "Zoë" and "owner_key" not in acts[0]


def test_csv_needs_exactly_one_entity(crm: Run) -> None:
    result = crm("export", "--format", "csv", code=2)
    assert "exactly one --entity" in result.stderr and result.stdout == ""
    crm("export", "--format", "csv", "--entity", "leads", "--entity", "stages", code=2)
    crm("export", "--format", "xml", code=2)
    crm("export", "--entity", "history", code=2)


def test_json_export_of_chosen_entities(crm: Run) -> None:
    crm("lead", "add", "Ana")
    document = json.loads(crm("export", "--entity", "stages", "--entity", "leads").stdout)
    assert list(document) == ["format_version", "currency", "stages", "leads"]
    assert len(document["stages"]) == 5


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_output_file_is_0600_and_replaced_atomically(crm: Run, tmp_path: Path, fmt: str) -> None:
    crm("lead", "add", "Ana Lúcia")
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / f"export.{fmt}"
    target.write_text("old contents\n")
    target.chmod(0o644)
    result = crm("export", "--format", fmt, "--entity", "leads", "--output", str(target))
    assert result.stdout == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [target.name]
    assert "Ana Lúcia" in target.read_text(encoding="utf-8")


def test_output_into_a_missing_folder_fails_cleanly(crm: Run, tmp_path: Path) -> None:
    result = crm("export", "--output", str(tmp_path / "nope" / "x.json"), code=1)
    assert result.stderr.startswith("crm: error: cannot write")


def test_import_into_a_non_empty_database_is_refused_and_changes_nothing(
    crm: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _build(crm, monkeypatch)
    backup = tmp_path / "backup.json"
    backup.write_text(_export(crm), encoding="utf-8")
    other = str(tmp_path / "other.db")
    crm("--db", other, "lead", "add", "Somebody")
    crm("--db", other, "stage", "rename", "prospecting", "Prospecção")
    before = _export(crm, "--db", other)
    result = crm("--db", other, "import", str(backup), code=1)
    assert result.stderr == (
        "crm: error: import needs an empty database: this one has 1 leads "
        "(use --db with a new file)\n"
    )
    assert _export(crm, "--db", other) == before


def test_an_export_without_activities_still_imports(
    crm: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _build(crm, monkeypatch)
    document = json.loads(_export(crm))
    del document["activities"]  # as exports written before activities existed
    old = tmp_path / "old.json"
    old.write_text(json.dumps(document), encoding="utf-8")
    other = str(tmp_path / "other.db")
    counts = json.loads(crm("--db", other, "import", str(old), "--json").stdout)
    assert counts["activities"] == 0 and counts["leads"] == 4
    assert json.loads(_export(crm, "--db", other))["activities"] == []


def test_malformed_documents_exit_1_naming_what_is_wrong(
    crm: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _build(crm, monkeypatch)
    document = json.loads(_export(crm))
    document["opportunities"][1]["amount"] = "12.345"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    other = tmp_path / "other.db"
    result = crm("--db", str(other), "import", str(bad), code=1)
    assert "opportunities[1].amount" in result.stderr and "12.345" in result.stderr
    assert result.stderr.count("\n") == 1

    document["opportunities"][1]["amount"] = "12.34"
    document["activities"][0]["due"] = "2026-11-13T09:30:00Z"
    bad.write_text(json.dumps(document), encoding="utf-8")
    wrong_due = crm("--db", str(other), "import", str(bad), code=1).stderr
    assert "activities[0].due" in wrong_due and "not a local time" in wrong_due

    document["activities"][0]["due"] = "2026-11-13T09:30:00"
    document["format_version"] = 7
    bad.write_text(json.dumps(document), encoding="utf-8")
    assert "unknown format_version 7" in crm("--db", str(other), "import", str(bad), code=1).stderr

    bad.write_text('{"format_version": 1,', encoding="utf-8")
    assert "is not JSON" in crm("--db", str(other), "import", str(bad), code=1).stderr
    missing = crm("--db", str(other), "import", str(tmp_path / "missing.json"), code=1)
    assert "cannot read" in missing.stderr
    empty = json.loads(crm("--db", str(other), "lead", "list", "--json").stdout)
    assert empty == []


def test_json_export_is_one_record_per_line_with_money_and_times_as_everywhere(
    crm: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written by the C encoder record by record (issue 16): the same data as `--json`
    elsewhere (money as exact strings, UTC times with `Z`, a local due time without), each
    record of each list on a line of its own."""
    _build(crm, monkeypatch)
    text = _export(crm)
    document = json.loads(text)
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert lines[1] == '  "format_version": 1,'
    records = sum(len(v) for v in document.values() if isinstance(v, list))
    assert sum(1 for line in lines if line.startswith("    {")) == records
    lead = json.loads(crm("lead", "show", "1", "--json").stdout)
    exported = next(x for x in document["leads"] if x["id"] == 1)
    assert (exported["name"], exported["budget"]) == (lead["name"], lead["budget"])
    assert isinstance(exported["budget"], str) and exported["created_at"].endswith("Z")
    due = next(a["due"] for a in document["activities"] if a["due"])
    assert not due.endswith("Z")
