"""Parsing and normalising the plain values a user types: names, text, e-mail, money, dates.

Pure functions, standard library only. Every refusal is a `ValidationError` whose one-line
message names the field and quotes the value, e.g. ``budget: "12,3,4" is not an amount``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TYPE_CHECKING

from crmcli.domain.models import ActivityType
from crmcli.errors import UsageError, ValidationError
from crmcli.i18n import N_, _

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "MAX_AMOUNT",
    "MAX_ID",
    "MAX_NAME_LENGTH",
    "cents_to_money",
    "clean_name",
    "clean_text",
    "clean_texts",
    "format_money",
    "money_to_cents",
    "name_rules",
    "normalise_email",
    "normalise_name",
    "parse_date",
    "parse_datetime",
    "parse_money",
    "parse_probability",
    "parse_reference",
    "parse_when",
]

MAX_AMOUNT = Decimal("9999999999999.99")
"""The largest amount `parse_money` accepts (13 integer digits, 2 decimal places)."""

_CENT = Decimal("0.01")
_QUOTE_LIMIT = 80


class _Invalid(Exception):
    """Internal: a value is refused; `reason` completes the sentence after the quoted value."""

    def __init__(self, reason: str, *, unrecognised: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unrecognised = unrecognised


def _quote(value: str) -> str:
    """Render `value` in double quotes on one line, escaping quotes and unprintable characters."""
    if len(value) > _QUOTE_LIMIT:
        value = value[: _QUOTE_LIMIT - 1] + "…"
    out: list[str] = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == " " or ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return '"' + "".join(out) + '"'


def _error(field: str, value: str, reason: str) -> ValidationError:
    return ValidationError(
        _("{field}: {value} {reason}").format(field=field, value=_quote(value), reason=reason)
    )


# --------------------------------------------------------------------------------------- text


MAX_ID = 2**31 - 1
"""The largest record id: PostgreSQL's INTEGER ids stop there, so both backends do."""


def is_id_text(text: str) -> bool:
    """True when `text` is written as an id: ASCII digits only ("¹" and "٣" are not ids)."""
    return text.isascii() and text.isdigit()


def parse_reference(text: str, kind: str, *, ids_only: bool = False) -> int | str:
    """Read a reference to a record of `kind` ("lead", "opportunity", "stage"...).

    ASCII digits are an id (an int); anything else is a name (the text trimmed), unless
    `ids_only`. A reference that is empty, blank or nothing but invisible characters (its
    matching key is empty) names nothing, so it is a `UsageError`, never a match: a script with
    an unset variable (`crm opp win "$DEAL"`) must not close the only deal.
    """
    stripped = text.strip()
    if is_id_text(stripped):
        return int(stripped)
    if not stripped or not normalise_name(stripped):
        if ids_only:
            raise UsageError(_("{kind}: an empty reference (give an id)").format(kind=kind))
        raise UsageError(_("{kind}: an empty reference (give an id or a name)").format(kind=kind))
    if ids_only:
        raise UsageError(
            _("{kind}: {value} is not an id ({kind}s are named by id)").format(
                kind=kind, value=_quote(text)
            )
        )
    return stripped


def parse_lead_reference(text: str) -> int | str:
    """Read a reference to a lead: ASCII digits are its id (an int); text with an `@` is its
    e-mail, normalised as stored (`normalise_email`, a bad address a UsageError); anything
    else is a UsageError, as is an empty or blank reference (`parse_reference`)."""
    stripped = text.strip()
    if "@" in stripped:
        try:
            return normalise_email(stripped, field="lead")
        except ValidationError as exc:
            raise UsageError(str(exc)) from None
    if is_id_text(stripped) or not stripped or not normalise_name(stripped):
        return parse_reference(text, "lead", ids_only=True)
    raise UsageError(
        _("lead: {value} is not an id or an e-mail (leads are named by id or e-mail)").format(
            value=_quote(text)
        )
    )


