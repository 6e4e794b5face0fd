"""The phone key: one key per number however it is written, and different numbers kept apart."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crmcli.domain.phones import MAX_DIGITS, MIN_DIGITS, country_code_length, phone_key

COUNTRY_CODES = ["1", "7", "20", "33", "39", "44", "49", "55", "351", "353", "598", "971"]

area_codes = st.integers(11, 99).map(str).filter(lambda a: "0" not in a)
mobile = st.integers(90_000_000, 99_999_999).map(lambda n: f"9{n}")  # 9 digits, starts with 9
landline = st.integers(20_000_000, 59_999_999).map(str)  # 8 digits, starts with 2-5
brazilian = st.tuples(area_codes, st.one_of(mobile, landline))
"""(area code, subscriber number) of a Brazilian phone."""


def _not_placeholder(digits: str) -> bool:
    return len(set(digits[-7:])) > 1


def _split(number: str) -> str:
    """`98765-4321` / `3456-7890`: the subscriber number as people write it."""
    return f"{number[:-4]}-{number[-4:]}"


@given(brazilian)
@example(("11", "987654321"))
def test_every_way_of_writing_a_brazilian_number_is_one_key(phone: tuple[str, str]) -> None:
    area, number = phone
    national = area + number
    written = [
        f"+55 ({area}) {_split(number)}",
        f"55 {area} {number[:-4]} {number[-4:]}",
        f"({area}) {_split(number)}",
        f"0{area} {_split(number)}",
        f"+55{national}",
        f"0055 {area} {number}",
        f"+55 (0{area}) {_split(number)}",
        f"(0xx{area}) {_split(number)}",
        f"Tel: +55 {area} {_split(number)} ramal 22",
        f"{area}.{number[:-4]}.{number[-4:]}",
    ]
    expected = national if _not_placeholder(national) else None
    assert {w: phone_key(w) for w in written} == dict.fromkeys(written, expected)


def test_the_examples_of_the_contract_are_one_phone() -> None:
    written = [
        "+55 (11) 98765-4321",
        "55 11 98765 4321",
        "(11) 98765-4321",
        "011 98765-4321",
        "+5511987654321",
    ]
    assert {phone_key(w) for w in written} == {"11987654321"}


@given(
    st.sampled_from(COUNTRY_CODES),
    st.text("0123456789", min_size=MIN_DIGITS, max_size=11).filter(lambda d: d[0] != "0"),
)
def test_a_country_code_and_a_trunk_zero_are_dropped(code: str, national: str) -> None:
    expected = national if _not_placeholder(national) else None
    assert phone_key(f"+{code} {national}") == expected
    assert phone_key(f"00{code}{national}") == expected
    assert phone_key(f"0{national}") == expected
    assert phone_key(national) == expected
    if len(code + national) >= 12:  # long enough to carry its country code without a +
        assert phone_key(code + national) == expected


@given(
    st.lists(
        st.tuples(
            st.sampled_from("0123456789"),
            st.text(" -.()\u00a0", max_size=2),
        ),
        min_size=1,
        max_size=16,
    )
)
def test_formatting_between_the_digits_does_not_change_the_key(
    parts: list[tuple[str, str]],
) -> None:
    plain = "".join(digit for digit, _ in parts)
    formatted = "".join(digit + separator for digit, separator in parts)
    assert phone_key(formatted) == phone_key(plain)


@given(brazilian, brazilian)
def test_different_numbers_have_different_keys(
    one: tuple[str, str], other: tuple[str, str]
) -> None:
    first, second = "".join(one), "".join(other)
    if first != second and _not_placeholder(first) and _not_placeholder(second):
        assert phone_key(f"({one[0]}) {one[1]}") != phone_key(f"+55 {other[0]} {other[1]}")


@given(st.text())
@example("+")
@example("00")
@example("٠١١ ٩٨٧٦٥-٤٣٢١")  # Arabic-Indic digits
def test_any_text_gives_digits_of_a_sensible_length_or_none(text: str) -> None:
    key = phone_key(text)
    assert key is None or (key.isascii() and key.isdigit() and MIN_DIGITS <= len(key) <= MAX_DIGITS)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (None, None),
        ("", None),
        ("n/a", None),
        ("ramal 22", None),
        ("123-456", None),  # too short to be a phone
        ("(00) 0000-0000", None),  # placeholders
        ("(11) 99999-9999", None),
        ("11 98765-4321 / 11 3456-7890", "11987654321"),  # the first number only
        ("+1 (415) 555-0134", "4155550134"),
        ("(415) 555-0134", "4155550134"),
        ("+44 20 7946 0958", "2079460958"),
        ("020 7946 0958", "2079460958"),
        ("+39 06 6982 1234", "669821234"),
        ("06 6982 1234", "669821234"),
        ("٠١١ ٩٨٧٦٥-٤٣٢١", "11987654321"),
        ("1" * 16 + "2", None),  # two numbers run together
    ],
)
def test_examples(text: str | None, key: str | None) -> None:
    assert phone_key(text) == key


@pytest.mark.parametrize(
    ("digits", "length"),
    [("14155550134", 1), ("79161234567", 1), ("5511987654321", 2), ("351912345678", 3), ("0", 0)],
)
def test_country_codes_are_read_off_the_digits(digits: str, length: int) -> None:
    assert country_code_length(digits) == length
