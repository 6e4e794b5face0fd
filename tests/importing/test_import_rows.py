"""Tests for crmcli.importing.rows: one row to a LeadRow, and refused rows."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest

from crmcli.importing.headers import LEAD_ALIASES, LEAD_FIELDS, build_mapping
from crmcli.importing.reader import open_table
from crmcli.importing.rows import LeadRow, RowError, parse_lead_row

TODAY = date(2026, 6, 1)
"""The import's date (`clock.today()` in `services.imports`)."""


def parse(headers: list[str], cells: list[str], *, source: str | None = None) -> LeadRow:
    mapping = build_mapping(headers, LEAD_ALIASES, allowed_fields=LEAD_FIELDS)
    return parse_lead_row(7, cells, mapping, headers, today=TODAY, source_override=source)


def test_full_row() -> None:
    headers = ["Nome", "E-mail", "Telefone", "Empresa", "Cargo", "Origem", "Orçamento", "Prazo"]
    headers += ["Responsável", "Observações", "Cidade"]
    cells = [" Ana  Lima ", " ANA@Example.COM ", "+55 11 98765-4321", "ACME", "CTO", "site"]
    cells += ["R$ 1.234,56", "31/12/2026", "bia", "nota", "Sa\u0303o Paulo"]
    row = parse(headers, cells)
    assert row == LeadRow(
        name="Ana  Lima",
        email="ana@example.com",
        phone="+55 11 98765-4321",
        company="ACME",
        title="CTO",
        source="site",
        budget=Decimal("1234.56"),
        timeline=date(2026, 12, 31),
        owner="bia",
        notes="nota",
        extras={"Cidade": "São Paulo"},
        line=7,
    )


def test_first_last_joined() -> None:
    row = parse(["First Name", "Last Name", "Email"], ["Ana", "Lima", "a@x.com"])
    assert row.name == "Ana Lima"
    row = parse(["Nome", "Sobrenome"], ["Ana", ""])
    assert row.name == "Ana"


def test_full_name_wins_and_parts_kept_as_extras() -> None:
    row = parse(["Name", "First Name", "Last Name"], ["Ana Lima", "Ana", "Lima"])
    assert row.name == "Ana Lima"
    assert row.extras == {"First Name": "Ana", "Last Name": "Lima"}


def test_name_required() -> None:
    with pytest.raises(RowError, match=r'name: missing .*"Nome"') as info:
        parse(["Nome", "Email"], ["  ", "a@x.com"])
    assert info.value.line == 7
    assert str(info.value).startswith("line 7: ")
    with pytest.raises(RowError, match="no name column"):
        parse(["Email"], ["a@x.com"])


def test_bad_email_names_column_and_value() -> None:
    with pytest.raises(RowError, match='E-mail: "ana@" is not a valid e-mail'):
        parse(["Nome", "E-mail"], ["Ana", "ana@"])


def test_bad_money_and_date() -> None:
    with pytest.raises(RowError, match='Orçamento: "12,3,4" is not an amount'):
        parse(["Nome", "Orçamento"], ["Ana", "12,3,4"])
    with pytest.raises(RowError, match='Prazo: "31/02/2026" is not a valid date'):
        parse(["Nome", "Prazo"], ["Ana", "31/02/2026"])


@pytest.mark.parametrize("phone", ["1,19877E+10", "1.19877e+10", "5.51199E+12", "1E10"])
def test_excel_scientific_phone(phone: str) -> None:
    with pytest.raises(RowError, match=re.escape(f'Telefone: "{phone}" looks like a number Excel')):
        parse(["Nome", "Telefone"], ["Ana", phone])


def test_phone_kept_as_text() -> None:
    assert parse(["Nome", "Telefone"], ["Ana", "011 9876-5432"]).phone == "011 9876-5432"


def test_ragged_rows() -> None:
    with pytest.raises(RowError, match="has 3 cells but the header has 2 columns"):
        parse(["Nome", "Email"], ["Ana", "a@x.com", "surplus"])
    assert parse(["Nome", "Email"], ["Ana", "a@x.com", "", " "]).email == "a@x.com"
    row = parse(["Nome", "Email", "Empresa"], ["Ana"])
    assert (row.email, row.company) == (None, None)


def test_control_character_refused() -> None:
    with pytest.raises(RowError, match=r"Notas: .*control character"):
        parse(["Nome", "Notas"], ["Ana", "a\x07b"])


def test_source_override() -> None:
    assert parse(["Nome", "Origem"], ["Ana", "site"], source="feira").source == "feira"
    assert parse(["Nome"], ["Ana"], source="feira").source == "feira"
    assert parse(["Nome", "Origem"], ["Ana", "site"]).source == "site"


def test_extras_keep_original_headers_and_skip_empty() -> None:
    row = parse(["Nome", "Lead Status", "", "Score"], ["Ana", "Open", "x", ""])
    assert row.extras == {"Lead Status": "Open", "column 3": "x"}


def test_end_to_end_from_bytes() -> None:
    data = (
        "sep=;\r\nNome;Sobrenome;E-mail;Orçamento;Cidade\r\n"
        'Ana;Lima;ANA@X.COM;"1.234,56";"São\r\nPaulo"\r\n'
        ";;;;\r\n"
        "Bia;;bia@;;\r\n"
    ).encode("cp1252")
    table = open_table(io.BytesIO(data), name="leads.csv")
    mapping = build_mapping(table.headers, LEAD_ALIASES, allowed_fields=LEAD_FIELDS)
    good, bad = [], []
    for line, cells in table.rows():
        try:
            good.append(
                parse_lead_row(
                    line, cells, mapping, table.headers, today=TODAY, source_override=None
                )
            )
        except RowError as exc:
            bad.append((exc.line, exc.reason))
    assert table.encoding_guessed
    assert [(r.line, r.name, r.email, r.budget) for r in good] == [
        (3, "Ana Lima", "ana@x.com", Decimal("1234.56"))
    ]
    assert good[0].extras == {"Cidade": "São\nPaulo"}
    assert bad == [(6, 'E-mail: "bia@" is not a valid e-mail address')]