def normalise_name(text: str) -> str:
    """Return the key used to compare names: accents dropped, trimmed, single-spaced,
    case-folded (``Açaí`` and ``acai`` share ``acai``; ``Negociação`` is ``negociacao``).

    Invisible format characters (Unicode category Cf: zero-width spaces and joiners, bidi
    marks and overrides, the BOM, the soft hyphen) are dropped; line and paragraph separators
    and every other whitespace count as one space; NFKD folds compatibility forms (full-width
    ``Ａｃｍｅ``, ligatures, ``™``) onto their plain letters and splits accented letters, whose
    combining marks are then dropped. ASCII names get the same key as before any of this
    (lower-cased, single-spaced). The same key on every backend: it is computed here, never
    by the database's `lower()`.
    """
    if text.isascii():  # fast path: NFKD is a no-op, no Cf, and casefold is lower-casing
        return " ".join(text.split()).lower()
    folded = text.translate(_LATIN_KEYS)
    if folded.isascii():  # every other character was a letter of _LATIN_KEYS: done
        return " ".join(folded.split()).lower()
    return _general_key(text)


def _general_key(text: str) -> str:
    """`normalise_name` of any text, one step after another (no fast path)."""
    if text.isascii():
        return " ".join(text.split()).lower()
    if not text.isprintable():
        # bytes of a non-UTF-8 argument (surrogateescape) can match no stored name
        text = _SURROGATES.sub("\ufffd", text)
        text = _drop_format_characters(text)
    key = _without_marks(" ".join(text.split()).casefold())
    key = _without_marks(key.casefold())  # casefold can bring back a decomposable letter
    if not key.isprintable():  # NFKD of the case-folded text may bring back a space or a Cf
        key = _drop_format_characters(key)
    return " ".join(key.split())


def _without_marks(text: str) -> str:
    """NFKD of `text` without its combining marks (accents, cedillas, tildes)."""
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_SURROGATES = re.compile("[\ud800-\udfff]")


def _latin_keys() -> dict[int, str]:
    """The `str.translate` table of `normalise_name`'s fast path: each letter of Latin-1 and
    Latin Extended-A (``é``, ``Ç``, ``ß``, ``İ``...) whose key, by the general rule, is plain
    ASCII letters or digits, mapped to that key.

    The key of a text is the keys of its characters put together (case folding and NFKD go
    character by character; only the combining marks, which are dropped, are reordered), then
    split on whitespace and single-spaced: so a text made of ASCII and such letters gets, by
    translating, exactly the key the general rule gives. Any other character (a combining
    mark, ``ı``, ``ﬁ``, a full-width letter) stays untranslated, and the text takes the
    general rule. Built from `_general_key` itself, so the two cannot drift apart.
    """
    table: dict[int, str] = {}
    for code in range(0xC0, 0x180):
        key = _general_key(chr(code))
        if key and key.isascii() and key.isalnum():
            table[code] = key
    return table


def _drop_format_characters(text: str) -> str:
    """`text` without its Unicode format characters (category Cf)."""
    return "".join(ch for ch in text if ch.isprintable() or unicodedata.category(ch) != "Cf")


_LATIN_KEYS = _latin_keys()


MAX_NAME_LENGTH = 500
"""The longest name (of a lead, contact, account, deal, stage, or an activity's subject)."""


def clean_name(text: str, *, field: str = "name") -> str:
    """Return a name as `clean_text` does, but on one line and with nothing invisible in it.

    Format characters (category Cf: zero-width, bidi overrides, BOM...) are dropped, and tabs,
    newlines, line and paragraph separators and other whitespace become plain spaces, so a
    name can neither fake a row of a listing nor pass for another name. Refused: control
    characters, empty (or only invisible) names, names longer than `MAX_NAME_LENGTH`.
    """
    return name_rules(clean_text(text, field=field), field=field)


def name_rules(cleaned: str | None, *, field: str = "name") -> str:
    """The rules of a name (`clean_name`) on text that `clean_text` already cleaned.

    For callers that clean every cell of a row first (the imports): the name rules are
    applied once more without cleaning the text twice; a command and an import thus refuse
    the same names with the same message.
    """
    if cleaned is not None and not cleaned.isprintable():
        cleaned = _drop_format_characters(cleaned)
        cleaned = "".join(" " if ch.isspace() else ch for ch in cleaned).strip()
    if not cleaned:
        raise ValidationError(_("{field}: must not be empty").format(field=field))
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValidationError(
            _("{field}: is longer than {limit} characters").format(
                field=field, limit=MAX_NAME_LENGTH
            )
        )
    return cleaned


