"""Tests for crmcli.domain.values: example tables for every form, and Hypothesis properties."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crmcli.domain import values
from crmcli.domain.values import (
    MAX_AMOUNT,
    cents_to_money,
    clean_text,
    format_money,
    money_to_cents,
    normalise_email,
    normalise_name,
    parse_date,
    parse_datetime,
    parse_money,
    parse_probability,
    parse_when,
)
from crmcli.errors import CrmError, UsageError, ValidationError

NBSP = "\u00a0"
NNBSP = "\u202f"
TODAY = date(2026, 1, 31)
NOW = datetime(2026, 1, 31, 9, 15, 42)


def _message(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------ normalise_name


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("  NEGOCIAÇÃO   e  Detalhamento ", "negociação e detalhamento"),
        (unicodedata.normalize("NFD", "Negociação"), unicodedata.normalize("NFC", "Negociação")),
        ("Acme\u00a0Ltda", "acme ltda"),
        ("Acme\t\n Ltda", "ACME LTDA"),
        ("Straße", "STRASSE"),
        ("Ana\u2003Souza", "ana souza"),
    ],
)
def test_normalise_name_equal_keys(left: str, right: str) -> None:
    assert normalise_name(left) == normalise_name(right)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("  NEGOCIAÇÃO   e  Detalhamento ", "negociacao e detalhamento"),
        ("", ""),
        ("   ", ""),
        ("Qualificação", "qualificacao"),
        ("Açaí", "acai"),
        ("Ａｃｍｅ™", "acmetm"),
    ],
)
def test_normalise_name_key(text: str, key: str) -> None:
    result = normalise_name(text)
    assert result == key
    assert unicodedata.is_normalized("NFKD", result)


@pytest.mark.parametrize(("left", "right"), [("Acme", "Acne"), ("ação", "acção"), ("a b", "ab")])
def test_normalise_name_keeps_distinct_names_apart(left: str, right: str) -> None:
    assert normalise_name(left) != normalise_name(right)


@given(st.text())
def test_normalise_name_is_idempotent(text: str) -> None:
    key = normalise_name(text)
    assert normalise_name(key) == key


@given(st.text())
def test_normalise_name_ignores_normal_form(text: str) -> None:
    assert normalise_name(unicodedata.normalize("NFD", text)) == normalise_name(text)


_NAME_LETTERS = "abcdefghijklmnopqrstuvwxyzáàâãéêíóôõúüçñ0123456789-&'"
_SPACE_RUNS = st.text(alphabet=" \t\n\u00a0\u202f\u2003", min_size=1, max_size=4)


@given(
    st.lists(st.text(alphabet=_NAME_LETTERS, min_size=1, max_size=8), min_size=1, max_size=5),
    st.data(),
)
def test_normalise_name_ignores_case_and_spacing(words: list[str], data: st.DataObject) -> None:
    plain = " ".join(words)
    spaced = data.draw(st.text(alphabet=" \u00a0\t", max_size=3))
    for word in words:
        spaced += word.upper() + data.draw(_SPACE_RUNS)
    decomposed = unicodedata.normalize("NFD", spaced)
    unaccented = "".join(
        c for c in unicodedata.normalize("NFKD", plain) if not unicodedata.combining(c)
    )
    assert normalise_name(decomposed) == normalise_name(plain) == unaccented


# ---------------------------------------------------------------------------------- clean_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("   \n\t ", None),
        ("  hello  ", "hello"),
        ("line one\nline two", "line one\nline two"),
        ("a\tb", "a\tb"),
        ("a\r\nb\rc", "a\nb\nc"),
        (unicodedata.normalize("NFD", " Negociação "), unicodedata.normalize("NFC", "Negociação")),
        ("Ação 😀", "Ação 😀"),
    ],
)
def test_clean_text_accepts(text: str | None, expected: str | None) -> None:
    assert clean_text(text) == expected


@pytest.mark.parametrize("text", ["a\x00b", "\x1b[31mred", "bell\x07", "x\x7f", "\x85next", "\x0c"])
def test_clean_text_refuses_control_characters(text: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        clean_text(text, field="notes")
    message = _message(excinfo)
    assert message.startswith('notes: "')
    assert "control character" in message
    assert "\x1b" not in message and "\x00" not in message


def test_clean_text_default_field() -> None:
    with pytest.raises(ValidationError, match=r"^text: "):
        clean_text("\x00")


@given(st.text())
def test_clean_text_result_is_stripped_nfc_or_refused(text: str) -> None:
    try:
        result = clean_text(text)
    except ValidationError:
        return
    if result is not None:
        assert result == result.strip()
        assert result
        assert unicodedata.is_normalized("NFC", result)
        assert "\r" not in result


# ----------------------------------------------------------------------------- normalise_email


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ana@example.com", "ana@example.com"),
        ("  Ana.Souza@Example.COM.BR ", "ana.souza@example.com.br"),
        ("first+tag@mail.co", "first+tag@mail.co"),
        ("o'brien@sub.domain-x.org", "o'brien@sub.domain-x.org"),
        ("joão@empresa.com.br", "joão@empresa.com.br"),
        (unicodedata.normalize("NFD", "JOÃO@açaí.com"), "joão@açaí.com"),
    ],
)
def test_normalise_email_accepts(text: str, expected: str) -> None:
    assert normalise_email(text) == unicodedata.normalize("NFC", expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x@y",
        "plainaddress",
        "@example.com",
        "ana@",
        "ana@@example.com",
        "ana@b@example.com",
        "ana souza@example.com",
        "ana@exa mple.com",
        "ana@example..com",
        "ana@.example.com",
        "ana@example.com.",
        "ana@-example.com",
        "ana@example-.com",
        "ana@exam_ple.com",
        "ana\x00@example.com",
        "ana@example.com\x1b",
        ".ana@example.com",
        "ana.@example.com",
        "an..a@example.com",
        '"Ana" <ana@example.com>',
        "ana@example.com, bob@example.com",
        "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63,
    ],
)
def test_normalise_email_refuses(text: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalise_email(text)
    message = _message(excinfo)
    assert message.startswith('email: "')
    assert message.endswith("is not a valid e-mail address")


def test_normalise_email_message_quotes_value_and_field() -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalise_email("x@y", field="contact email")
    assert _message(excinfo) == 'contact email: "x@y" is not a valid e-mail address'


def test_normalise_email_length_limit() -> None:
    domain = "b" * 63 + "." + "c" * 63 + "." + "d" * 60 + ".com"
    local_ok = "a" * (254 - 1 - len(domain))
    assert len(normalise_email(f"{local_ok}@{domain}")) == 254
    with pytest.raises(ValidationError):
        normalise_email(f"{local_ok}a@{domain}")


# ------------------------------------------------------------------------------------- money

ACCEPTED_AMOUNTS = [
    ("0", "0.00"),
    ("1234", "1234.00"),
    ("1234.56", "1234.56"),
    ("1234,56", "1234.56"),
    ("1234.5", "1234.50"),
    ("0,5", "0.50"),
    ("0.05", "0.05"),
    ("007", "7.00"),
    ("1,234.56", "1234.56"),
    ("1.234,56", "1234.56"),
    ("1 234,56", "1234.56"),
    ("1 234.56", "1234.56"),
    ("1 234", "1234.00"),
    ("1 234 567", "1234567.00"),
    ("1.234.567,89", "1234567.89"),
    ("1,234,567.89", "1234567.89"),
    ("1.234.567", "1234567.00"),
    ("1,234,567", "1234567.00"),
    ("1.234", "1234.00"),
    ("1,234", "1234.00"),
    ("999,999", "999999.00"),
    ("R$ 1.234,56", "1234.56"),
    ("R$1.234,56", "1234.56"),
    ("R$  1.234,56", "1234.56"),
    ("US$ 1,234.56", "1234.56"),
    ("$1,234.56", "1234.56"),
    ("€ 10", "10.00"),
    ("€10,50", "10.50"),
    ("£ 3.50", "3.50"),
    ("¥ 1,000", "1000.00"),
    ("USD 10", "10.00"),
    ("USD10", "10.00"),
    ("BRL 1.234,56", "1234.56"),
    (f"R${NBSP}1.234,56", "1234.56"),
    (f"R${NNBSP}1.234,56", "1234.56"),
    (f"1{NBSP}234,56", "1234.56"),
    (f"1{NNBSP}234{NNBSP}567,89", "1234567.89"),
    (f"R$ 1{NBSP}234,56", "1234.56"),
    ("  12500  ", "12500.00"),
    (f"{NBSP}12{NBSP}", "12.00"),
    ("9999999999999.99", "9999999999999.99"),
    ("9.999.999.999.999,99", "9999999999999.99"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED_AMOUNTS)
def test_parse_money_accepts(text: str, expected: str) -> None:
    value = parse_money(text)
    assert value == Decimal(expected)
    assert str(value) == expected  # exactly two places, no exponent


REFUSED_AMOUNTS = [
    ("", "is empty"),
    ("   ", "is empty"),
    (NBSP, "is empty"),
    ("12,3,4", "is not an amount"),
    ("1,19877E+10", "is not an amount"),
    ("1e5", "is not an amount"),
    ("1E5", "is not an amount"),
    ("abc", "is not an amount"),
    ("R$", "is not an amount"),
    ("R$ ", "is not an amount"),
    ("1.2.3", "is not an amount"),
    ("12.34.56", "is not an amount"),
    ("1,234.567.89", "is not an amount"),
    ("1.234,567.89", "is not an amount"),
    ("1.234,56,78", "is not an amount"),
    ("1,23,456.00", "is not an amount"),
    ("1234,567.00", "is not an amount"),
    ("0,123.45", "is not an amount"),
    ("12 34", "is not an amount"),
    ("1234 567", "is not an amount"),
    ("1 234.567,89", "is not an amount"),
    ("1.234 567", "is not an amount"),
    ("1  234", "is not an amount"),
    ("1\t234", "is not an amount"),
    (".50", "is not an amount"),
    (",50", "is not an amount"),
    ("10.", "is not an amount"),
    ("10,", "is not an amount"),
    ("+10", "is not an amount"),
    ("10-", "is not an amount"),
    ("10 €", "is not an amount"),
    ("usd 10", "is not an amount"),
    ("R $ 10", "is not an amount"),
    ("R$ R$ 10", "is not an amount"),
    ("NaN", "is not an amount"),
    ("Infinity", "is not an amount"),
    ("١٢٣", "is not an amount"),
    ("１２３", "is not an amount"),
    ("1_000", "is not an amount"),
    ("0x10", "is not an amount"),
    ("--10", "is not an amount"),
    ("1.2345", "has more than 2 decimal places"),
    ("1,2345", "has more than 2 decimal places"),
    ("0.125", "has more than 2 decimal places"),
    ("0,125", "has more than 2 decimal places"),
    ("1234.567", "has more than 2 decimal places"),
    ("1.234,567", "has more than 2 decimal places"),
    ("1,234.567", "has more than 2 decimal places"),
    ("1 234,567", "has more than 2 decimal places"),
    ("-5", "must not be negative"),
    ("-0", "must not be negative"),
    ("−5", "must not be negative"),
    ("- 5", "must not be negative"),
    ("(5)", "must not be negative"),
    ("(1.234,56)", "must not be negative"),
    ("-R$ 10", "must not be negative"),
    ("R$ -10", "must not be negative"),
    ("R$ (10)", "must not be negative"),
    ("(R$ 10)", "must not be negative"),
    ("10000000000000", "is too large"),
    ("9999999999999.991", "has more than 2 decimal places"),
    ("10.000.000.000.000,00", "is too large"),
    ("1" * 400, "is too large"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED_AMOUNTS)
def test_parse_money_refuses(text: str, reason: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_money(text, field="budget")
    message = _message(excinfo)
    assert message.startswith('budget: "')
    assert message.endswith(reason)


def test_parse_money_message_format() -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_money("12,3,4", field="budget")
    assert _message(excinfo) == 'budget: "12,3,4" is not an amount'
    with pytest.raises(ValidationError) as excinfo:
        parse_money("-1")
    assert _message(excinfo) == 'amount: "-1" must not be negative'


def test_parse_money_message_escapes_and_truncates() -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_money('1\n"2"\x1b')
    assert _message(excinfo) == r'amount: "1\n\"2\"\x1b" is not an amount'
    with pytest.raises(ValidationError) as excinfo:
        parse_money("x" * 500)
    assert len(_message(excinfo)) < 120


def test_validation_error_is_a_crm_error() -> None:
    with pytest.raises(CrmError):
        parse_money("nope")


def _group(integer: str, separator: str) -> str:
    head = len(integer) % 3 or 3
    groups = [integer[:head]] + [integer[i : i + 3] for i in range(head, len(integer), 3)]
    return separator.join(groups)


def _render(value: Decimal, thousands: str, decimal_mark: str) -> str:
    integer, fraction = f"{value:f}".split(".")
    return f"{_group(integer, thousands)}{decimal_mark}{fraction}"


STYLES = {
    "plain point": lambda v: _render(v, "", "."),
    "plain comma": lambda v: _render(v, "", ","),
    "us": lambda v: _render(v, ",", "."),
    "us dollar": lambda v: "$" + _render(v, ",", "."),
    "br": lambda v: _render(v, ".", ","),
    "br real nbsp": lambda v: f"R${NBSP}" + _render(v, ".", ","),
    "br real space": lambda v: "R$ " + _render(v, ".", ","),
    "space nnbsp": lambda v: _render(v, NNBSP, ","),
    "space nbsp point": lambda v: "USD " + _render(v, NBSP, "."),
    "space": lambda v: "€ " + _render(v, " ", ","),
}

AMOUNTS = st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2)


@pytest.mark.parametrize("style", sorted(STYLES))
@given(value=AMOUNTS)
@example(value=Decimal("0.00"))
@example(value=Decimal("1234.00"))
@example(value=Decimal("123.45"))
@example(value=MAX_AMOUNT)
def test_parse_money_reads_every_style(style: str, value: Decimal) -> None:
    text = STYLES[style](value)
    parsed = parse_money(text)
    assert parsed == value
    assert parsed.as_tuple().exponent == -2


def test_render_helper_matches_examples() -> None:
    assert STYLES["br real nbsp"](Decimal("1234.56")) == f"R${NBSP}1.234,56"
    assert STYLES["us"](Decimal("1234567.89")) == "1,234,567.89"
    assert STYLES["br"](Decimal("0.05")) == "0,05"


@given(AMOUNTS)
def test_format_money_round_trips(value: Decimal) -> None:
    text = format_money(value)
    assert parse_money(text) == value
    assert format_money(parse_money(text)) == text


@given(st.text())
@example("1,19877E+10")
@example("R$ (")
@example("(")
@example("-")
@example("9" * 5000)
def test_parse_money_only_raises_validation_error(text: str) -> None:
    try:
        value = parse_money(text)
    except ValidationError as exc:
        assert "\n" not in str(exc)
        return
    assert Decimal(0) <= value <= MAX_AMOUNT
    assert value.as_tuple().exponent == -2


@given(st.text(alphabet="0123456789.,  \u00a0\u202fR$€US-()E+", max_size=20))
def test_parse_money_grammar_fuzz(text: str) -> None:
    try:
        value = parse_money(text)
    except ValidationError:
        return
    assert Decimal(0) <= value <= MAX_AMOUNT
    assert str(value) == format_money(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12500"), "12500.00"),
        (Decimal("12500.5"), "12500.50"),
        (Decimal("0"), "0.00"),
        (Decimal("0E-2"), "0.00"),
        (Decimal("0E+5"), "0.00"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("-0.001"), "0.00"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("1E+30"), "1" + "0" * 30 + ".00"),
        (Decimal("1.005"), "1.01"),
        (Decimal("1.004"), "1.00"),
        (Decimal("2.675"), "2.68"),
        (Decimal("0.125"), "0.13"),
        (Decimal("-1.005"), "-1.01"),
        (MAX_AMOUNT, "9999999999999.99"),
        (Decimal("123456789012345678901234567890.555"), "123456789012345678901234567890.56"),
    ],
)
def test_format_money(value: Decimal, expected: str) -> None:
    assert format_money(value) == expected


@pytest.mark.parametrize(
    ("cents", "money"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (1250, "12.50"),
        (123456, "1234.56"),
        (-1250, "-12.50"),
        (999999999999999, "9999999999999.99"),
    ],
)
def test_cents_conversions(cents: int, money: str) -> None:
    assert str(cents_to_money(cents)) == money
    assert cents_to_money(cents) == Decimal(money)
    assert money_to_cents(Decimal(money)) == cents


def test_money_to_cents_rounds_half_up_and_refuses_non_finite() -> None:
    assert money_to_cents(Decimal("12.505")) == 1251
    assert money_to_cents(Decimal("1E+2")) == 10000
    with pytest.raises(ValueError):
        money_to_cents(Decimal("NaN"))
    with pytest.raises(ValueError):
        format_money(Decimal("Infinity"))


@given(st.integers(min_value=-(10**40), max_value=10**40))
def test_cents_round_trip(cents: int) -> None:
    money = cents_to_money(cents)
    assert money.as_tuple().exponent == -2
    assert money_to_cents(money) == cents


@given(AMOUNTS)
def test_money_round_trip(value: Decimal) -> None:
    assert cents_to_money(money_to_cents(value)) == value
    assert str(cents_to_money(money_to_cents(value))) == format_money(value)


# ------------------------------------------------------------------------------- probability


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40", 40),
        ("40%", 40),
        (" 40 ", 40),
        ("40 %", 40),
        ("0", 0),
        ("100", 100),
        ("100%", 100),
        ("007", 7),
        (40, 40),
        (0, 0),
        (100, 100),
    ],
)
def test_parse_probability_accepts(text: str | int, expected: int) -> None:
    assert parse_probability(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "40.5",
        "40,5",
        "101",
        "-1",
        "abc",
        "",
        "%",
        "40%%",
        "+40",
        "1e2",
        "٤٠",
        "1000",
        -1,
        101,
        True,
    ],
)
def test_parse_probability_refuses(text: str | int) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_probability(text)
    message = _message(excinfo)
    assert message.startswith(f'probability: "{text}"')
    assert message.endswith("must be a whole number from 0 to 100")


def test_parse_probability_field_name() -> None:
    with pytest.raises(ValidationError, match=r'^chance: "101" must be a whole number'):
        parse_probability("101", field="chance")


@given(st.integers(min_value=0, max_value=100))
def test_parse_probability_round_trips(number: int) -> None:
    assert parse_probability(str(number)) == number
    assert parse_probability(f"{number}%") == number


@given(st.text())
def test_parse_probability_only_raises_validation_error(text: str) -> None:
    try:
        value = parse_probability(text)
    except ValidationError:
        return
    assert 0 <= value <= 100


# -------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-31", date(2026, 12, 31)),
        ("2026-1-5", date(2026, 1, 5)),
        ("31/12/2026", date(2026, 12, 31)),
        ("31-12-2026", date(2026, 12, 31)),
        ("31.12.2026", date(2026, 12, 31)),
        ("01/02/2026", date(2026, 2, 1)),
        ("1/2/2026", date(2026, 2, 1)),
        ("29/02/2028", date(2028, 2, 29)),
        ("1900-01-01", date(1900, 1, 1)),
        ("9999-12-31", date(9999, 12, 31)),
        (" 2026-12-31 ", date(2026, 12, 31)),
        ("today", TODAY),
        ("TODAY", TODAY),
        (" Tomorrow ", TODAY + timedelta(days=1)),
        ("yesterday", TODAY - timedelta(days=1)),
        ("+3d", date(2026, 2, 3)),
        ("+0d", TODAY),
        ("-3d", date(2026, 1, 28)),
        ("+2w", date(2026, 2, 14)),
        ("-1w", date(2026, 1, 24)),
        ("+1m", date(2026, 2, 28)),  # 31 January + 1 month: clamped to February's last day
        ("+13m", date(2027, 2, 28)),
        ("+25m", date(2028, 2, 29)),
        ("+2m", date(2026, 3, 31)),
        ("-2m", date(2025, 11, 30)),
        ("+12m", date(2027, 1, 31)),
        ("+3D", date(2026, 2, 3)),
    ],
)
def test_parse_date_accepts(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


def test_parse_date_month_step_keeps_day() -> None:
    assert parse_date("+1m", today=date(2026, 3, 15)) == date(2026, 4, 15)
    assert parse_date("-1m", today=date(2026, 3, 31)) == date(2026, 2, 28)
    assert parse_date("+1m", today=date(2026, 12, 10)) == date(2027, 1, 10)


def test_parse_date_counts_from_the_callers_today_and_reads_no_clock() -> None:
    # issue 12, bug 3: it used to default to the wall clock, so `--timeline tomorrow` under a
    # pinned CRM_NOW stored the real tomorrow. The domain now has no clock: `today` is required.
    far = date(1987, 6, 5)
    assert parse_date("today", today=far) == far
    assert parse_date("tomorrow", today=far) == date(1987, 6, 6)
    assert parse_date("+3d", today=far) == date(1987, 6, 8)
    with pytest.raises(TypeError):
        parse_date("today")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2027-02-30", "(February 2027 has 28 days)"),
        ("31/02/2026", "(February 2026 has 28 days)"),
        ("29/02/2027", "(February 2027 has 28 days)"),
        ("31/04/2026", "(April 2026 has 30 days)"),
        ("2026-13-01", "(month must be from 1 to 12)"),
        ("2026-00-10", "(month must be from 1 to 12)"),
        ("2026-01-00", "(January 2026 has 31 days)"),
        ("12/31/2026", "(month must be from 1 to 12)"),
        ("1899-12-31", "(year must be from 1900 to 9999)"),
        ("0001-01-01", "(year must be from 1900 to 9999)"),
        ("+9999999w", "(year must be from 1900 to 9999)"),
        ("-99999m", "(year must be from 1900 to 9999)"),
    ],
)
def test_parse_date_refuses_impossible_dates(text: str, reason: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_date(text, field="close", today=TODAY)
    assert _message(excinfo) == f'close: "{text}" is not a valid date {reason}'


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "tomorow",
        "next week",
        "26-12-31",
        "31/12/26",
        "12026-01-01",
        "2026/12/31",
        "31/12-2026",
        "2026-12-31T00:00",
        "+3",
        "3d",
        "+3y",
        "+ 3d",
        "+3.5d",
        "٢٠٢٦-١٢-٣١",
        "31 dez 2026",
        "depois de amanhã",
    ],
)
def test_parse_date_refuses_unknown_forms(text: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_date(text, field="close", today=TODAY)
    message = _message(excinfo)
    assert message.startswith('close: "')
    assert "is not a valid date (use YYYY-MM-DD" in message


def test_parse_date_relative_bounds() -> None:
    with pytest.raises(ValidationError, match="year must be from 1900"):
        parse_date("yesterday", today=date(1900, 1, 1))
    with pytest.raises(ValidationError, match="year must be from 1900"):
        parse_date("+1d", today=date(9999, 12, 31))


DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31))


@given(DATES)
def test_parse_date_round_trips_renderings(day: date) -> None:
    renderings = [
        day.isoformat(),
        f"{day.day:02d}/{day.month:02d}/{day.year}",
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}-{day.month:02d}-{day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
    ]
    for text in renderings:
        assert parse_date(text, today=TODAY) == day
    assert parse_when(day.isoformat(), now=NOW) == (
        datetime.combine(day, datetime.min.time()),
        False,
    )


@given(DATES, st.integers(min_value=-500, max_value=500))
def test_parse_date_relative_days(today: date, days: int) -> None:
    text = f"{days:+d}d"
    try:
        expected = today + timedelta(days=days)
    except OverflowError:
        expected = None
    if expected is None or not 1900 <= expected.year <= 9999:
        with pytest.raises(ValidationError):
            parse_date(text, today=today)
    else:
        assert parse_date(text, today=today) == expected


@given(DATES, st.integers(min_value=0, max_value=240))
def test_parse_date_month_steps_clamp(today: date, months: int) -> None:
    try:
        result = parse_date(f"+{months}m", today=today)
    except ValidationError:
        assert today.year + (today.month - 1 + months) // 12 > 9999
        return
    assert (result.year * 12 + result.month) - (today.year * 12 + today.month) == months
    assert result.day == today.day or (result.day < today.day and (result + timedelta(1)).day == 1)


@given(st.text())
@example("+9999999d")
@example("9" * 5000 + "-01-01")
@example("99:99")
def test_parse_date_only_raises_validation_error(text: str) -> None:
    try:
        result = parse_date(text, today=TODAY)
    except ValidationError as exc:
        assert "\n" not in str(exc)
        return
    assert 1900 <= result.year <= 9999


# ---------------------------------------------------------------------------------- datetimes


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("2026-12-31", datetime(2026, 12, 31, 0, 0), False),
        ("31/12/2026", datetime(2026, 12, 31, 0, 0), False),
        ("tomorrow", datetime(2026, 2, 1, 0, 0), False),
        ("+1w", datetime(2026, 2, 7, 0, 0), False),
        ("2026-12-31 14:30", datetime(2026, 12, 31, 14, 30), True),
        ("2026-12-31  14:30", datetime(2026, 12, 31, 14, 30), True),
        ("2026-12-31T14:30", datetime(2026, 12, 31, 14, 30), True),
        ("2026-12-31T14:30:00", datetime(2026, 12, 31, 14, 30), True),
        ("2026-12-31 14:30:15", datetime(2026, 12, 31, 14, 30, 15), True),
        ("31/12/2026 14:30", datetime(2026, 12, 31, 14, 30), True),
        ("31.12.2026 9:05", datetime(2026, 12, 31, 9, 5), True),
        ("2026-12-31 00:00", datetime(2026, 12, 31, 0, 0), True),
        ("2026-12-31 23:59:59", datetime(2026, 12, 31, 23, 59, 59), True),
        ("14:30", datetime(2026, 1, 31, 14, 30), True),
        ("07:00:05", datetime(2026, 1, 31, 7, 0, 5), True),
        ("tomorrow 09:00", datetime(2026, 2, 1, 9, 0), True),
        ("+3d 10:00", datetime(2026, 2, 3, 10, 0), True),
        (" 14:30 ", datetime(2026, 1, 31, 14, 30), True),
    ],
)
def test_parse_when_accepts(text: str, expected: datetime, has_time: bool) -> None:
    result = parse_when(text, now=NOW)
    assert result == (expected, has_time)
    assert result[0].tzinfo is None
    assert parse_datetime(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("24:00", "is not a valid time (hour must be from 0 to 23)"),
        ("2026-12-31 25:00", "is not a valid time (hour must be from 0 to 23)"),
        ("12:60", "is not a valid time (minutes and seconds must be from 0 to 59)"),
        ("12:30:60", "is not a valid time (minutes and seconds must be from 0 to 59)"),
        ("2027-02-30 10:00", "is not a valid date (February 2027 has 28 days)"),
        ("31/12/2026T14:30", "is not a valid date and time (T may only follow YYYY-MM-DD)"),
        ("todayT14:30", "is not a valid date and time (T may only follow YYYY-MM-DD)"),
    ],
)
def test_parse_when_refuses_bad_parts(text: str, reason: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_when(text, now=NOW)
    assert _message(excinfo) == f'due: "{text}" {reason}'


@pytest.mark.parametrize(
    "text",
    [
        "",
        "soon",
        "14h30",
        "14",
        "14:3",
        "2:30 pm",
        "2026-12-31T14:30Z",
        "2026-12-31T14:30:00+03:00",
        "2026-12-31T14:30:00.5",
        "2026-12-31 14:30 extra",
        "2026-12-31 T14:30",
        "2026-12-31t14:30",
        "14:30 2026-12-31",
    ],
)
def test_parse_when_refuses_unknown_forms(text: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_when(text, field="remind", now=NOW)
    message = _message(excinfo)
    assert message.startswith('remind: "')
    assert "is not a valid" in message


def test_parse_datetime_uses_field_and_the_callers_now() -> None:
    # issue 12, bug 3: `now` used to default to the wall clock; the caller now gives it.
    now = datetime(1987, 6, 5, 14, 30)
    with pytest.raises(ValidationError, match=r'^at: "nope" is not a valid date or time'):
        parse_datetime("nope", field="at", now=now)
    assert parse_datetime("today", now=now) == datetime(1987, 6, 5)
    assert parse_datetime("09:15", now=now) == datetime(1987, 6, 5, 9, 15)
    assert parse_datetime("tomorrow 08:00", now=now) == datetime(1987, 6, 6, 8, 0)
    with pytest.raises(TypeError):
        parse_datetime("today")  # type: ignore[call-arg]


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
)
def test_parse_when_round_trips_renderings(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    renderings = [
        moment.isoformat(sep="T"),
        moment.isoformat(sep=" "),
        moment.strftime("%d/%m/") + f"{moment.year} {moment:%H:%M:%S}",
    ]
    for text in renderings:
        assert parse_when(text, now=NOW) == (moment, True)
    without_seconds = moment.replace(second=0)
    assert parse_when(f"{moment.date().isoformat()} {moment:%H:%M}", now=NOW) == (
        without_seconds,
        True,
    )
    assert parse_when(f"{moment:%H:%M}", now=NOW) == (
        datetime.combine(NOW.date(), without_seconds.time()),
        True,
    )


@given(st.text())
@example("99:99")
@example("2026-12-31T99:99")
@example("+9999999w 10:00")
def test_parse_when_only_raises_validation_error(text: str) -> None:
    try:
        moment, has_time = parse_when(text, now=NOW)
    except ValidationError as exc:
        assert "\n" not in str(exc)
        return
    assert 1900 <= moment.year <= 9999
    if not has_time:
        assert moment.time() == datetime.min.time()


@given(st.text(alphabet="0123456789-/.:T +dwmtoayT ", max_size=24))
def test_parse_when_grammar_fuzz(text: str) -> None:
    try:
        moment, _ = parse_when(text, now=NOW)
    except ValidationError:
        return
    assert moment.tzinfo is None
    assert parse_datetime(text, now=NOW) == moment


# -- issue 11: references, invisible characters, name keys ---------------------------------

_BLANKS = st.text(alphabet=st.sampled_from(" \t\n\u00a0\u3000\u200b\u200e\u202e\u2028\ufeff"))


@given(_BLANKS)
def test_parse_reference_refuses_every_blank_reference(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        values.parse_reference(text, "opportunity")
    assert str(caught.value) == "opportunity: an empty reference (give an id or a name)"
    assert caught.value.exit_code == 2


@given(st.text())
def test_parse_reference_gives_an_id_or_a_trimmed_name_with_a_key(text: str) -> None:
    try:
        parsed = values.parse_reference(text, "account")
    except UsageError:
        assert values.normalise_name(text.strip()) == ""
        return
    if isinstance(parsed, int):
        assert text.strip().isascii() and text.strip().isdigit()
    else:
        assert parsed == text.strip() and values.normalise_name(parsed) != ""


@given(st.text())
def test_normalise_name_is_idempotent_and_has_nothing_invisible(text: str) -> None:
    key = values.normalise_name(text)
    assert values.normalise_name(key) == key
    assert key == key.strip() and "  " not in key
    assert all(unicodedata.category(ch) not in ("Cf", "Zl", "Zp") for ch in key)


@pytest.mark.parametrize(
    "lookalike",
    ["Ａｃｍｅ", "Ac\u200bme", "A\u202ecme\u202c", "\ufeffACME", " acme\u2028", "ac\u00adme"],
)
def test_lookalike_names_share_one_key(lookalike: str) -> None:
    assert values.normalise_name(lookalike) == "acme"


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_ascii_keys_are_unchanged(text: str) -> None:
    assert values.normalise_name(text) == " ".join(text.split()).lower()


def test_accents_are_dropped_from_keys() -> None:
    assert values.normalise_name(" Café  TRÊS Rios ") == "cafe tres rios"
    assert values.normalise_name("cafe tres rios") == values.normalise_name("CAFÉ TRÊS RIOS")


@given(st.text())
def test_clean_name_is_one_visible_line_or_a_refusal(text: str) -> None:
    try:
        name = values.clean_name(text)
    except ValidationError:
        return
    assert name and len(name) <= values.MAX_NAME_LENGTH and name == name.strip()
    assert all(
        ch == " " or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Zs") for ch in name
    )
    assert values.clean_name(name) == name


# -- dates in either language (issue 14) -----------------------------------------------------

MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoje", MONDAY),
        ("Hoje", MONDAY),
        ("amanhã", date(2026, 12, 8)),
        ("AMANHA", date(2026, 12, 8)),
        ("ontem", date(2026, 12, 6)),
        ("+2w", date(2026, 12, 21)),
        ("+2s", date(2026, 12, 21)),
        ("+2sem", date(2026, 12, 21)),
        ("-1S", date(2026, 11, 30)),
        ("monday", date(2026, 12, 14)),  # the next one, never today
        ("terça", date(2026, 12, 8)),
        ("Terça-Feira", date(2026, 12, 8)),
        ("sexta", date(2026, 12, 11)),
        ("sáb", date(2026, 12, 12)),
        ("domingo", date(2026, 12, 13)),
        ("sun", date(2026, 12, 13)),
        ("31/12", date(2026, 12, 31)),
        ("7/12", MONDAY),  # today is its next occurrence
        ("6/12", date(2027, 12, 6)),
        ("15.3", date(2027, 3, 15)),
        ("29/02", date(2028, 2, 29)),
    ],
)
def test_dates_in_either_language(text: str, expected: date) -> None:
    assert parse_date(text, today=MONDAY) == expected


@pytest.mark.parametrize(
    ("text", "reason"), [("31/02", "February has at most 29 days"), ("1/13", "month must be")]
)
def test_day_month_without_a_year_must_exist(text: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        parse_date(text, today=MONDAY)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 6))
def test_a_weekday_is_the_next_one_within_a_week(today: date, weekday: int) -> None:
    name = ("monday", "terça", "quarta-feira", "thu", "sexta", "sábado", "dom")[weekday]
    found = parse_date(name, today=today)
    assert found.weekday() == weekday and 1 <= (found - today).days <= 7


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_day_month_is_the_next_occurrence(today: date) -> None:
    target = today + timedelta(days=200)
    found = parse_date(f"{target.day}/{target.month}", today=today)
    assert (found.day, found.month) == (target.day, target.month)
    assert today <= found <= today + timedelta(days=366)


def test_when_takes_portuguese_words_with_a_time() -> None:
    now = datetime(2026, 12, 7, 9, 30)
    assert parse_when("amanhã 14:30", now=now) == (datetime(2026, 12, 8, 14, 30), True)
    assert parse_when("sexta 09:00", now=now) == (datetime(2026, 12, 11, 9, 0), True)
