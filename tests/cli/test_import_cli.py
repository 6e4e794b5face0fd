"""`crm lead import` and `crm opp import` end to end, on files written byte for byte the way
Excel (pt-BR), web forms and other CRMs export them."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import random
import subprocess
import sys
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]
JsonRun = Callable[..., Any]

SUMMARY_KEYS = {"read", "inserted", "updated", "skipped", "rejected", "errors"}


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def crlf(*lines: str) -> str:
    """Lines as Excel for Windows writes them: CRLF after every line, the last one included."""
    return "".join(f"{line}\r\n" for line in lines)


def leads(crm_json: JsonRun) -> list[dict[str, Any]]:
    return crm_json("lead", "list", "--all")


def by_email(crm_json: JsonRun) -> dict[str, dict[str, Any]]:
    return {lead["email"]: lead for lead in leads(crm_json) if lead["email"]}


def summary_of(result: Result) -> dict[str, Any]:
    data = json.loads(result.stdout)
    assert set(data) >= SUMMARY_KEYS
    return data


def counts(summary: dict[str, Any]) -> tuple[int, ...]:
    """(read, inserted, updated, skipped, rejected)."""
    return tuple(summary[k] for k in ("read", "inserted", "updated", "skipped", "rejected"))


def stderr_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


# -- encodings and layouts -----------------------------------------------------------------------


def test_cp1252_semicolon_export_with_sep_line_brazilian_money_and_dates(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    text = crlf(
        "sep=;",
        "Nome;E-mail;Empresa;Orçamento;Prazo",
        "João Araújo;Joao@Acme.com.br;Açúcar & Cia;R$ 1.234,56;31/12/2026",
        "Zé Ninguém;ze@exemplo.com.br;Pão de Mel Ltda;1.000,00;01/02/2027",
    )
    path = write(tmp_path, "feira.csv", text.encode("cp1252"))
    result = crm("lead", "import", path, "--json")
    summary = summary_of(result)
    assert counts(summary) == (2, 2, 0, 0, 0)
    assert "read as cp1252" in result.stderr
    joao = by_email(crm_json)["joao@acme.com.br"]
    assert joao["name"] == "João Araújo"
    assert joao["company"] == "Açúcar & Cia"
    assert joao["budget"] == "1234.56"
    assert joao["timeline"] == "2026-12-31"
    assert by_email(crm_json)["ze@exemplo.com.br"]["budget"] == "1000.00"


def test_utf8_with_bom_is_not_reported_as_guessed(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    text = crlf("Nome;E-mail;Cargo", "Ana Conceição;ana@x.com.br;Diretora Financeira")
    path = write(tmp_path, "bom.csv", codecs.BOM_UTF8 + text.encode("utf-8"))
    result = crm("lead", "import", path, "--json")
    assert counts(summary_of(result)) == (1, 1, 0, 0, 0)
    assert "cp1252" not in result.stderr
    (lead,) = leads(crm_json)
    # The BOM must not stick to the first header (which would leave the name unmapped).
    assert lead["name"] == "Ana Conceição"
    assert lead["title"] == "Diretora Financeira"


def test_utf16_le_bom_tab_separated_excel_unicode_text(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    text = crlf(
        "Nome\tE-mail\tTelefone\tEmpresa",
        "Márcia Lüdke\tmarcia@x.com.br\t+55 11 98765-4321\tÓtica Visão",
        "Ægir Ñúñez\taegir@x.com\t(21) 2222-3333\t北京 Ltd",
    )
    path = write(tmp_path, "unicode.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    result = crm("lead", "import", path, "--json")
    assert counts(summary_of(result)) == (2, 2, 0, 0, 0)
    assert "not UTF-8, read as utf-16-le" in result.stderr
    found = by_email(crm_json)
    assert found["marcia@x.com.br"]["name"] == "Márcia Lüdke"
    assert found["marcia@x.com.br"]["phone"] == "+55 11 98765-4321"
    assert found["aegir@x.com"]["company"] == "北京 Ltd"


def test_quoted_newlines_keep_physical_line_numbers_and_blank_lines_are_skipped(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    data = (
        b"Name,Email,Notes\r\n"  # line 1
        b'Ana,ana@x.com,"first line\r\nsecond line\r\nthird line"\r\n'  # lines 2-4
        b"\r\n"  # line 5, blank
        b"Bruno,not-an-email,x\r\n"  # line 6
        b",,\r\n"  # line 7, blank (only separators)
        b'Carla,carla@x.com,"a ""quoted"" word\nand a LF"\r\n'  # lines 8-9
        b"Davi,davi@x,y\r\n"  # line 10
    )
    path = write(tmp_path, "web.csv", data)
    result = crm("lead", "import", path, "--json", code=3)
    summary = summary_of(result)
    assert counts(summary) == (4, 2, 0, 0, 2)
    assert [e["line"] for e in summary["errors"]] == [6, 10]
    assert "line 6: " in result.stderr and "line 10: " in result.stderr
    notes = {lead["email"]: lead["notes"] for lead in leads(crm_json)}
    assert notes["ana@x.com"] == "first line\nsecond line\nthird line"
    assert notes["carla@x.com"] == 'a "quoted" word\nand a LF'


# -- headers -------------------------------------------------------------------------------------


def test_portuguese_headers_with_first_and_last_name_and_accents_ignored(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    text = crlf(
        "NOME;Sobrenome;Endereço de E-mail;Telefone;Razão Social;Função;Origem;Orçamento;Prazo",
        "Luíza;Ferreira Gomes;luiza@x.com.br;(11) 3333-4444;Ferreira SA;CFO;Feira;5.000;30/06/2026",
    )
    path = write(tmp_path, "pt.csv", text.encode("cp1252"))
    crm("lead", "import", path)
    (lead,) = leads(crm_json)
    assert lead["name"] == "Luíza Ferreira Gomes"
    assert lead["email"] == "luiza@x.com.br"
    assert lead["phone"] == "(11) 3333-4444"
    assert lead["company"] == "Ferreira SA"
    assert lead["title"] == "CFO"
    assert lead["source"] == "Feira"
    assert (lead["budget"], lead["timeline"]) == ("5000.00", "2026-06-30")


SALESFORCE = crlf(
    '"First Name","Last Name","Title","Company","Email","Phone","Lead Source","Lead Owner"',
    '"Grace","Hopper","CTO","Navy Labs","GRACE@NAVY.example","555-0100","Web","Alice"',
)
HUBSPOT = crlf(
    "Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title,Original Source",
    "1001,Ada,Lovelace,ada@engines.example,+44 20 7946 0000,Analytical Engines,Founder,Organic",
)
RD_STATION = crlf(
    "Email,Nome,Empresa,Cargo,Celular,Origem da primeira conversão,Cidade,Estado",
    "carlos@x.com.br,Carlos Drummond,Itabira Poesia,Poeta,(31) 99999-0000,Landing page,Itabira,MG",
)


@pytest.mark.parametrize(
    ("data", "email", "expected"),
    [
        (
            SALESFORCE.encode("utf-8"),
            "grace@navy.example",
            {
                "name": "Grace Hopper",
                "title": "CTO",
                "company": "Navy Labs",
                "phone": "555-0100",
                "source": "Web",
                "owner": "Alice",
            },
        ),
        (
            codecs.BOM_UTF8 + HUBSPOT.encode("utf-8"),
            "ada@engines.example",
            {
                "name": "Ada Lovelace",
                "title": "Founder",
                "company": "Analytical Engines",
                "phone": "+44 20 7946 0000",
                "source": "Organic",
            },
        ),
        (
            RD_STATION.encode("utf-8"),
            "carlos@x.com.br",
            {
                "name": "Carlos Drummond",
                "title": "Poeta",
                "company": "Itabira Poesia",
                "phone": "(31) 99999-0000",
                "source": "Landing page",
            },
        ),
    ],
    ids=["salesforce", "hubspot", "rd-station"],
)
def test_other_tools_exports_import_without_a_map(
    crm: Run,
    crm_json: JsonRun,
    tmp_path: Path,
    data: bytes,
    email: str,
    expected: dict[str, str],
) -> None:
    crm("lead", "import", write(tmp_path, "export.csv", data))
    lead = by_email(crm_json)[email]
    assert {k: lead[k] for k in expected} == expected


def test_map_option_and_unknown_columns_kept_as_extras(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    text = crlf(
        "Cliente;Correio;Cidade;Interesse",
        "Beatriz Souza;bia@x.com.br;Recife;Plano anual",
        "Caio Prado;caio@x.com.br;;Plano mensal",
    )
    path = write(tmp_path, "mapped.csv", text.encode("utf-8"))
    crm("lead", "import", path, "--map", "Cliente=name", "--map", "Correio=email")
    found = by_email(crm_json)
    assert set(found) == {"bia@x.com.br", "caio@x.com.br"}
    bia = crm_json("lead", "show", str(found["bia@x.com.br"]["id"]))
    assert bia["name"] == "Beatriz Souza"
    assert bia["extras"] == {"Cidade": "Recife", "Interesse": "Plano anual"}
    caio = crm_json("lead", "show", str(found["caio@x.com.br"]["id"]))
    assert caio["extras"] == {"Interesse": "Plano mensal"}  # empty cells are not kept


def test_without_a_name_column_the_import_is_refused_suggesting_map(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    path = write(tmp_path, "noname.csv", b"Cliente,Correio\r\nBia,bia@x.com\r\n")
    result = crm("lead", "import", path, code=1)
    assert "--map" in result.stderr and len(stderr_lines(result)) == 1
    assert leads(crm_json) == []


# -- duplicates ----------------------------------------------------------------------------------


DUPLICATES = crlf(
    "Nome;E-mail;Telefone;Empresa;Cargo",
    "Maria Outra;  MARIA@X.com.br ;11 5555-0000;Empresa Nova;Gerente",  # in the database
    "Novo Lead;novo@x.com.br;;;",
    "Novo Repetido;NOVO@x.com.br;21 4444-0000;Empresa do Novo;",  # duplicate within the file
    "Sem E-mail;;;;",
)


def test_duplicates_skipped_by_default_against_database_and_within_file(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    crm("lead", "add", "Maria Souza", "--email", "maria@x.com.br", "--phone", "11 1111-1111")
    path = write(tmp_path, "dups.csv", DUPLICATES.encode("utf-8"))
    summary = summary_of(crm("lead", "import", path, "--json"))
    assert counts(summary) == (4, 2, 0, 2, 0)
    found = by_email(crm_json)
    assert len(leads(crm_json)) == 3
    maria = found["maria@x.com.br"]
    assert (maria["name"], maria["phone"], maria["company"]) == (
        "Maria Souza",
        "11 1111-1111",
        None,
    )
    novo = found["novo@x.com.br"]
    assert (novo["name"], novo["phone"], novo["company"]) == ("Novo Lead", None, None)


def test_on_duplicate_update_fills_only_what_is_missing(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    crm("lead", "add", "Maria Souza", "--email", "maria@x.com.br", "--phone", "11 1111-1111")
    path = write(tmp_path, "dups.csv", DUPLICATES.encode("utf-8"))
    summary = summary_of(crm("lead", "import", path, "--on-duplicate", "update", "--json"))
    assert counts(summary) == (4, 2, 2, 0, 0)
    found = by_email(crm_json)
    assert len(leads(crm_json)) == 3
    maria = found["maria@x.com.br"]
    # Never overwritten: name and phone stay; the missing company and title are filled.
    assert (maria["name"], maria["phone"]) == ("Maria Souza", "11 1111-1111")
    assert (maria["company"], maria["title"]) == ("Empresa Nova", "Gerente")
    novo = found["novo@x.com.br"]
    assert (novo["name"], novo["phone"], novo["company"]) == (
        "Novo Lead",
        "21 4444-0000",
        "Empresa do Novo",
    )
    # Running it again changes nothing: every e-mail row is now a plain duplicate.
    again = summary_of(crm("lead", "import", path, "--on-duplicate", "update", "--json"))
    assert counts(again) == (4, 1, 0, 3, 0)  # only the e-mail-less row is new again


# -- bad rows ------------------------------------------------------------------------------------


BAD_HEADER = ["Nome", "E-mail", "Valor", "Prazo", "Telefone"]
BAD_ROWS = [
    ["Boa Um", "um@x.com.br", "1.500,00", "15/03/2026", "(11) 98888-7777"],  # 2
    ["Email Ruim", "ruim@@x", "10", "", ""],  # 3
    ["Valor Ruim", "valor@x.com.br", "doze reais", "", ""],  # 4
    ["Data Ruim", "data@x.com.br", "", "31/02/2026", ""],  # 5
    ["Fone Excel", "fone@x.com.br", "", "", "1,19877E+10"],  # 6
    ["Boa Dois", "dois@x.com.br", "R$ 99,90", "2026-04-01", ""],  # 7
    ["Torta", "torta@x.com.br", "1", "01/01/2026", "11 2222-3333", "sobrou"],  # 8
]
BAD_LINES = {3: "ruim@@x", 4: "doze reais", 5: "31/02/2026", 6: "1,19877E+10", 8: "6 cells"}


def bad_file(tmp_path: Path) -> str:
    text = crlf(*(";".join(row) for row in [BAD_HEADER, *BAD_ROWS]))
    return write(tmp_path, "bad.csv", text.encode("cp1252"))


def test_bad_rows_are_reported_the_good_ones_imported_exit_3(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.csv"
    result = crm("lead", "import", bad_file(tmp_path), "--rejects", str(rejects), "--json", code=3)
    summary = summary_of(result)
    assert counts(summary) == (7, 2, 0, 0, 5)
    assert [e["line"] for e in summary["errors"]] == sorted(BAD_LINES)
    assert all(set(e) == {"line", "reason"} for e in summary["errors"])
    for error in summary["errors"]:
        assert BAD_LINES[error["line"]] in error["reason"]
        assert f"line {error['line']}: {error['reason']}" in result.stderr
    assert "Traceback" not in result.stderr
    found = by_email(crm_json)
    assert set(found) == {"um@x.com.br", "dois@x.com.br"}
    assert found["dois@x.com.br"]["budget"] == "99.90"

    # as the source was: Windows-1252, ";" (tests/cli/test_import_report_cli.py)
    with rejects.open(newline="", encoding="cp1252") as handle:
        table = list(csv.reader(handle, delimiter=";"))
    assert table[0] == [*BAD_HEADER, "reason"]
    body = table[1:]
    assert len(body) == 5
    expected_cells = [row for i, row in enumerate(BAD_ROWS, start=2) if i in BAD_LINES]
    for written, original, line in zip(body, expected_cells, sorted(BAD_LINES), strict=True):
        assert written[: len(original)] == original
        assert f"line {line}" in written[-1] and BAD_LINES[line] in written[-1]


def test_rejects_reason_is_in_the_reason_column_for_short_rows(crm: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "short.csv", b"Nome,E-mail,Prazo,Telefone\r\nF,bad\r\nG,g@x.com,,\r\n")
    rejects = tmp_path / "rejects.csv"
    crm("lead", "import", path, "--rejects", str(rejects), code=3)
    with rejects.open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["Nome"], row["E-mail"]) == ("F", "bad")
    assert row["reason"] is not None and row["reason"].startswith("line 2")


def test_rejects_into_a_missing_folder_is_one_clear_error(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    rejects = tmp_path / "no-such-folder" / "rejects.csv"
    result = crm("lead", "import", bad_file(tmp_path), "--rejects", str(rejects), code=None)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "crm: error:" in result.stderr and "no-such-folder" in result.stderr


def test_strict_imports_nothing_and_exits_1(crm: Run, crm_json: JsonRun, tmp_path: Path) -> None:
    crm("lead", "add", "Já Existe", "--email", "ja@x.com.br")
    result = crm("lead", "import", bad_file(tmp_path), "--strict", "--json", code=1)
    assert "--strict" in result.stderr
    assert "line 3: " in result.stderr
    summary = summary_of(result)
    assert summary["rejected"] == 5
    assert [lead["email"] for lead in leads(crm_json)] == ["ja@x.com.br"]


def test_dry_run_reports_what_the_real_run_then_does_and_writes_nothing(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    crm("lead", "add", "Maria Souza", "--email", "maria@x.com.br")
    text = crlf(
        "Nome;E-mail;Empresa;Valor",
        "Maria Outra;maria@x.com.br;Nova SA;",  # database duplicate (update fills company)
        "Um;um@x.com.br;;",
        "Um de novo;UM@x.com.br;Um SA;",  # duplicate within the file
        "Ruim;ruim@;;",  # bad e-mail
        "Sem e-mail;;;1.234,5",
        "Valor ruim;v@x.com.br;;1,2,3",  # bad amount
    )
    path = write(tmp_path, "mixed.csv", text.encode("utf-8"))
    for mode in ("skip", "update"):
        before = leads(crm_json)
        dry = crm("lead", "import", path, "--on-duplicate", mode, "--dry-run", "--json", code=3)
        assert leads(crm_json) == before, "a dry run wrote something"
        real = crm("lead", "import", path, "--on-duplicate", mode, "--json", code=3)
        dry_summary, real_summary = summary_of(dry), summary_of(real)
        assert counts(dry_summary) == counts(real_summary)
        assert dry_summary["errors"] == real_summary["errors"]
        assert dry_summary["dry_run"] is True and real_summary["dry_run"] is False
        assert len(leads(crm_json)) == len(before) + real_summary["inserted"]
        if mode == "skip":
            assert counts(real_summary) == (6, 2, 0, 2, 2)
        else:  # the file's own rows are now in the database, and "Um SA" fills a gap
            assert counts(real_summary) == (6, 1, 2, 1, 2)


def test_dry_run_table_says_nothing_was_written(crm: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "one.csv", b"Name,Email\r\nAna,ana@x.com\r\n")
    result = crm("lead", "import", path, "--dry-run")
    assert "dry run" in result.stdout
    assert crm("lead", "list", "--json").stdout.strip() == "[]"


# -- files that are not CSV ----------------------------------------------------------------------


def xlsx_bytes() -> bytes:
    """A minimal workbook as Excel saves it: a ZIP archive (``PK\\x03\\x04``)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        book.writestr("xl/workbook.xml", "<workbook><sheets/></workbook>")
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>")
    return buffer.getvalue()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (xlsx_bytes(), ("XLSX", "CSV")),
        (PNG, ("PNG",)),
        (b"", ("empty",)),
        (random.Random(20260101).randbytes(4096) + b"\x00", ("binary",)),
    ],
    ids=["xlsx", "png", "empty", "garbage"],
)
def test_non_csv_files_are_refused_in_one_line_and_nothing_is_written(
    crm: Run, crm_json: JsonRun, tmp_path: Path, data: bytes, words: tuple[str, ...]
) -> None:
    crm("lead", "add", "Existing", "--email", "e@x.com")
    path = write(tmp_path, "leads.csv", data)
    result = crm("lead", "import", path, "--json", code=1)
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("crm: error:") and "leads.csv" in lines[0]
    for word in words:
        assert word in lines[0]
    assert result.stdout == ""
    assert [lead["email"] for lead in leads(crm_json)] == ["e@x.com"]