def clean_text(text: str | None, *, field: str = "text") -> str | None:
    """Return `text` in NFC, trimmed, with line ends as ``\\n``; None when empty or None.

    Control characters other than tab and newline are refused (CR and CRLF become LF).
    """
    if text is None:
        return None
    cleaned = text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
    if "\r" in cleaned:
        cleaned = cleaned.replace("\r\n", "\n").replace("\r", "\n")
    if not cleaned.isprintable():  # rare: only then look for control characters one by one
        for ch in cleaned:
            category = unicodedata.category(ch)
            if ch not in "\t\n" and category == "Cc":
                raise _error(field, text, _("contains a control character"))
            if category == "Cs":  # a byte of an argument that was not UTF-8 (surrogateescape)
                raise _error(field, text, _("is not valid text (bytes that are not UTF-8)"))
    cleaned = cleaned.strip()
    return cleaned or None


def clean_texts(texts: Sequence[str]) -> list[str | None]:
    """`clean_text` of each text (the cells of an import row), in one pass.

    A row whose text is all printable holds no line end and no control character: each cell
    is only brought to NFC (a no-op for ASCII) and trimmed. Any other row goes through
    `clean_text`, cell by cell (its `ValidationError` names the field ``text``)."""
    joined = "".join(texts)
    if joined.isprintable():
        if joined.isascii():
            return [text.strip() or None for text in texts]
        return [
            (
                text
                if text.isascii() or unicodedata.is_normalized("NFC", text)
                else unicodedata.normalize("NFC", text)
            ).strip()
            or None
            for text in texts
        ]
    return [clean_text(text) for text in texts]


# ------------------------------------------------------------------------------------- e-mail

_LOCAL_BAD = re.compile(r'[()<>\[\]:;,\\"@\s]')
_DOMAIN_LABEL = re.compile(r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?")


def _valid_email(address: str) -> bool:
    if len(address) > 254 or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    if not local or local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    if _LOCAL_BAD.search(local) or not local.isprintable():
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)


_ASCII_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_COMMON_EMAIL = re.compile(
    rf"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@{_ASCII_LABEL}(?:\.{_ASCII_LABEL})+"
)


def normalise_email(text: str, *, field: str = "email") -> str:
    """Return the address trimmed, NFC and lower-cased, after a pragmatic shape check.

    One ``@``; a local part without spaces, control characters, RFC specials or stray dots; a
    domain of at least two dot-separated labels of letters, digits and inner hyphens; at most
    254 characters in all.
    """
    address = text.strip().lower()
    if len(address) <= 254 and _COMMON_EMAIL.fullmatch(address):
        return address  # plain ASCII addresses: a subset of what the full check accepts
    address = text.strip()
    if not unicodedata.is_normalized("NFC", address):
        address = unicodedata.normalize("NFC", address)
    address = address.lower()
    if not _valid_email(address):
        raise _error(field, text, _("is not a valid e-mail address"))
    return address


# -------------------------------------------------------------------------------------- money

_SPACES = " \u00a0\u202f"
_CURRENCY = re.compile(r"(?:R\$|US\$|[$€£¥]|[A-Z]{3})[ \u00a0\u202f]*")
_AMOUNT_BODY = re.compile(r"[0-9]+(?:[., \u00a0\u202f][0-9]+)*")
_AMOUNT_SEPARATOR = re.compile(r"([., \u00a0\u202f])")


def _split_sign(text: str) -> tuple[bool, str]:
    """Remove a leading minus or enclosing parentheses; report whether one was there."""
    if len(text) >= 2 and text.startswith("(") and text.endswith(")"):
        return True, text[1:-1].strip(_SPACES)
    if text[:1] in ("-", "\u2212"):
        return True, text[1:].lstrip(_SPACES)
    return False, text


def _is_grouped(groups: list[str]) -> bool:
    """True when `groups` are thousands groups: 1-3 digits (no leading zero), then 3 digits each."""
    first, rest = groups[0], groups[1:]
    if not 1 <= len(first) <= 3 or first.startswith("0"):
        return False
    return all(len(group) == 3 for group in rest)


