"""The import's fast paths give exactly what the general rules give.

Each lean path of `crm lead import` (the translate table of `normalise_name`, `clean_texts`
for a whole row, `currency_of`'s shortcut, the bulk insert's `new_lead_keys`) is checked
against the general function it stands for, over the characters it handles and seeded random
texts that mix them with the ones it must leave to the general rule.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import date
from decimal import Decimal

import pytest

from crmcli.domain.values import (
    _CURRENCY,
    _SYMBOLS,
    _general_key,
    clean_text,
    clean_texts,
    currency_of,
    normalise_name,
)
from crmcli.errors import ValidationError
from crmcli.store.schema import derived_keys, new_lead_keys

LATIN = "".join(chr(c) for c in range(0xC0, 0x180))
"""Latin-1 and Latin Extended-A letters: the range the translate table covers."""

TRICKY = (
    "\u0301\u0327\u0303"  # combining marks
    "ıİßẞﬁﬀ™ＡＣＭＥ"  # case folding and compatibility forms
    "\u00a0\u2028\u2029\u3000\t\n\x1f\x0b"  # Unicode and ASCII whitespace
    "\u200b\u200d\ufeff\u00ad"  # format characters (Cf)
    "ʼŉĿŀ·’'"  # apostrophes and middle dots
    "Ωωσςἀ"  # Greek
)
ASCII = "abcXYZ019 .-@,;"


def _texts(alphabet: str, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(count)]


def test_every_latin_letter_alone_and_in_words_folds_as_the_general_rule() -> None:
    for ch in LATIN:
        for text in (ch, ch.upper(), f"  A{ch}b  ", f"{ch} {ch}", f"x{ch}{ch}y"):
            assert normalise_name(text) == _general_key(text), repr(text)


@pytest.mark.parametrize("seed", range(4))
def test_random_mixed_texts_fold_as_the_general_rule(seed: int) -> None:
    for text in _texts(ASCII + LATIN + TRICKY, 3000, seed):
        assert normalise_name(text) == _general_key(text), repr(text)
    for text in _texts(ASCII + LATIN, 3000, seed + 100):  # the ones the table answers
        assert normalise_name(text) == _general_key(text), repr(text)


def _each_cell(cells: list[str]) -> list[str | None] | str:
    try:
        return [clean_text(cell) for cell in cells]
    except ValidationError as exc:
        return str(exc)


def _row_at_once(cells: list[str]) -> list[str | None] | str:
    try:
        return clean_texts(cells)
    except ValidationError as exc:
        return str(exc)


@pytest.mark.parametrize("seed", range(3))
def test_a_row_cleaned_at_once_is_each_cell_cleaned(seed: int) -> None:
    alphabet = ASCII + "ãéçÇ  \u00a0\r\n\t\x00\x07\u0301\u200b" + "e\u0301"
    rng = random.Random(seed)
    texts = _texts(alphabet, 4000, seed)
    for _ in range(1500):
        cells = [rng.choice(texts) for _ in range(rng.randint(1, 9))]
        assert _row_at_once(cells) == _each_cell(cells), repr(cells)


def test_a_row_cleaned_at_once_normalises_and_trims() -> None:
    cells = [" Jose\u0301 ", "", "  ", "São", "a\r\nb", "ok"]
    assert clean_texts(cells) == ["José", None, None, "São", "a\nb", "ok"]
    assert unicodedata.is_normalized("NFC", clean_texts(["Jose\u0301"])[0] or "")
    with pytest.raises(ValidationError, match="control character"):
        clean_texts(["fine", "bad\x07"])


def _currency_by_pattern(text: str) -> str | None:
    """The currency `typed_amount` names, as it read it before the shortcut."""
    marker = _CURRENCY.match(text.strip().lstrip("-").strip())
    if marker is None:
        return None
    symbol = marker.group().strip(" \u00a0\u202f")
    return _SYMBOLS.get(symbol, symbol)


AMOUNTS = ["R$ 12.345,67", "R$12", "R$", "-R$ 5", "US$ 10", "$ 5", "€ 10", "EUR 10", "BRL 1"]
AMOUNTS += ["12,50", "R 12", "r$ 12", " R$ 3", "R$\u00a010", "(R$ 10)", "USD", "12 R$"]


@pytest.mark.parametrize("text", AMOUNTS)
def test_the_currency_of_an_amount_is_read_as_the_pattern_reads_it(text: str) -> None:
    assert currency_of(text) == _currency_by_pattern(text)


def _lead_rows(count: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    names = ["Ana Lima", "João  D'Ávila", "ÉLODIE Ça", "bob", "Zoë\u200bX", "Ｊｏｈｎ", "x"]
    companies = [None, "", "ACME Ltda", "Construtora Horizonte S/A", "Açaí & Cia", "e Cia"]
    phones = [None, "", "+55 11 98765-4321", "(11) 3333-4444", "0000-0000", "tel 9 8888 7777"]
    rows = []
    for _ in range(count):
        rows.append(
            {
                "name": rng.choice(names) + rng.choice(["", " Souza", " Çelik"]),
                "email": rng.choice([None, "ana@x.com", "ÉVA@exemplo.com.br"]),
                "phone": rng.choice(phones),
                "company": rng.choice(companies),
                "title": rng.choice([None, "CTO"]),
                "source": rng.choice([None, "", "Feira São Paulo", "site"]),
                "budget": rng.choice([None, Decimal("10.00")]),
                "timeline": rng.choice([None, date(2027, 1, 2)]),
                "owner": rng.choice([None, "", "bia", "Zé"]),
                "notes": rng.choice([None, "", "ligar  amanhã", "nota"]),
                "extras": None,
                "tags": rng.choice([None, (), ("Feira SP", "vip"), ("Ação",)]),
                "status": "new",
            }
        )
    return rows


@pytest.mark.parametrize("seed", range(3))
def test_the_bulk_inserts_keys_are_the_derived_keys(seed: int) -> None:
    folded: dict[str, str] = {}  # shared between the rows, as a batch shares it
    for row in _lead_rows(500, seed):
        assert new_lead_keys(row, folded) == derived_keys("lead", row), row