def test_garbage_without_nul_bytes_is_refused_as_binary(crm: Run, tmp_path: Path) -> None:
    # Random bytes with no NUL and no line break: what a binary blob's first line looks like.
    data = bytes(b for b in random.Random(7).randbytes(600) if b not in b"\x00\r\n")
    path = write(tmp_path, "garbage.csv", data)
    result = crm("lead", "import", path, code=1)
    controls = [ch for ch in result.stderr if unicodedata.category(ch) == "Cc" and ch != "\n"]
    assert controls == []
    assert "binary" in result.stderr


def test_header_only_file_imports_nothing_and_succeeds(crm: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "empty-export.csv", codecs.BOM_UTF8 + b"Nome;E-mail;Telefone\r\n")
    assert counts(summary_of(crm("lead", "import", path, "--json"))) == (0, 0, 0, 0, 0)


def test_missing_file_is_one_clear_error(crm: Run, tmp_path: Path) -> None:
    result = crm("lead", "import", str(tmp_path / "nope.csv"), code=1)
    lines = stderr_lines(result)
    assert len(lines) == 1 and "nope.csv" in lines[0]
    assert result.stdout == ""


def test_unknown_on_duplicate_value_is_a_usage_error(crm: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"Name\r\nAna\r\n")
    crm("lead", "import", path, "--on-duplicate", "overwrite", code=2)