def _amount_digits(body: str) -> tuple[str, str]:
    """Split a number (without sign or currency) into integer and fraction digits."""
    if not _AMOUNT_BODY.fullmatch(body):
        raise _Invalid(_("is not an amount"))
    parts = _AMOUNT_SEPARATOR.split(body)
    groups = parts[0::2]
    seps = [" " if sep in _SPACES else sep for sep in parts[1::2]]
    if not seps:
        return groups[0], ""
    marks = [sep for sep in seps if sep != " "]
    if " " in seps or len(set(marks)) == 2:
        # Spaces, or both "." and ",": the last mark (if any) is the decimal separator and
        # every other separator must be one single kind of thousands separator.
        has_fraction = seps[-1] != " "
        integer_seps = seps[:-1] if has_fraction else seps
        if len(set(integer_seps)) != 1 or (has_fraction and seps[-1] in integer_seps):
            raise _Invalid(_("is not an amount"))
        integer_groups = groups[:-1] if has_fraction else groups
        fraction = groups[-1] if has_fraction else ""
        if not _is_grouped(integer_groups):
            raise _Invalid(_("is not an amount"))
    elif len(seps) > 1:
        # One kind of mark, several times: thousands separators.
        if not _is_grouped(groups):
            raise _Invalid(_("is not an amount"))
        integer_groups, fraction = groups, ""
    else:
        # One mark, once: thousands before exactly 3 digits, otherwise decimal.
        head, tail = groups
        if len(tail) == 3 and _is_grouped(groups):
            integer_groups, fraction = groups, ""
        else:
            integer_groups, fraction = [head], tail
    if len(fraction) > 2:
        raise _Invalid(_("has more than 2 decimal places"))
    return "".join(integer_groups), fraction


def _parse_amount(text: str) -> Decimal:
    stripped = text.strip()
    if not stripped:
        raise _Invalid(_("is empty"))
    negative, rest = _split_sign(stripped)
    currency = _CURRENCY.match(rest)
    if currency:
        rest = rest[currency.end() :]
        if not negative:
            negative, rest = _split_sign(rest)
    integer, fraction = _amount_digits(rest)
    if negative:
        raise _Invalid(_("must not be negative"))
    value = Decimal(f"{integer}.{fraction or '0'}")
    if value > MAX_AMOUNT:
        raise _Invalid(_("is too large"))
    return value.quantize(_CENT)


# Plain "1234", "1234.5", "1234,56", or grouped "R$ 12.345,67" / "$12,345.67"; anything else
# (and every refusal) goes through the general parser, which has the final word.
_COMMON_AMOUNT = re.compile(
    r"(?:R\$ ?|\$)?(?:([1-9][0-9]*|0)|([1-9][0-9]{0,2}([.,])[0-9]{3}(?:\3[0-9]{3})*))"
    r"(?:(?(3)(?!\3))[.,]([0-9]{1,2}))?"
)


def parse_money(text: str, *, field: str = "amount") -> Decimal:
    """Parse an amount typed in Brazilian, US or plain style into a Decimal with 2 places.

    One leading currency marker (R$, US$, $, €, £, ¥ or a 3-letter upper-case ISO code) may
    precede the number. Thousands groups may be separated by ``.``, ``,``, a space, NBSP or
    narrow NBSP. With both ``.`` and ``,`` the last one is the decimal separator. A single mark
    used once is a thousands separator when exactly 3 digits follow and the digits before it
    form a valid first group, so ``1.234`` and ``1,234`` both mean 1234 (but ``0.125`` has 3
    decimal places); before 1 or 2 digits it is the decimal separator. Exact: never a float.
    Refused: empty, negative, more than 2 decimal places, above `MAX_AMOUNT`, exponents.
    """
    fast = _COMMON_AMOUNT.fullmatch(text)
    if fast is not None:  # the usual shapes, answered without the general parser
        integer = fast.group(1) or fast.group(2).replace(fast.group(3) or ".", "")
        fraction = fast.group(4) or ""
        if len(integer) <= 13:
            return Decimal(f"{integer}.{fraction:0<2}")
    try:
        return _parse_amount(text)
    except _Invalid as exc:
        raise _error(field, text, exc.reason) from None


