"""Hostile text through real `python -m crmcli` processes (issue 11, findings 7, 9 and 16).

Escape sequences from a CSV header or a JSON restore never reach a terminal or a pipe; names
cannot hide format or separator characters, and their matching keys fold them (NFKC too); a
huge note is capped when shown, never when stored, and a CSV export of it imports back; the JSON
restore is held to the validation of every other entry point.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from make_fixtures import build
from reliability_harness import Ran, crm, rows

ESC_HEADER = "\x1b]0;pwned\x07Note"
CLEAR_HEADER = "\x1b[2JColour"


def _clean_output(ran: Ran) -> None:
    """No control or separator character reaches stdout or stderr (newlines aside)."""
    for text in (ran.stdout, ran.stderr):
        for bad in ("\x1b", "\x07", "\x00", "\x9b", "\u2028", "\u2029", "\u202e", "\x7f"):
            assert bad not in text, (bad, text[:500])


def _csv(path: Path, header: list[str], count: int = 40) -> Path:
    lines = [",".join(header)] + [
        ",".join([f"Lead {i}", f"l{i}@x.com"] + ["v"] * (len(header) - 2)) for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- finding 7: escape sequences ---------------------------------------------------------


def test_a_csv_header_with_escape_sequences_is_refused_naming_the_column(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    source = _csv(tmp_path / "in.csv", ["name", "email", ESC_HEADER, CLEAR_HEADER])
    ran = crm("lead", "import", str(source), db=db)
    assert ran.code == 1
    line = ran.one_line_error()
    assert line.startswith("crm: error: header of column 3: ")
    assert "contains a control character" in line
    _clean_output(ran)
    listed = crm("lead", "list", "--json", db=db)
    assert json.loads(listed.stdout) == []


def _export(db: Path) -> dict[str, Any]:
    ran = crm("export", db=db)
    assert ran.code == 0, ran.stderr
    document: dict[str, Any] = json.loads(ran.stdout)
    return document


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A JSON export holding one lead (with extras), one account, one won and one open deal."""
    db = tmp_path_factory.mktemp("document") / "source.db"
    for args in (
        ["lead", "add", "Ana", "--email", "ana@x.com", "--notes", "hello"],
        ["opp", "add", "Big deal", "--account", "Acme", "--amount", "10"],
        ["opp", "add", "Small deal", "--account", "Acme", "--amount", "5"],
        ["opp", "win", "Big deal"],
    ):
        ran = crm(*args, db=db)
        assert ran.code == 0, ran.stderr
    exported = _export(db)
    exported["leads"][0]["extras"] = {"Colour": "blue"}
    return exported


def _restore(tmp_path: Path, doc: dict[str, Any], name: str = "restored.db") -> tuple[Ran, Path]:
    target = tmp_path / name
    source = tmp_path / f"{name}.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    return crm("import", str(source), db=target), target