# -- stdin ---------------------------------------------------------------------------------------


def test_stdin_through_a_real_process(crm_json: JsonRun, backend_url: str) -> None:
    text = crlf("sep=;", "Nome;E-mail;Orçamento", "Ção Pé;cao@x.com.br;R$ 2.000,00", "Ruim;x@;")
    env = {**os.environ, "CRM_DB": backend_url}
    done = subprocess.run(
        [sys.executable, "-m", "crmcli", "lead", "import", "-", "--json"],
        input=text.encode("cp1252"),
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 3, stderr
    assert "Traceback" not in stderr
    assert "read as cp1252" in stderr and "line 4: " in stderr
    summary = json.loads(done.stdout)
    assert counts(summary) == (2, 1, 0, 0, 1)
    (lead,) = crm_json("lead", "list")
    assert (lead["name"], lead["budget"]) == ("Ção Pé", "2000.00")


# -- opportunities -------------------------------------------------------------------------------


def opp_file(tmp_path: Path, *rows: str, name: str = "deals.csv") -> str:
    header = "Nome;Conta;Contact Email;Valor;Probabilidade;Etapa;Fechamento;Responsável;Status"
    return write(tmp_path, name, codecs.BOM_UTF8 + crlf(header, *rows).encode("utf-8"))


def test_opp_import_accounts_contacts_stages_status(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    crm("stage", "rename", "Negotiation", "Negociação")
    existing = crm_json("account", "add", "Acme Indústria Ltda")
    nfd = unicodedata.normalize("NFD", "negociação")
    path = opp_file(
        tmp_path,
        "Renovação 2026;ACME INDÚSTRIA LTDA;Ana@Acme.com.br;R$ 10.000,00;35;NEGOCIAÇÃO;30/06/2026;maria;",
        f"Expansão;acme indústria ltda;;1.500,50;;{nfd};2026-07-01;;ganho",
        "Piloto;Beta SA;;100;;proposal;;;perdido",
        "Suporte;Beta SA;;200;;;;;open",
        "Licenças;Gama ME;;300;;Fechado;;;won",
    )
    result = crm("opp", "import", path, "--json", code=3)
    summary = summary_of(result)
    assert counts(summary) == (5, 4, 0, 0, 1)
    (error,) = summary["errors"]
    assert error["line"] == 6 and "Fechado" in error["reason"]
    for stage in ("Prospecting", "Proposal", "Negociação"):  # the existing stages are listed
        assert stage in error["reason"]
    assert "line 6: " in result.stderr

    accounts = crm_json("account", "list")
    assert sorted(a["name"] for a in accounts) == ["Acme Indústria Ltda", "Beta SA"]
    opps = {o["name"]: o for o in crm_json("opp", "list")}
    assert set(opps) == {"Renovação 2026", "Expansão", "Piloto", "Suporte"}
    renewal = opps["Renovação 2026"]
    assert renewal["account_id"] == existing["id"]
    assert (renewal["stage"], renewal["status"]) == ("Negociação", "open")
    assert (renewal["amount"], renewal["probability"]) == ("10000.00", 35)
    assert (renewal["expected_close"], renewal["owner"]) == ("2026-06-30", "maria")
    assert renewal["contact_id"] is not None
    (contact,) = crm_json("contact", "list")
    assert contact["email"] == "ana@acme.com.br" and contact["id"] == renewal["contact_id"]
    expansion = opps["Expansão"]
    assert (expansion["stage"], expansion["status"], expansion["probability"]) == (
        "Negociação",
        "won",
        100,
    )
    assert expansion["account_id"] == existing["id"]
    assert expansion["amount"] == "1500.50"
    assert (opps["Piloto"]["status"], opps["Piloto"]["probability"]) == ("lost", 0)
    assert opps["Piloto"]["stage"] == "Proposal"
    assert opps["Suporte"]["stage"] == "Prospecting"  # no stage: the first one
    assert opps["Suporte"]["account_id"] == opps["Piloto"]["account_id"]
    assert crm_json("opp", "show", str(renewal["id"]))["history"][0]["stage"] == "Negociação"


def test_opp_reimport_skips_every_row(crm: Run, crm_json: JsonRun, tmp_path: Path) -> None:
    rows = (
        "Deal A;Acme;a@acme.com;1.000,00;;Proposal;31/12/2026;;",
        "Deal B;acme;;2.000,00;50;;;;aberto",
        "Deal C;Beta;;0;;;;;ganha",
    )
    path = opp_file(tmp_path, *rows)
    assert counts(summary_of(crm("opp", "import", path, "--json"))) == (3, 3, 0, 0, 0)
    before = (crm_json("opp", "list"), crm_json("account", "list"), crm_json("contact", "list"))
    assert counts(summary_of(crm("opp", "import", path, "--json"))) == (3, 0, 0, 3, 0)
    after = (crm_json("opp", "list"), crm_json("account", "list"), crm_json("contact", "list"))
    assert after == before
    assert len(before[1]) == 2  # "Acme" and "acme" are one account


def test_opp_import_dry_run_writes_nothing(crm: Run, crm_json: JsonRun, tmp_path: Path) -> None:
    path = opp_file(tmp_path, "Deal A;Nova Conta;n@nova.com;1.000,00;;;;;")
    dry = summary_of(crm("opp", "import", path, "--dry-run", "--json"))
    assert counts(dry) == (1, 1, 0, 0, 0)
    assert crm_json("opp", "list") == []
    assert crm_json("account", "list") == []
    assert crm_json("contact", "list") == []


def test_opp_import_bad_amount_and_status_are_rejected(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    path = opp_file(
        tmp_path,
        "Deal A;Acme;;mil reais;;;;;",
        "Deal B;Acme;;100;;;;;talvez",
        "Deal C;Acme;;100;150;;;;",
        ";Acme;;100;;;;;",
        "Deal E;Acme;;100;;;;;",
    )
    rejects = tmp_path / "opp-rejects.csv"
    result = crm("opp", "import", path, "--rejects", str(rejects), "--json", code=3)
    summary = summary_of(result)
    assert counts(summary) == (5, 1, 0, 0, 4)
    assert [e["line"] for e in summary["errors"]] == [2, 3, 4, 5]
    assert "mil reais" in summary["errors"][0]["reason"]
    assert "talvez" in summary["errors"][1]["reason"]
    assert [o["name"] for o in crm_json("opp", "list")] == ["Deal E"]
    with rejects.open(newline="", encoding="utf-8-sig") as handle:  # BOM and ";" as the source
        table = list(csv.reader(handle, delimiter=";"))
    assert table[0][-1] == "reason" and len(table) == 5


def test_opp_import_portuguese_contact_email_header(
    crm: Run, crm_json: JsonRun, tmp_path: Path
) -> None:
    text = crlf("Nome;Conta;E-mail do contato;Valor", "Deal;Acme;bia@acme.com.br;10")
    crm("opp", "import", write(tmp_path, "pt.csv", text.encode("utf-8")))
    (opp,) = crm_json("opp", "list")
    assert opp["contact_id"] is not None