class Amount(Decimal):
    """An amount as typed, remembering the currency its symbol named (`€ 10.000` → EUR), so
    the service storing it can refuse another currency than the database's."""

    currency: str | None = None
    text: str = ""


_SYMBOLS = {"R$": "BRL", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "$": "$"}
_DOLLARS = frozenset(("USD", "CAD", "AUD", "NZD", "MXN", "ARS", "CLP", "COP", "UYU", "BRL"))
"""Currencies whose symbol is (or ends in) `$`: a bare `$` fits any of them."""


def currency_of(text: str) -> str | None:
    """The currency an amount's symbol or code names (``€ 10`` → EUR, ``$ 5`` → ``$``: any
    dollar), or None when it has neither."""
    if text[:2] == "R$":  # the usual case, as the pattern reads it (`R$` is its first choice)
        return "BRL"
    marker = _CURRENCY.match(text.strip().lstrip("-").strip())
    if marker is None:
        return None
    symbol = marker.group().strip(" \u00a0\u202f")
    return _SYMBOLS.get(symbol, symbol)


def typed_amount(text: str, *, field: str = "amount") -> Decimal:
    """`parse_money`, as an `Amount` naming its currency when the text has a symbol or code."""
    value = parse_money(text, field=field)
    named = currency_of(text)
    if named is None:
        return value
    amount = Amount(value)
    amount.currency = named
    amount.text = text
    return amount


def check_currency(amount: Decimal | None, currency: str, *, field: str = "amount") -> None:
    """Refuse an `Amount` typed in another currency than `currency` (the database's)."""
    _check_named(getattr(amount, "currency", None), getattr(amount, "text", ""), currency, field)


def check_typed_currency(text: str, currency: str, *, field: str = "amount") -> None:
    """`check_currency` of `typed_amount(text)`, for a text `parse_money` already accepted (an
    import row): the currency its symbol names is read without parsing the amount again."""
    _check_named(currency_of(text), text, currency, field)


def _check_named(named: str | None, text: str, currency: str, field: str) -> None:
    if named is None or named == currency or (named == "$" and currency in _DOLLARS):
        return
    raise ValidationError(
        _("{field}: {value} is in {named}, but this database keeps amounts in {currency}").format(
            field=field, value=_quote(text), named=named, currency=currency
        )
    )


def _to_cents(value: Decimal) -> Decimal:
    """Round `value` half-up to whole cents, however large it is."""
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    with localcontext() as ctx:
        ctx.prec = max(28, value.adjusted() + 5)
        ctx.rounding = ROUND_HALF_UP
        cents = value.quantize(_CENT)
    return abs(cents) if cents.is_zero() else cents


def format_money(value: Decimal) -> str:
    """Render `value` as plain digits with exactly 2 decimals (``"12500.00"``), rounding half-up."""
    if value.as_tuple().exponent == -2 and value.is_finite() and value.adjusted() < 26:
        return f"{value:f}" if value or not value.is_signed() else "0.00"  # already in cents
    return f"{_to_cents(value):f}"


_TERRITORY_CURRENCY = {
    **dict.fromkeys(("AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR"), "EUR"),
    **dict.fromkeys(("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PT", "SI", "SK"), "EUR"),
    "AO": "AOA", "AR": "ARS", "AU": "AUD", "BO": "BOB", "BR": "BRL", "CA": "CAD", "CH": "CHF",
    "CL": "CLP", "CN": "CNY", "CO": "COP", "CV": "CVE", "DK": "DKK", "GB": "GBP", "IN": "INR",
    "JP": "JPY", "MX": "MXN", "MZ": "MZN", "NO": "NOK", "NZ": "NZD", "PE": "PEN", "PL": "PLN",
    "PY": "PYG", "SE": "SEK", "US": "USD", "UY": "UYU", "ZA": "ZAR",
}  # fmt: skip
_LOCALE_TERRITORY = re.compile(r"[A-Za-z]{2,3}[_-]([A-Za-z]{2})\b")


