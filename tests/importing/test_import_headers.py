"""Tests for crmcli.importing.headers: normalisation, aliases, --map overrides."""

from __future__ import annotations

import pytest

from crmcli.errors import ValidationError
from crmcli.importing.headers import (
    LEAD_ALIASES,
    LEAD_FIELDS,
    OPP_ALIASES,
    OPP_FIELDS,
    Mapping,
    build_mapping,
    normalise_header,
    parse_map_options,
)


def lead(headers: list[str], overrides: dict[str, str] | None = None) -> Mapping:
    return build_mapping(headers, LEAD_ALIASES, overrides=overrides, allowed_fields=LEAD_FIELDS)


def fed(mapping: Mapping) -> dict[str, str | None]:
    return dict(zip(mapping.headers, mapping.fields, strict=True))


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (" Orçamento ", "orcamento"),
        ("E-mail", "email"),
        ("Razão  Social", "razao social"),
        ("EMAIL_ADDRESS", "email address"),
        ("Job Title:", "job title"),
        ("ＦＵＬＬ　ＮＡＭＥ", "full name"),
        ("Straße", "strasse"),
        ("--", ""),
    ],
)
def test_normalise_header(raw: str, key: str) -> None:
    assert normalise_header(raw) == key


def test_portuguese_headers_with_accents() -> None:
    m = lead(
        ["Nome", "E-mail", "Telefone", "Razão Social", "Cargo", "Origem", "Orçamento", "Prazo"]
    )
    assert m.fields == (
        "name",
        "email",
        "phone",
        "company",
        "title",
        "source",
        "budget",
        "timeline",
    )


def test_english_headers_case_insensitive() -> None:
    m = lead(
        ["NAME", "email", "Phone", "company", "TITLE", "source", "Budget", "Timeline", "Owner"]
    )
    assert None not in m.fields


def test_first_last_joined_fields() -> None:
    m = lead(["First Name", "Last Name", "Email"])
    assert m.fields == ("first_name", "last_name", "email")


def test_nome_sobrenome() -> None:
    m = lead(["Nome", "Sobrenome", "Email"])
    assert m.fields == ("first_name", "last_name", "email")


def test_nome_alone_is_full_name() -> None:
    assert lead(["Nome", "Email"]).fields == ("name", "email")


def test_full_name_wins_over_parts() -> None:
    m = lead(["Full Name", "First Name", "Last Name"])
    assert m.fields == ("name", None, None)
    assert m.extras == (1, 2)


def test_hubspot_export() -> None:
    headers = [
        "Record ID",
        "First Name",
        "Last Name",
        "Email",
        "Phone Number",
        "Mobile Phone Number",
        "Company Name",
        "Job Title",
        "Contact owner",
        "Original Source",
        "Lead Status",
    ]
    assert fed(lead(headers)) == {
        "Record ID": None,
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": None,
        "Company Name": "company",
        "Job Title": "title",
        "Contact owner": "owner",
        "Original Source": "source",
        "Lead Status": None,
    }


def test_salesforce_export() -> None:
    headers = ["First Name", "Last Name", "Title", "Company / Account", "Email", "Phone"]
    headers += ["Mobile", "Lead Source", "Lead Owner", "Description", "Rating"]
    m = fed(lead(headers))
    assert m["Company / Account"] == "company"
    assert m["Phone"] == "phone"
    assert m["Mobile"] is None
    assert m["Lead Source"] == "source"
    assert m["Lead Owner"] == "owner"
    assert m["Description"] == "notes"
    assert m["Title"] == "title"
    assert m["Rating"] is None


def test_rd_station_export() -> None:
    headers = ["Nome", "Email", "Empresa", "Cargo", "Celular", "Origem da primeira conversão"]
    headers += ["Cidade", "Estado"]
    m = fed(lead(headers))
    assert m["Nome"] == "name"
    assert m["Celular"] == "phone"
    assert m["Empresa"] == "company"
    assert m["Origem da primeira conversão"] == "source"
    assert m["Cidade"] is None


def test_pipedrive_export() -> None:
    headers = ["Person - Name", "Person - Email", "Person - Phone", "Organization - Name"]
    assert lead(headers).fields == ("name", "email", "phone", "company")


def test_conflicting_primary_aliases() -> None:
    with pytest.raises(ValidationError, match='"Email" and "Endereço de e-mail"'):
        lead(["Name", "Email", "Endereço de e-mail"])


def test_override_wins_and_resolves_conflict() -> None:
    m = lead(["Name", "Email", "E-mail Address"], {"e-mail address": "-"})
    assert m.fields == ("name", "email", None)
    m = lead(["Name", "Email", "Work"], {"WORK": "email"})
    assert m.fields == ("name", None, "email")


def test_override_unknown_column_and_field() -> None:
    with pytest.raises(ValidationError, match='no column "Nope"'):
        lead(["Name"], {"Nope": "email"})
    with pytest.raises(ValidationError, match='"colour" is not a field'):
        lead(["Name", "Cor"], {"Cor": "colour"})


def test_two_overrides_same_field() -> None:
    with pytest.raises(ValidationError, match='"A" and "B" both feed email'):
        lead(["Name", "A", "B"], {"A": "email", "B": "email"})


def test_parse_map_options() -> None:
    assert parse_map_options(["Tel. Comercial=phone", "a=b=Notes"]) == {
        "Tel. Comercial": "phone",
        "a=b": "notes",
    }
    for bad in ["phone", "=phone", "Header=", "  =  "]:
        with pytest.raises(ValidationError, match="Header=field"):
            parse_map_options([bad])
    with pytest.raises(ValidationError, match="mapped twice"):
        parse_map_options(["Tel=phone", "TEL=notes"])


def test_opp_aliases() -> None:
    headers = ["Oportunidade", "Cliente", "E-mail", "Valor", "Probabilidade", "Etapa"]
    headers += ["Previsão de fechamento", "Responsável", "Situação", "Origem"]
    m = build_mapping(headers, OPP_ALIASES, allowed_fields=OPP_FIELDS)
    assert m.fields == (
        "name",
        "account",
        "contact_email",
        "amount",
        "probability",
        "stage",
        "expected_close",
        "owner",
        "status",
        None,
    )


def test_alias_values_are_known_fields() -> None:
    assert set(LEAD_ALIASES.values()) <= set(LEAD_FIELDS)
    assert set(OPP_ALIASES.values()) <= set(OPP_FIELDS)
    assert all(normalise_header(k) == k for k in [*LEAD_ALIASES, *OPP_ALIASES])
