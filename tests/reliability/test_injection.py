"""Values are data, never SQL or spreadsheet formulas.

Search and filter values with quotes, `%`, `_`, backslashes and SQL fragments match literally;
options that name a field, status, grouping or format accept only their known names (exit 2);
no CSV that crm writes starts a text cell with `=`, `+`, `-`, `@`, tab or CR.
Runs the real CLI in-process (CliRunner) on a real SQLite file: many invocations, quickly.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_harness import dump
from typer.testing import CliRunner, Result

from crmcli.cli.app import app
from crmcli.domain.values import clean_name, normalise_name

NAMES = [
    "100% Café",
    "1000 Cafés",
    "under_score",
    "underXscore",
    "O'Brien",
    'Say "hi"',
    "back\\slash",
    "backslash",
    "'; DROP TABLE lead; --",
    "Robert'); DROP TABLE lead;--",
    "x' OR '1'='1",
    "a%b",
    "axxb",
    "=cmd|' /C calc'!A0",
    "+55 11 9999",
    "-2+3",
    "@SUM(A1)",
    "Tab\tinside",
    "Plain Name",
]
SEARCHES = [
    "%",
    "_",
    "%%",
    "under_score",
    "a%b",
    "'",
    '"',
    "\\",
    "\\%",
    "'; DROP TABLE lead; --",
    "' OR '1'='1",
    "x' OR '1'='1",
    "') OR 1=1 --",
    "*",
    "[a-z]",
    "?",
    "1 = 1",
]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


class Crm:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0) -> Result:
        result = self.runner.invoke(app, ["--db", str(self.db_path), *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        if code is not None:
            assert result.exit_code == code, (args, result.exit_code, result.stderr)
        return result

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crm]:
    """Leads, accounts, contacts and deals named with every troublesome character."""
    run = Crm(tmp_path_factory.mktemp("injection") / "crm.db")
    for n, name in enumerate(NAMES):
        # `--` before the name: "-2+3" is a name, not an option
        run(
            "lead",
            "add",
            "--email",
            f"lead{n}@example.com",
            "--company",
            name,
            "--source",
            name,
            "--owner",
            name,
            "--notes",
            name,
            "--",
            name,
        )
        run("account", "add", "--", f"{name} Ltda")
        run("contact", "add", "--account", f"{name} Ltda", "--email", f"c{n}@x.com", "--", name)
        run(
            "opp", "add", "--account", f"{name} Ltda", "--owner", name, "--amount", "10", "--", name
        )
    yield run


def expected_leads(term: str) -> set[str]:
    key = normalise_name(term)
    return {name for name in NAMES if key in normalise_name(name)}


@pytest.mark.parametrize("term", SEARCHES)
def test_lead_search_matches_literally(crm: Crm, term: str) -> None:
    before = dump(crm.db_path)
    found = crm.json("lead", "list", "--search", term)
    assert isinstance(found, list)
    assert {lead["name"] for lead in found} == expected_leads(term)
    assert dump(crm.db_path) == before


@pytest.mark.parametrize("term", SEARCHES)
def test_account_search_matches_literally(crm: Crm, term: str) -> None:
    found = crm.json("account", "list", "--search", term)
    assert isinstance(found, list)
    key = normalise_name(term)
    assert {a["name"] for a in found} == {
        f"{n} Ltda" for n in NAMES if key in normalise_name(f"{n} Ltda")
    }


@pytest.mark.parametrize("name", NAMES)
def test_exact_filters_match_only_the_same_value(crm: Crm, name: str) -> None:
    by_source = crm.json("lead", "list", "--source", name)
    by_owner = crm.json("lead", "list", "--owner", name)
    deals = crm.json("opp", "list", "--owner", name)
    assert isinstance(by_source, list) and isinstance(by_owner, list) and isinstance(deals, list)
    stored = clean_name(name)  # a name is one line: a tab in it is stored as a space
    assert [lead["name"] for lead in by_source] == [stored]
    assert [lead["name"] for lead in by_owner] == [stored]
    assert [deal["name"] for deal in deals] == [stored]
    account = crm.json("opp", "list", "--account", f"{name} Ltda")
    assert isinstance(account, list) and [deal["name"] for deal in account] == [stored]


@pytest.mark.parametrize("term", ["%", "_", "' OR '1'='1", "' OR 1=1; DROP TABLE lead; --", "*"])
def test_wildcards_in_exact_filters_match_nothing(crm: Crm, term: str) -> None:
    for args in (
        ["lead", "list", "--source", term],
        ["lead", "list", "--owner", term],
        ["opp", "list", "--owner", term],
        ["activity", "list", "--owner", term],
    ):
        assert crm.json(*args) == [], args
    # a named account or stage that does not exist is refused, never "all of them"
    for args in (["opp", "list", "--account", term], ["opp", "list", "--stage", term]):
        refused = crm(*args, "--json", code=1)
        assert refused.stdout == "" and len(refused.stderr.splitlines()) == 1


def test_the_tables_are_all_still_there(crm: Crm) -> None:
    conn = sqlite3.connect(crm.db_path)
    try:
        counts = {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("lead", "account", "contact", "opportunity")
        }
    finally:
        conn.close()
    assert counts == dict.fromkeys(counts, len(NAMES))


@pytest.mark.parametrize(
    "args",
    [
        ["lead", "list", "--status", "new' OR '1'='1"],
        ["lead", "list", "--status", "NEW; DROP TABLE lead"],
        ["opp", "list", "--status", "open--"],
        ["contact", "list", "--type", "customer'"],
        ["report", "win-rate", "--by", "owner, (SELECT 1)"],
        ["report", "win-rate", "--by", "name"],
        ["forecast", "--by", "month; DROP TABLE lead"],
        ["export", "--format", "csv", "--entity", "sqlite_master"],
        ["export", "--format", "csv", "--entity", "lead"],
        ["export", "--format", "xlsx"],
        ["lead", "import", "-", "--on-duplicate", "replace"],
        ["activity", "add", "x", "--type", "call' --", "--lead", "1"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_named_choices_accept_only_known_names(crm: Crm, args: list[str]) -> None:
    before = dump(crm.db_path)
    refused = crm(*args, code=2)
    (line,) = refused.stderr.splitlines()
    assert "error" in line and "Traceback" not in refused.stderr
    assert dump(crm.db_path) == before


def csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_no_formula(text: str, where: str) -> list[list[str]]:
    table = csv_cells(text)
    assert len(table) > 1, where
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA), f"{where}: {cell!r}"
    return table


@pytest.mark.parametrize(
    "args",
    [
        ["lead", "list", "--csv"],
        ["account", "list", "--csv"],
        ["contact", "list", "--csv"],
        ["opp", "list", "--csv"],
        ["pipeline", "report", "--csv"],
        ["export", "--format", "csv", "--entity", "leads"],
        ["export", "--format", "csv", "--entity", "accounts"],
        ["export", "--format", "csv", "--entity", "contacts"],
        ["export", "--format", "csv", "--entity", "opportunities"],
    ],
    ids=lambda a: " ".join(a[:2]) + (f" {a[-1]}" if a[0] == "export" else ""),
)
def test_csv_never_starts_a_text_cell_with_a_formula_character(crm: Crm, args: list[str]) -> None:
    table = assert_no_formula(crm(*args).stdout, " ".join(args))
    if args[0] != "pipeline":  # the neutralised names are still there, marked as text
        flat = {cell for row in table for cell in row}
        assert "'=cmd|' /C calc'!A0" in flat or "'=cmd|' /C calc'!A0 Ltda" in flat
        assert "'-2+3" in flat or "'-2+3 Ltda" in flat


def test_rejects_file_never_starts_a_cell_with_a_formula_character(
    crm: Crm, tmp_path: Path
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        'Nome,E-mail,Notas\n=1+1,not-an-email,@SUM(A1)\n"\tx",+bad,-3\n', encoding="utf-8"
    )
    rejects = tmp_path / "rejects.csv"
    ran = crm("lead", "import", str(source), "--dry-run", "--rejects", str(rejects), code=3)
    assert "Traceback" not in ran.stderr
    table = assert_no_formula(rejects.read_text(encoding="utf-8"), "rejects")
    assert len(table) == 3