def test_the_document_fixture_restores(tmp_path: Path, document: dict[str, Any]) -> None:
    ran, target = _restore(tmp_path, document)
    assert ran.code == 0, ran.stderr
    shown = crm("lead", "show", "1", db=target)
    assert "Colour" in shown.stdout and "blue" in shown.stdout


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        (("leads", 0, "name"), "An\x1b[2Ja", 'leads[0].name: "An\\x1b[2Ja" contains a control'),
        (("leads", 0, "name"), "Ana\x00", 'leads[0].name: "Ana\\x00" contains a control'),
        (("leads", 0, "notes"), "\x1b]8;;file:///etc\x07x", "leads[0].notes: "),
        (("leads", 0, "extras"), {ESC_HEADER: "x"}, "leads[0].extras key: "),
        (("leads", 0, "extras"), {"Colour": "\x9b2J"}, "leads[0].extras.Colour: "),
        (("accounts", 0, "name"), "Ac\x07me", "accounts[0].name: "),
        (("leads", 0, "name"), "", "leads[0].name: must not be empty"),
        (("leads", 0, "name"), " \u200b ", "leads[0].name: must not be empty"),
        (("leads", 0, "name"), "x" * 501, "leads[0].name: is longer than 500 characters"),
        (("leads", 0, "email"), "not-an-address", "leads[0].email: "),
        (("opportunities", 0, "closed_at"), None, "a won deal needs closed_at"),
        (("opportunities", 1, "closed_at"), "2026-01-02T03:04:05Z", "an open deal has no"),
        (("leads", 0, "id"), 2**63 - 1, f"leads[0].id: {2**63 - 1} is not an id from 1 to"),
        (("leads", 0, "id"), 0, "leads[0].id: 0 is not an id from 1 to 2147483647"),
        (("opportunities", 0, "stage_id"), -1, "opportunities[0].stage_id: -1 is not an id"),
    ],
)
def test_the_json_restore_is_held_to_the_rules_of_every_other_entry_point(
    tmp_path: Path, document: dict[str, Any], path: tuple[str, int, str], value: Any, says: str
) -> None:
    doc = copy.deepcopy(document)
    entity, index, field = path
    doc[entity][index][field] = value
    ran, target = _restore(tmp_path, doc)
    assert ran.code == 1, ran.stdout
    line = ran.one_line_error()
    assert says in line, line
    if "control" in says or "extras" in says:
        assert "control character" in line
    _clean_output(ran)
    assert not target.exists() or rows(target, "SELECT count(*) FROM lead") == [(0,)]


def test_old_rows_with_escapes_are_escaped_when_shown(tmp_path: Path) -> None:
    """Rows written before the cleaning (an older crm, another tool): render escapes them."""
    db = tmp_path / "crm.db"
    assert crm("lead", "add", "Ana", db=db).code == 0
    assert crm("opp", "add", "Deal", "--account", "Acme", db=db).code == 0
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE lead SET name = ?, extras = ?, notes = ?",
            (
                "Ana\u2028qualified  Fake row\x1b[2J",
                json.dumps({ESC_HEADER: "\x1b[31mred", CLEAR_HEADER: "\u202egnp.exe"}),
                "line one\nline two\x9b",
            ),
        )
        conn.execute("UPDATE opportunity SET name = ?", ("Deal\x1b]8;;file:///x\x07click",))
    conn.close()
    for args in (["lead", "show", "1"], ["lead", "list"], ["opp", "list"], ["opp", "show", "1"]):
        ran = crm(*args, db=db)
        assert ran.code == 0, ran.stderr
        _clean_output(ran)
        assert "\\x1b" in ran.stdout  # shown, escaped, not dropped
    listed = crm("lead", "list", db=db)
    assert len(listed.stdout.splitlines()) == 2  # the header and one row: no fake row
    shown = crm("lead", "show", "1", db=db).stdout
    assert "\\u2028" in shown and "\\u202e" in shown and "line one\\nline two" in shown


def test_stderr_notes_quoting_an_old_stored_name_are_escaped(tmp_path: Path) -> None:
    """A note that names a record (`deleted lead 1 (…)`) escapes what an old row holds."""
    db = tmp_path / "crm.db"
    assert crm("lead", "add", "Ana", db=db).code == 0
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE lead SET name = ?", ("Ana\x1b]0;pwned\x07\u2028fake",))
    conn.close()
    deleted = crm("lead", "delete", "1", "--yes", db=db)
    assert deleted.code == 0, deleted.stderr
    _clean_output(deleted)
    assert deleted.stderr.count("\n") == 1 and "\\x1b" in deleted.stderr


# -- finding 9: invisible characters in names ----------------------------------------------


