"""The matching key of a phone number: its national digits, however it was written.

Pure standard library. `phone_key` turns ``+55 (11) 98765-4321``, ``55 11 98765 4321``,
``(11) 98765-4321``, ``011 98765-4321`` and ``+5511987654321`` into the same key,
``11987654321``; docs/design.md ("Duplicates") states the rule.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_DIGITS", "MIN_DIGITS", "country_code_length", "phone_key"]

MIN_DIGITS = 7
"""The shortest key: fewer national digits are an extension, a short code or a typo."""

MAX_DIGITS = 15
"""The longest key (E.164 allows 15 digits in all): more is two numbers run together."""

_TWO_DIGIT_CODES = frozenset([
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
    "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
])  # fmt: skip
"""The two-digit country calling codes of E.164 (1 and 7 are the one-digit ones; every other
code has three digits, so the codes are prefix-free and a number's code can be read off it)."""

_SEPARATORS = frozenset(" -.()\u00a0\u202f\u2009\u2010\u2011\u2012\u2013\u2014\u2212\t")
"""What may stand between the digits of one number; anything else ends it (an extension,
a second number after ``/`` or ``,``)."""

_OXX = re.compile(r"0\s*[xX]{2}")
"""The old Brazilian ``0xx11`` way of writing the trunk prefix before an area code."""


def country_code_length(digits: str) -> int:
    """How many leading digits of an international number are its country code (0 if none)."""
    if not digits or digits[0] == "0":
        return 0
    if digits[0] in "17":
        return 1
    return 2 if digits[:2] in _TWO_DIGIT_CODES else 3


_PLAIN = re.compile(r"\+?[0-9 ().-]*")
"""A number written with ASCII digits and the common separators only (the fast path)."""

_PLAIN_SEPARATORS = str.maketrans("", "", "+ ().-")


def _digits(text: str) -> tuple[bool, str]:
    """(written with a leading ``+``, the digits of the first number in `text`)."""
    if _PLAIN.fullmatch(text):
        return text.startswith("+"), text.translate(_PLAIN_SEPARATORS)
    text = _OXX.sub("0", text)
    start = next((i for i, ch in enumerate(text) if ch == "+" or ch.isdecimal()), len(text))
    plus = text[start : start + 1] == "+"
    found: list[str] = []
    for ch in text[start + plus :]:
        if ch.isdecimal():
            found.append(ch if ch.isascii() else str(unicodedata.decimal(ch)))
        elif ch not in _SEPARATORS:
            break
    return plus, "".join(found)


def phone_key(text: str | None) -> str | None:
    """The national digits of the first phone number in `text`, or None when it has none.

    Formatting is ignored; an international prefix (``+`` or ``00``) and the country code
    after it are dropped, as is a country code written without ``+`` (12 digits or more);
    then one trunk ``0``. Keys shorter than `MIN_DIGITS` or longer than `MAX_DIGITS`, and
    placeholders whose last seven digits are one digit repeated (``0000-0000``), are None.
    """
    if not text:
        return None
    plus, digits = _digits(text)
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]
    if plus or len(digits) >= 12:
        digits = digits[country_code_length(digits) :]
    if digits.startswith("0"):
        digits = digits[1:]
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS or digits[-7:] == digits[-1] * 7:
        return None
    return digits
