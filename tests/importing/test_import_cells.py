"""Tests for crmcli.importing.cells: the one rule of formula-like CSV cells, both ways."""

from __future__ import annotations

import pytest

from crmcli.cli import render
from crmcli.importing.cells import FORMULA_STARTS, neutralise, unneutralise
from crmcli.importing.headers import LEAD_ALIASES, LEAD_FIELDS, OPP_ALIASES, suggest_field

TEXTS = [
    "=cmd",
    "+55 11 98765-4321",
    "-Acme",
    "@x",
    "\tx",
    "\rx",
    "'=x",
    "''+x",
    "'abc",
    "''",
    "'",
    "",
    "plain",
    "a=b",
    "'\u00e9",
]


@pytest.mark.parametrize("text", TEXTS)
def test_unneutralise_gives_back_every_text_neutralise_was_given(text: str) -> None:
    assert unneutralise(neutralise(text)) == text


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_quoted_and_unquoted(start: str) -> None:
    assert neutralise(start + "1") == "'" + start + "1"
    assert unneutralise("'" + start + "1") == start + "1"


def test_a_quote_before_anything_else_is_data() -> None:
    assert unneutralise("'abc") == "'abc"
    assert unneutralise("'") == "'"
    assert neutralise("'abc") == "'abc"


def test_the_renderer_uses_the_same_rule() -> None:
    assert render.neutralise is neutralise
    assert render.FORMULA_STARTS == FORMULA_STARTS


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Prazo de decisão", "timeline"),
        ("Telefone comercial", "phone"),
        ("Código interno", None),
        ("de", None),
    ],
)
def test_suggest_field_for_a_lead_header(header: str, field: str | None) -> None:
    assert suggest_field(header, LEAD_ALIASES, LEAD_FIELDS) == field


def test_suggest_field_skips_fields_already_fed() -> None:
    assert suggest_field("Prazo de decisão", LEAD_ALIASES, ["name", "email"]) is None
    assert suggest_field("close", OPP_ALIASES, ["expected_close"]) == "expected_close"


def test_a_field_is_suggested_once_and_only_for_columns_with_a_header() -> None:
    from crmcli.importing.headers import build_mapping

    headers = ["Nome", "Prazo 1", "Prazo 2", ""]
    mapping = build_mapping(headers, LEAD_ALIASES, allowed_fields=LEAD_FIELDS)
    assert mapping.unmapped() == ["Prazo 1", "Prazo 2", "column 4"]
    assert mapping.suggestions(LEAD_ALIASES, LEAD_FIELDS) == {
        "Prazo 1": "timeline",
        "Prazo 2": None,
    }
