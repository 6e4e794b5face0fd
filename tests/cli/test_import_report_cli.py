"""`crm lead import` / `crm opp import` say what they did: which column fed which field and
which fed none (with a ready `--map` hint), how many rows had no e-mail (matched by name and
company or phone instead, so a second run adds nothing), at most 20 rejected rows on stderr,
a rejects file written as the source was (delimiter, encoding, BOM), the change set recorded;
and crm's own CSV (`lead list --csv`, `export --format csv`) imports back to the same leads."""

from __future__ import annotations

import codecs
import csv
import io
import json
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
JsonRun = Callable[..., Any]


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def crlf(*lines: str) -> str:
    return "".join(f"{line}\r\n" for line in lines)


def lines_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# -- 1. the mapping report ------------------------------------------------------------------

MAPPED_FILE = crlf(
    "Nome;E-mail;Telefone;Prazo de decisão;Código interno",
    "Ana Lima;ana@x.com;11 98765-4321;31/12/2026;A-7",
)


def test_summary_and_dry_run_show_the_mapping_and_a_ready_map_hint(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    path = write(tmp_path, "feira.csv", MAPPED_FILE.encode("utf-8"))
    for extra in (("--dry-run",), ()):
        out = crm("lead", "import", path, *extra).stdout
        assert 'Columns: "Nome" → name, "E-mail" → email, "Telefone" → phone' in out, out
        assert 'Kept as extras (no field): "Prazo de decisão", "Código interno"' in out
        (hint,) = [line for line in lines_of(out) if "--map" in line]
        assert "--map 'Prazo de decisão=timeline'" in hint
        assert "--map 'Código interno=FIELD'" in hint
    (lead,) = crm_json("lead", "list")
    assert lead["timeline"] is None  # kept as an extra, as the summary said
    shown = json.loads(crm("lead", "show", str(lead["id"]), "--json").stdout)
    assert shown["extras"] == {"Prazo de decisão": "31/12/2026", "Código interno": "A-7"}


def test_the_hint_works_as_printed(crm: Run, crm_json: JsonRun, tmp_path: Path) -> None:
    path = write(tmp_path, "feira.csv", MAPPED_FILE.encode("utf-8"))
    out = crm("lead", "import", path, "--dry-run").stdout
    (hint,) = [line for line in lines_of(out) if "--map" in line]
    words = shlex.split(hint.split(": ", 1)[1])
    assert words == ["--map", "Prazo de decisão=timeline", "--map", "Código interno=FIELD"]
    data = json.loads(crm("lead", "import", path, *words[:2], "--json").stdout)
    assert data["mapping"]["Prazo de decisão"] == "timeline"
    assert data["unmapped"] == ["Código interno"]
    (lead,) = crm_json("lead", "list")
    assert lead["timeline"] == "2026-12-31"


def test_json_summary_has_mapping_and_unmapped(crm: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "feira.csv", MAPPED_FILE.encode("utf-8"))
    data = json.loads(crm("lead", "import", path, "--dry-run", "--json").stdout)
    assert data["mapping"] == {"Nome": "name", "E-mail": "email", "Telefone": "phone"}
    assert data["unmapped"] == ["Prazo de decisão", "Código interno"]
    assert list(data["mapping"]) == ["Nome", "E-mail", "Telefone"]  # file order


def test_a_column_kept_on_purpose_gets_no_hint(crm: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "feira.csv", MAPPED_FILE.encode("utf-8"))
    out = crm("lead", "import", path, "--dry-run", "--map", "Código interno=-").stdout
    (hint,) = [line for line in lines_of(out) if "--map" in line]
    assert "Código" not in hint and "Prazo de decisão=timeline" in hint


def test_opp_import_reports_a_header_it_does_not_know(crm: Run, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        b"name,account,amount,close\nERP rollout,Acme,1000,2026-12-31\n",
    )
    data = json.loads(crm("opp", "import", path, "--dry-run", "--json").stdout)
    assert data["mapping"] == {"name": "name", "account": "account", "amount": "amount"}
    assert data["unmapped"] == ["close"]
    out = crm("opp", "import", path).stdout
    assert 'Not imported (no field): "close"' in out
    assert "--map 'close=expected_close'" in out


# -- 2. rows without an e-mail ---------------------------------------------------------------

NO_EMAIL_FILE = crlf(
    "Nome;E-mail;Telefone;Empresa;Cargo",
    "Ana Lima;;;Acme Ltda;",
    "Bruno Reis;;+55 11 98765-4321;;",
    "Carla Dias;carla@x.com;;;",
    "ANA LIMA;;;ACME;CTO",  # the same as line 2 (name and company keys)
    "B. Reis;;(11) 98765-4321;;Dono",  # the same as line 3 (phone digits)
    "Davi Melo;;;;",  # no e-mail, no company, no phone: nothing to match by
)


def test_rows_without_email_are_matched_and_a_second_run_adds_nothing(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    path = write(tmp_path, "sem-email.csv", NO_EMAIL_FILE.encode("utf-8"))
    first = crm("lead", "import", path, "--json")
    data = json.loads(first.stdout)
    counts = [data[k] for k in ("read", "inserted", "updated", "skipped", "rejected")]
    assert counts == [6, 4, 0, 2, 0]
    assert data["without_email"] == 5
    assert "5 rows had no e-mail: matched by name and company, or phone, instead" in first.stderr
    names = sorted(lead["name"] for lead in crm_json("lead", "list"))
    assert names == ["Ana Lima", "Bruno Reis", "Carla Dias", "Davi Melo"]

    again = json.loads(crm("lead", "import", path, "--json").stdout)
    assert [again[k] for k in ("inserted", "updated", "skipped")] == [1, 0, 5]
    # only the lead with nothing to match by comes in twice
    names = sorted(lead["name"] for lead in crm_json("lead", "list"))
    assert names == ["Ana Lima", "Bruno Reis", "Carla Dias", "Davi Melo", "Davi Melo"]


def test_rows_without_email_fill_in_with_on_duplicate_update(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    crm("lead", "add", "Ana Lima", "--company", "ACME S.A.", "--email", "ana@acme.com")
    crm("lead", "add", "Bruno", "--phone", "11 98765-4321")
    path = write(tmp_path, "sem-email.csv", NO_EMAIL_FILE.encode("utf-8"))
    data = json.loads(crm("lead", "import", path, "--on-duplicate", "update", "--json").stdout)
    # lines 2 and 5 are Ana (by name and company: a lead with an e-mail too), lines 3 and 6
    # Bruno (by phone); lines 2 and 3 have nothing to fill in, lines 5 and 6 a title
    assert [data[k] for k in ("inserted", "updated", "skipped")] == [2, 2, 2]
    leads = {lead["name"]: lead for lead in crm_json("lead", "list")}
    assert leads["Ana Lima"]["title"] == "CTO"
    assert leads["Ana Lima"]["email"] == "ana@acme.com"
    assert leads["Bruno"]["title"] == "Dono"
    assert set(leads) == {"Ana Lima", "Bruno", "Carla Dias", "Davi Melo"}


def test_rows_without_email_match_across_batches(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    from crmcli.services.imports import BATCH

    rows = [f"Pessoa {i};;;Empresa {i}" for i in range(BATCH + 10)]
    rows += ["PESSOA 3;;;empresa 3", f"Pessoa {BATCH + 5};;;Empresa {BATCH + 5}"]
    path = write(tmp_path, "big.csv", crlf("Nome;E-mail;Telefone;Empresa", *rows).encode())
    data = json.loads(crm("lead", "import", path, "--json").stdout)
    assert [data[k] for k in ("inserted", "skipped")] == [BATCH + 10, 2]
    assert data["without_email"] == BATCH + 12


def test_a_file_with_emails_says_nothing_about_them(crm: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "ok.csv", b"Nome,E-mail\nAna,ana@x.com\n")
    result = crm("lead", "import", path, "--json")
    assert json.loads(result.stdout)["without_email"] == 0
    assert "e-mail" not in result.stderr


# -- 3. at most 20 rejected rows on stderr ---------------------------------------------------


def bad_rows_file(tmp_path: Path, bad: int) -> str:
    rows = [f"Pessoa {i};ruim{i}@@x" for i in range(bad)] + ["Boa;boa@x.com"]
    return write(tmp_path, "ruins.csv", crlf("Nome;E-mail", *rows).encode())


def rejected_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if ": line " in line]


def test_stderr_lists_20_rejected_rows_then_points_at_the_rejects_file(
    crm: Run, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejeitados.csv"
    result = crm("lead", "import", bad_rows_file(tmp_path, 27), "--rejects", str(rejects), code=3)
    shown = rejected_lines(result)
    assert len(shown) == 20
    assert shown[0].endswith('line 2: E-mail: "ruim0@@x" is not a valid e-mail address')
    assert shown[-1].startswith("crm: line 21:")
    assert f"crm: … 7 more rejected rows — see {rejects}" in result.stderr.splitlines()
    with rejects.open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.reader(handle))) == 1 + 27  # the file has every one
    data = json.loads(
        crm("lead", "import", bad_rows_file(tmp_path, 27), "--json", "--dry-run", code=3).stdout
    )
    assert data["rejected"] == 27 and len(data["errors"]) == 27  # the summary counts all


def test_without_rejects_the_last_line_suggests_it(crm: Run, tmp_path: Path) -> None:
    result = crm("lead", "import", bad_rows_file(tmp_path, 21), code=3)
    assert len(rejected_lines(result)) == 20
    assert (
        "crm: … 1 more rejected row — list them all with --rejects FILE"
        in result.stderr.splitlines()
    )


def test_twenty_rejected_rows_are_all_shown_with_no_tail_line(crm: Run, tmp_path: Path) -> None:
    result = crm("lead", "import", bad_rows_file(tmp_path, 20), code=3)
    assert len(rejected_lines(result)) == 20
    assert "more rejected" not in result.stderr


def test_opp_import_caps_rejected_rows_too(crm: Run, tmp_path: Path) -> None:
    rows = [f"Deal {i},Acme,muito" for i in range(23)]
    path = write(tmp_path, "deals.csv", ("name,account,amount\n" + "\n".join(rows)).encode())
    result = crm("opp", "import", path, code=3)
    assert len(rejected_lines(result)) == 20
    assert "crm: … 3 more rejected rows — list them all with --rejects FILE" in result.stderr


# -- 4. the rejects file is written as the source was -----------------------------------------

BAD_PT = ["Nome", "E-mail", "Orçamento"], [["João Ávila", "joão@@x", "R$ 1.234,56"]]


def pt_rows(header: list[str], rows: list[list[str]], sep: str) -> str:
    return crlf(*(sep.join(r) for r in [header, *rows]))


def test_rejects_of_a_cp1252_semicolon_file_are_cp1252_semicolon(crm: Run, tmp_path: Path) -> None:
    header, rows = BAD_PT
    path = write(tmp_path, "excel.csv", pt_rows(header, rows, ";").encode("cp1252"))
    rejects = tmp_path / "rejeitados.csv"
    crm("lead", "import", path, "--rejects", str(rejects), code=3)
    data = rejects.read_bytes()
    assert data.startswith("Nome;E-mail;Orçamento;reason\r\n".encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # Windows-1252, as the source: Excel opens it the same way
    table = list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))
    assert table[0] == [*header, "reason"]
    assert table[1][:3] == rows[0]
    assert table[1][3].startswith('line 2: E-mail: "joão@@x"')


def test_rejects_of_a_utf8_bom_file_keep_the_bom(crm: Run, tmp_path: Path) -> None:
    header, rows = BAD_PT
    data = codecs.BOM_UTF8 + pt_rows(header, rows, ",").encode("utf-8")
    path = write(tmp_path, "bom.csv", data)
    rejects = tmp_path / "rejeitados.csv"
    crm("lead", "import", path, "--rejects", str(rejects), code=3)
    written = rejects.read_bytes()
    assert written.startswith(codecs.BOM_UTF8 + b"Nome,E-mail,Or\xc3\xa7amento,reason\r\n")
    assert written.count(codecs.BOM_UTF8) == 1


def test_rejects_of_a_plain_utf8_tab_file_have_no_bom(crm: Run, tmp_path: Path) -> None:
    header, rows = BAD_PT
    path = write(tmp_path, "tab.csv", pt_rows(header, rows, "\t").encode("utf-8"))
    rejects = tmp_path / "rejeitados.csv"
    crm("lead", "import", path, "--rejects", str(rejects), code=3)
    assert rejects.read_bytes().startswith("Nome\tE-mail\tOrçamento\treason\r\n".encode())


def test_rejects_of_a_utf16_file_are_utf16_with_its_bom(crm: Run, tmp_path: Path) -> None:
    header, rows = BAD_PT
    data = codecs.BOM_UTF16_LE + pt_rows(header, rows, "\t").encode("utf-16-le")
    path = write(tmp_path, "unicode.txt", data)
    rejects = tmp_path / "rejeitados.txt"
    crm("lead", "import", path, "--rejects", str(rejects), code=3)
    written = rejects.read_bytes()
    assert written.startswith(codecs.BOM_UTF16_LE)
    text = written[2:].decode("utf-16-le")
    assert text.startswith("Nome\tE-mail\tOrçamento\treason\r\n")
    assert "João Ávila\tjoão@@x" in text


def test_rejects_of_an_opp_import_keep_the_semicolons(crm: Run, tmp_path: Path) -> None:
    text = crlf("Nome;Empresa;Valor", "Implantação;Açaí Ltda;muito")
    path = write(tmp_path, "deals.csv", text.encode("cp1252"))
    rejects = tmp_path / "rejeitados.csv"
    crm("opp", "import", path, "--rejects", str(rejects), code=3)
    lines = rejects.read_bytes().decode("cp1252").splitlines()
    assert lines[0] == "Nome;Empresa;Valor;reason"
    assert lines[1].startswith("Implantação;Açaí Ltda;muito;")


# -- 5. the change set ---------------------------------------------------------------------


def newest_change_set(crm: Run) -> dict[str, Any]:
    return json.loads(crm("history", "--limit", "1", "--json").stdout)[0]


def test_json_gives_the_change_set_the_import_recorded(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    crm("lead", "add", "Antes", "--email", "antes@x.com")
    path = write(tmp_path, "a.csv", b"Nome,E-mail\nAna,ana@x.com\nBia,bia@x.com\n")
    dry = json.loads(crm("lead", "import", path, "--dry-run", "--json").stdout)
    assert dry["change_set"] is None
    data = json.loads(crm("lead", "import", path, "--json").stdout)
    recorded = newest_change_set(crm)
    assert data["change_set"] == recorded["id"]
    assert recorded["command"].startswith("lead import")
    again = json.loads(crm("lead", "import", path, "--json").stdout)
    assert again["skipped"] == 2 and again["change_set"] is None  # nothing written
    out = crm("lead", "import", path, "--on-duplicate", "update").stdout
    assert "change set" not in out
    crm("undo", str(data["change_set"]), "--yes")
    assert [lead["name"] for lead in crm_json("lead", "list")] == ["Antes"]


def test_the_table_names_the_change_set_and_its_undo(crm: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"name,account\nERP,Acme\n")
    out = crm("opp", "import", path).stdout
    recorded = newest_change_set(crm)["id"]
    assert f"Recorded as change set {recorded} (crm undo {recorded} reverts it)." in out
    data = json.loads(crm("opp", "import", path, "--dry-run", "--json").stdout)
    assert data["change_set"] is None


# -- 6. crm's own CSV imports back -----------------------------------------------------------

KEPT = ("name", "email", "phone", "company", "title", "source", "budget", "timeline", "owner")


def add_formula_like_leads(crm: Run) -> None:
    crm(
        "lead", "add", "=cmd", "--phone", "+55 11 98765-4321", "--notes", "@x",
        "--email", "cmd@x.com", "--company", "-Acme", "--budget", "1234.50",
        "--timeline", "2026-12-31", "--title", "+CEO", "--source", "@feira",
    )  # fmt: skip
    crm("lead", "add", "@ana", "--phone", "-1", "--notes", "=1+1", "--company", "Beta")
    crm("lead", "add", "'quoted", "--notes", "'=kept", "--title", "'plain")


def records(crm: Run, db: str | None, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    prefix = ("--db", db) if db else ()
    listed = json.loads(crm(*prefix, "lead", "list", "--json").stdout)
    out = []
    for lead in sorted(listed, key=lambda lead: lead["name"]):
        shown = json.loads(crm(*prefix, "lead", "show", str(lead["id"]), "--json").stdout)
        out.append({k: shown[k] for k in keys})
    return out


def test_lead_list_csv_imports_back_into_identical_leads(
    crm: Run, tmp_path: Path, new_database_url: Callable[[], str]
) -> None:
    add_formula_like_leads(crm)
    exported = crm("lead", "list", "--csv").stdout
    assert "'=cmd" in exported and "'+55 11 98765-4321" in exported  # neutralised on the way out
    path = write(tmp_path, "leads.csv", exported.encode("utf-8"))
    fresh = new_database_url()
    result = crm("--db", fresh, "lead", "import", path, "--json")
    data = json.loads(result.stdout)
    assert (data["inserted"], data["rejected"]) == (3, 0)
    assert data["ignored"] == ["id", "status", "contact_id", "account_id", "opportunity_id"]
    assert [h for h in data["unmapped"] if h != "tags"] == []  # tags: not this import's
    keys = (*KEPT, "extras", "status")
    assert records(crm, fresh, keys) == records(crm, None, keys)
    (cmd,) = [r for r in records(crm, fresh, keys) if r["email"]]
    assert (cmd["name"], cmd["phone"], cmd["company"]) == ("=cmd", "+55 11 98765-4321", "-Acme")
    assert (cmd["title"], cmd["source"]) == ("+CEO", "@feira")


def test_export_csv_imports_back_with_notes_and_extras(
    crm: Run, tmp_path: Path, new_database_url: Callable[[], str]
) -> None:
    add_formula_like_leads(crm)
    extra = write(tmp_path, "extra.csv", "Nome,E-mail,Código\nCarla,c@x.com,=7\n".encode())
    crm("lead", "import", extra)
    exported = crm("export", "--format", "csv", "--entity", "leads").stdout
    assert "'@x" in exported
    path = write(tmp_path, "export.csv", exported.encode("utf-8"))
    fresh = new_database_url()
    data = json.loads(crm("--db", fresh, "lead", "import", path, "--json").stdout)
    assert (data["inserted"], data["rejected"]) == (4, 0)
    assert data["mapping"]["notes"] == "notes" and data["mapping"]["extras"] == "extras"
    assert "id" in data["ignored"] and "created_at" in data["ignored"]
    keys = (*KEPT, "notes", "extras", "status")
    assert records(crm, fresh, keys) == records(crm, None, keys)
    notes = {r["name"]: r["notes"] for r in records(crm, fresh, keys)}
    assert notes == {"=cmd": "@x", "@ana": "=1+1", "'quoted": "'=kept", "Carla": None}
    extras = {r["name"]: r["extras"] for r in records(crm, fresh, keys)}
    assert extras["Carla"] == {"Código": "=7"}


def test_a_quote_before_other_text_is_data(crm: Run, crm_json: JsonRun, tmp_path: Path) -> None:
    text = "Nome,E-mail,Cargo,Observações,Origem\n'Ana,ana@x.com,'abc,''=x,'=y\n"
    path = write(tmp_path, "q.csv", text.encode())
    crm("lead", "import", path)
    (lead,) = crm_json("lead", "list")
    shown = json.loads(crm("lead", "show", str(lead["id"]), "--json").stdout)
    # only the one quote crm's CSV would have added goes
    assert (shown["name"], shown["title"]) == ("'Ana", "'abc")
    assert (shown["notes"], shown["source"]) == ("'=x", "=y")


def test_a_third_party_status_column_is_still_kept_as_an_extra(crm: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", b"id,Nome,E-mail,Status\n9,Ana,ana@x.com,quente\n")
    data = json.loads(crm("lead", "import", path, "--json").stdout)
    assert data["ignored"] == [] and data["unmapped"] == ["id", "Status"]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement sent to a PostgreSQL server while the test runs (all of them go
    through `PsycopgConn._send`; SQLite's go through sqlite3 itself, unseen here)."""
    from crmcli.store.sql import PsycopgConn

    sent: list[str] = []
    send = PsycopgConn._send

    def record(self: PsycopgConn, sql: str, params: Any) -> Any:
        sent.append(sql)
        return send(self, sql, params)

    monkeypatch.setattr(PsycopgConn, "_send", record)
    yield sent


def test_rows_without_email_are_looked_up_once_per_batch(
    crm: Run, tmp_path: Path, statements: list[str], backend: str
) -> None:
    from crmcli.services.imports import BATCH

    rows = 3 * BATCH
    lines = [f"Pessoa {i};;11 9{i:04d}-{i % 7:04d};Empresa {i % 40}" for i in range(rows)]
    path = write(tmp_path, "big.csv", crlf("Nome;E-mail;Telefone;Empresa", *lines).encode())
    crm("db", "init")
    first = json.loads(crm("lead", "import", path, "--json").stdout)
    assert (first["inserted"], first["without_email"]) == (rows, rows)
    statements.clear()
    again = json.loads(crm("lead", "import", path, "--json").stdout)
    assert (again["inserted"], again["skipped"]) == (0, rows)
    lookups = [s for s in statements if "match_key IN" in s]
    assert len(lookups) <= 3, len(lookups)  # one a batch, not one a row
    assert len(statements) < rows / 20, len(statements)
    if backend == "postgresql":  # SQLite imports go through sqlite3 itself, unseen here
        assert lookups