def test_a_name_cannot_fake_a_row_and_lookalike_names_are_one_name(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    added = crm("lead", "add", "Ana\u2028qualified\u2029x\u200b", "--json", db=db)
    assert added.code == 0, added.stderr
    assert json.loads(added.stdout)["name"] == "Ana qualified x"
    assert len(crm("lead", "list", db=db).stdout.splitlines()) == 2
    assert crm("account", "add", "Acme", db=db).code == 0
    for lookalike in ("Ａｃｍｅ", "Ac\u200bme", "A\u202ecme\u202c", "\ufeffACME", "Acme\u2028"):
        again = crm("account", "add", lookalike, db=db)
        assert again.code == 1, (lookalike, again.stdout)
        assert "already" in again.one_line_error() or "duplicate" in again.stderr
        found = crm("account", "show", lookalike, "--json", db=db)
        assert found.code == 0, found.stderr
        assert json.loads(found.stdout)["id"] == 1
    listed = json.loads(crm("account", "list", "--json", db=db).stdout)
    assert [a["name"] for a in listed] == ["Acme"]
    accented = crm("account", "add", "Café Três Rios", "--json", db=db)
    assert json.loads(accented.stdout)["name"] == "Café Três Rios"  # accents are kept


def test_the_upgrade_refolds_the_keys_of_old_rows_and_merges_nothing(tmp_path: Path) -> None:
    db = build(tmp_path / "crm.db", 3)
    conn = sqlite3.connect(db)
    with conn:
        for name, key in (
            ("Acme™", "acme™"),  # key becomes "acmetm"
            ("Ｇｌｏｂｅｘ", "ｇｌｏｂｅｘ"),  # becomes "globex"
            ("GLOBEX", "globex"),  # ... which this ASCII account already holds
            ("Café Três Rios 2", "café três rios 2"),  # 0007 drops the accents
        ):
            conn.execute(
                "INSERT INTO account (name, name_key, created_at) VALUES (?, ?, ?)",
                (name, key, "2026-01-02 03:04:05"),
            )
    conn.close()
    listed = crm("account", "list", "--json", db=db)
    assert listed.code == 0, listed.stderr
    keys = dict(rows(db, "SELECT name, name_key FROM account"))
    assert keys["Acme™"] == "acmetm"
    assert keys["Ｇｌｏｂｅｘ"] == "ｇｌｏｂｅｘ"  # kept: another account holds "globex"
    assert keys["GLOBEX"] == "globex"
    assert keys["Café Três Rios 2"] == "cafe tres rios 2"
    assert len(json.loads(listed.stdout)) == 6  # the fixture's two, and these four
    shown = crm("account", "show", "ACMETM", "--json", db=db)
    assert json.loads(shown.stdout)["name"] == "Acme™"


# -- finding 16: huge notes ----------------------------------------------------------------


def test_a_ten_megabyte_note_is_capped_when_shown_never_when_stored(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    doc = copy.deepcopy(document)
    note = "0123456789" * 1_000_000
    doc["leads"][0]["notes"] = note
    ran, target = _restore(tmp_path, doc)
    assert ran.code == 0, ran.stderr
    shown = crm("lead", "show", "1", db=target)
    assert shown.code == 0, shown.stderr
    assert len(shown.stdout) < 5_000
    words = " ".join(shown.stdout.split())  # the capped cell is folded over a few lines
    assert "… (9,998,000 more characters; --json shows all)" in words
    full = json.loads(crm("lead", "show", "1", "--json", db=target).stdout)
    assert full["notes"] == note


def test_a_csv_export_with_a_200k_character_note_imports_back(tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    document = {
        "format_version": 1,
        "currency": "BRL",
        "stages": [],
        "accounts": [],
        "contacts": [],
        "opportunities": [],
        "leads": [],
    }
    ran, _ = _restore(tmp_path, document, "empty.db")
    assert ran.code == 0, ran.stderr
    assert crm("lead", "add", "Ana", "--email", "ana@x.com", db=source).code == 0
    note = 'a long, quoted "note"\n' * 10_000  # 220,000 characters, commas, quotes, newlines
    doc = _export(source)
    doc["leads"][0]["notes"] = note.strip()
    restored, db = _restore(tmp_path, doc, "with-note.db")
    assert restored.code == 0, restored.stderr
    exported = tmp_path / "leads.csv"
    assert (
        crm("export", "--format", "csv", "--entity", "leads", "-o", str(exported), db=db).code == 0
    )
    again = tmp_path / "again.db"
    imported = crm("lead", "import", str(exported), db=again)
    assert imported.code == 0, imported.stderr
    lead = json.loads(crm("lead", "show", "1", "--json", db=again).stdout)
    assert lead["notes"] == note.strip()