def locale_currency(environ: Mapping[str, str]) -> str:
    """The currency of the locale the environment names (`LC_ALL`, `LC_MONETARY`, `LANG`,
    then `CRM_LANG`; the first one set decides): its territory's (`pt_BR` → BRL,
    `de_DE.UTF-8` → EUR), else USD. Read from the names alone: no system locale needed."""
    for name in ("LC_ALL", "LC_MONETARY", "LANG", "CRM_LANG"):
        value = environ.get(name)
        if value:
            found = _LOCALE_TERRITORY.match(value)
            return _TERRITORY_CURRENCY.get(found.group(1).upper(), "USD") if found else "USD"
    return "USD"


def money_to_cents(value: Decimal) -> int:
    """Return `value` as a whole number of cents (rounded half-up if it has more places)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -2 <= exponent <= 0 and value.adjusted() < 20:
        # exact already and well within the context's precision: no rounding needed
        return int(value.scaleb(2))
    cents = _to_cents(value)
    sign, digits, _ = cents.as_tuple()
    number = int("".join(map(str, digits)))
    return -number if sign else number


def cents_to_money(cents: int) -> Decimal:
    """Return the exact Decimal with 2 places for a number of cents: 1250 -> Decimal("12.50")."""
    return Decimal(f"{int(cents)}E-2")


# -------------------------------------------------------------------------------- probability

_PROBABILITY = re.compile(r"0*([0-9]{1,3})(?:[ \u00a0\u202f]*%)?")
_PROBABILITY_RANGE = N_("must be a whole number from 0 to 100")


def parse_probability(text: str | int, *, field: str = "probability") -> int:
    """Parse a whole percentage from 0 to 100: ``40``, ``"40"``, ``" 40 "``, ``"40%"``."""
    if isinstance(text, bool):
        raise _error(field, str(text), _(_PROBABILITY_RANGE))
    if isinstance(text, int):
        if 0 <= text <= 100:
            return text
        raise _error(field, str(text), _(_PROBABILITY_RANGE))
    match = _PROBABILITY.fullmatch(text.strip())
    if match is None or int(match.group(1)) > 100:
        raise _error(field, text, _(_PROBABILITY_RANGE))
    return int(match.group(1))


# -------------------------------------------------------------------------------------- dates

_MIN_YEAR = 1900
_MAX_YEAR = 9999
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DMY_DATE = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})")
_DAY_MONTH = re.compile(r"([0-9]{1,2})([/.])([0-9]{1,2})")
_RELATIVE = re.compile(r"([+-])([0-9]{1,7})(d|w|s|sem|m)", re.IGNORECASE)
_UNITS = {"d": "d", "w": "w", "s": "w", "sem": "w", "m": "m"}
"""Relative steps: days, weeks (English w, Portuguese s or sem), months."""
_KEYWORDS = {"today": 0, "hoje": 0, "tomorrow": 1, "amanha": 1, "yesterday": -1, "ontem": -1}
"""Day words of both languages, accents folded (amanhã is amanha)."""
_WEEKDAYS = {
    **dict.fromkeys(("monday", "mon", "segunda", "segunda-feira", "seg"), 0),
    **dict.fromkeys(("tuesday", "tue", "terca", "terca-feira", "ter"), 1),
    **dict.fromkeys(("wednesday", "wed", "quarta", "quarta-feira", "qua"), 2),
    **dict.fromkeys(("thursday", "thu", "quinta", "quinta-feira", "qui"), 3),
    **dict.fromkeys(("friday", "fri", "sexta", "sexta-feira", "sex"), 4),
    **dict.fromkeys(("saturday", "sat", "sabado", "sab"), 5),
    **dict.fromkeys(("sunday", "sun", "domingo", "dom"), 6),
}
"""Weekday names of both languages (full, short, and Portuguese with -feira), accents folded."""
_DATE_FORMS = N_(
    "use YYYY-MM-DD, DD/MM/YYYY, DD/MM, today/hoje, tomorrow/amanhã, yesterday/ontem,"
    " a weekday, or +3d/+2w/+2s/+1m/-3d"
)
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
_DATE_TIME = re.compile(r"(\S+?)(T| +)([0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)")
_MONTHS = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


def _year_range() -> str:
    return _("is not a valid date (year must be from {first} to {last})").format(
        first=_MIN_YEAR, last=_MAX_YEAR
    )


def _check_year(year: int) -> None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise _Invalid(_year_range())


def _make_date(year: int, month: int, day: int) -> date:
    if _MIN_YEAR <= year <= _MAX_YEAR and 1 <= month <= 12 and 1 <= day <= 28:
        return date(year, month, day)  # a day every month has: nothing more to check
    _check_year(year)
    if not 1 <= month <= 12:
        raise _Invalid(_("is not a valid date (month must be from 1 to 12)"))
    last = _days_in_month(year, month)
    if not 1 <= day <= last:
        raise _Invalid(
            _("is not a valid date ({month} {year} has {days} days)").format(
                month=_(_MONTHS[month - 1]), year=year, days=last
            )
        )
    return date(year, month, day)


def _shift(today: date, amount: int, unit: str) -> date:
    """Move `today` by `amount` days, weeks or months (months clamp to the month's last day)."""
    if unit == "m":
        year, month0 = divmod(today.year * 12 + today.month - 1 + amount, 12)
        _check_year(year)
        return date(year, month0 + 1, min(today.day, _days_in_month(year, month0 + 1)))
    days = amount * 7 if unit == "w" else amount
    try:
        result = today + timedelta(days=days)
    except OverflowError:
        raise _Invalid(_year_range()) from None
    _check_year(result.year)
    return result


def _parse_date(text: str, today: date) -> tuple[date, bool]:
    """Parse a date; the flag tells whether `text` was in ISO form."""
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
        return _make_date(year, month, day), True
    if match := _DMY_DATE.fullmatch(text):
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
        return _make_date(year, month, day), False
    if match := _DAY_MONTH.fullmatch(text):
        return _next_day_month(int(match.group(1)), int(match.group(3)), today), False
    word = fold_word(text)
    if word in _KEYWORDS:
        return _shift(today, _KEYWORDS[word], "d"), False
    if word in _WEEKDAYS:
        ahead = (_WEEKDAYS[word] - today.weekday() - 1) % 7 + 1
        return _shift(today, ahead, "d"), False
    if match := _RELATIVE.fullmatch(text):
        sign, number, unit = match.groups()
        amount = -int(number) if sign == "-" else int(number)
        return _shift(today, amount, _UNITS[unit.lower()]), False
    raise _Invalid(
        _("is not a valid date ({forms})").format(forms=_(_DATE_FORMS)), unrecognised=True
    )


def _next_day_month(day: int, month: int, today: date) -> date:
    """DD/MM without a year: its next occurrence, today included (29/02: the next leap year)."""
    if not 1 <= month <= 12:
        raise _Invalid(_("is not a valid date (month must be from 1 to 12)"))
    longest = _days_in_month(2000, month)  # 2000 was a leap year: February's 29 counts
    if not 1 <= day <= longest:
        raise _Invalid(
            _("is not a valid date ({month} has at most {days} days)").format(
                month=_(_MONTHS[month - 1]), days=longest
            )
        )
    for year in range(today.year, today.year + 9):
        try:
            found = _make_date(year, month, day)
        except _Invalid:
            continue
        if found >= today:
            return found
    raise _Invalid(_("is not a valid date (no such day in the next years)"))


def fold_word(text: str) -> str:
    """A typed word as the parsers compare it: trimmed, accents dropped, case-folded
    (``Amanhã`` → ``amanha``, ``Terça-Feira`` → ``terca-feira``)."""
    return normalise_name(text)


def parse_date(text: str, *, field: str = "date", today: date) -> date:
    """Parse a date: ``2026-12-31``, ``31/12/2026`` (also ``-`` or ``.``; day first),
    ``31/12`` (its next occurrence, today included), ``today``/``hoje``,
    ``tomorrow``/``amanhã``, ``yesterday``/``ontem``, a weekday name in English or Portuguese
    (its next occurrence after today), or ``+3d``, ``+2w`` (also ``+2s``, ``+2sem``),
    ``+1m``, ``-3d`` from `today`. Words ignore case and accents.

    `today` is the command's date (`clock.today()`, pinned by CRM_NOW), given by the caller:
    the domain reads no clock, so a relative date can never disagree with the timestamps the
    command writes.

    Day and month may have 1 or 2 digits; years have 4 digits, from 1900 to 9999. A month
    step keeps the day of the month, clamped to the target month's last day.
    """
    try:
        return _parse_date(text.strip(), today)[0]
    except _Invalid as exc:
        raise _error(field, text, exc.reason) from None


def _parse_time(text: str) -> time:
    match = _TIME.fullmatch(text)
    if match is None:
        raise _Invalid(_("is not a valid time (use HH:MM or HH:MM:SS)"))
    hour, minute = int(match.group(1)), int(match.group(2))
    second = int(match.group(3) or 0)
    if hour > 23:
        raise _Invalid(_("is not a valid time (hour must be from 0 to 23)"))
    if minute > 59 or second > 59:
        raise _Invalid(_("is not a valid time (minutes and seconds must be from 0 to 59)"))
    return time(hour, minute, second)


def _parse_when(text: str, now: datetime) -> tuple[datetime, bool]:
    if _TIME.fullmatch(text):
        return datetime.combine(now.date(), _parse_time(text)), True
    if match := _DATE_TIME.fullmatch(text):
        date_text, separator, time_text = match.groups()
        day, is_iso = _parse_date(date_text, now.date())
        if separator == "T" and not is_iso:
            raise _Invalid(_("is not a valid date and time (T may only follow YYYY-MM-DD)"))
        return datetime.combine(day, _parse_time(time_text)), True
    try:
        day = _parse_date(text, now.date())[0]
    except _Invalid as exc:
        if not exc.unrecognised:
            raise
        raise _Invalid(
            _(
                "is not a valid date or time (use a date such as YYYY-MM-DD, DD/MM/YYYY, today"
                " or +3d, optionally followed by HH:MM, or HH:MM alone)"
            )
        ) from None
    return datetime.combine(day, time()), False


def parse_when(text: str, *, field: str = "due", now: datetime) -> tuple[datetime, bool]:
    """Parse a date with an optional time into (naive local datetime, has_time).

    Accepts whatever `parse_date` accepts (giving 00:00 and has_time False), such a date
    followed by a space and ``HH:MM[:SS]`` (ISO dates may use ``T`` instead of the space), or
    ``HH:MM[:SS]`` alone, meaning today at that time. `now` is the command's local time
    (`clock.local_now()`), given by the caller.
    """
    try:
        return _parse_when(text.strip(), now)
    except _Invalid as exc:
        raise _error(field, text, exc.reason) from None


def parse_datetime(text: str, *, field: str = "due", now: datetime) -> datetime:
    """Parse like `parse_when` and return only the naive datetime (00:00 for a bare date)."""
    return parse_when(text, field=field, now=now)[0]


_ANSWERS = {
    **dict.fromkeys(("y", "yes", "s", "sim"), True),
    **dict.fromkeys(("", "n", "no", "nao"), False),
}


def parse_answer(text: str) -> bool | None:
    """A yes/no answer typed at a prompt, in English or Portuguese (empty is no); None for
    anything else."""
    return _ANSWERS.get(fold_word(text))


# ------------------------------------------------------------------------------ activity types

_ACTIVITY_WORDS = {
    **dict.fromkeys(("call", "ligacao", "chamada", "telefonema"), "call"),
    **dict.fromkeys(("meeting", "reuniao", "visita"), "meeting"),
    **dict.fromkeys(("email", "e-mail"), "email"),
    **dict.fromkeys(("task", "tarefa"), "task"),
    **dict.fromkeys(("note", "nota"), "note"),
}
"""Activity type words of both languages, accents folded, by the type they mean."""


def parse_activity_type(text: str) -> ActivityType:
    """An activity type as typed in English or Portuguese (``ligação``, ``Reunião``,
    ``e-mail``, ``tarefa``, ``nota``), ignoring case and accents."""
    found = _ACTIVITY_WORDS.get(fold_word(text))
    if found is None:
        names = ", ".join(t.value for t in ActivityType)
        raise ValidationError(
            _(
                'type: "{value}" is not one of {names} (or ligação, reunião, e-mail, tarefa, nota)'
            ).format(value=text, names=names)
        )
    return ActivityType(found)
