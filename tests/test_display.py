"""Display formats per language, checked against Babel's CLDR data (Babel is too slow to
import on every command: docs/design.md "Language and display")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from crmcli import i18n
from crmcli.cli import render

amounts = st.decimals(
    min_value=Decimal("-99999999999.99"),
    max_value=Decimal("99999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31))


@pytest.fixture
def portuguese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_LANG", "pt_BR")
    i18n.reset()


@given(amounts)
def test_money_in_english_is_babels_en_us(value: Decimal) -> None:
    i18n.reset()
    assert render.human_money(value) == format_decimal(value, "#,##0.00", locale="en_US")


@pytest.mark.usefixtures("portuguese")
@given(amounts)
def test_money_in_portuguese_is_babels_pt_br(value: Decimal) -> None:
    assert render.human_money(value) == format_decimal(value, "#,##0.00", locale="pt_BR")


@pytest.mark.usefixtures("portuguese")
@given(days)
def test_dates_in_portuguese_are_babels_pt_br(day: date) -> None:
    assert render.human_date(day) == format_date(day, "dd/MM/yyyy", locale="pt_BR")


@given(days)
def test_dates_in_english_are_iso(day: date) -> None:
    i18n.reset()
    assert render.human_date(day) == day.isoformat()


@pytest.mark.usefixtures("portuguese")
def test_moments_are_shown_in_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/Sao_Paulo")
    time.tzset()
    try:
        assert render.human_moment(datetime(2026, 12, 7, 12, 30)) == "07/12/2026 09:30"
        assert render.human_cell(True) == "sim"
        assert render.human_count(12345) == "12.345"
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
