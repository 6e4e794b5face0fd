"""Tags (short labels on leads, contacts, accounts and deals) and the folded text `crm search`
matches.

A tag is matched by its folded key (`values.normalise_name`): `Feira SP` and `feira sp` are one
tag, kept as first written. A record's tag keys are stored as `,key1,key2,` so a filter is one
exact `instr`, with no LIKE wildcards to escape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from crmcli.domain.phones import phone_key
from crmcli.domain.values import clean_name, normalise_name
from crmcli.errors import ValidationError
from crmcli.i18n import _

MAX_TAG_LENGTH = 40
"""The longest tag, in characters."""

_SEPARATOR = re.compile(r"[,;]")


def parse_tags(texts: Iterable[str], *, field: str = "tags") -> tuple[str, ...]:
    """The tags in `texts` (each may hold several, separated by `,` or `;`), cleaned, the first
    spelling of each key kept; a tag longer than MAX_TAG_LENGTH is refused."""
    tags: dict[str, str] = {}
    for text in texts:
        for part in _SEPARATOR.split(text):
            if not part.strip():
                continue
            tag = clean_name(part, field=field)
            if len(tag) > MAX_TAG_LENGTH:
                raise ValidationError(
                    _('{field}: "{value}" is longer than {limit} characters').format(
                        field=field, value=tag, limit=MAX_TAG_LENGTH
                    )
                )
            tags.setdefault(normalise_name(tag), tag)
    return tuple(tags.values())


def tag_key(tag: str) -> str:
    """The key a tag filter looks for: `,key,` inside a record's tag keys."""
    return f",{normalise_name(tag)},"


def tag_keys(tags: Sequence[str] | None) -> str | None:
    """The stored keys of a record's tags (`,a,b,`), None without tags."""
    if not tags:
        return None
    return "," + ",".join(normalise_name(t) for t in tags) + ","


def retagged(
    current: Sequence[str], added: Iterable[str], removed: Iterable[str]
) -> tuple[str, ...]:
    """`current` with the `added` tags put at the end and the `removed` ones taken out (both
    matched by key); the first spelling of a tag already there is kept."""
    gone = {normalise_name(t) for t in parse_tags(removed, field="untag")}
    kept = {normalise_name(t): t for t in current}
    for tag in parse_tags(added):
        kept.setdefault(normalise_name(tag), tag)
    return tuple(t for k, t in kept.items() if k not in gone)


SEARCHED: dict[str, tuple[str, ...]] = {
    "lead": ("name", "email", "company", "phone", "tags", "notes"),
    "contact": ("name", "email", "phone", "title", "tags", "notes"),
    "account": ("name", "website", "phone", "industry", "tags", "notes"),
    "opportunity": ("name", "competitor", "tags", "lost_reason"),
    "activity": ("subject", "notes"),
}
"""What `crm search` looks in, per table, best field first (the ranking follows this order).
A lead's key begins with its name, e-mail and company keys, as before 0008 (`lead list --sort`
reads them by position)."""

SEARCH_SEPARATOR = "\x1f"
"""Between the fields of a search key: no query word contains it, so none spans two fields."""


def field_text(value: Any) -> str:
    """One searched field as text (tags joined by commas)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


_UNKNOWN: Any = object()


def search_key(table: str, values: Mapping[str, Any], phone: str | None = _UNKNOWN) -> str:
    """The folded text `crm search` matches for one row: each field of SEARCHED[table] folded,
    in order, then the digits of its phone (so `98765-4321` and `987654321` both find it).

    `phone` is the row's `phone_key` when the caller has already worked it out."""
    parts = [normalise_name(field_text(values.get(f))) for f in SEARCHED[table]]
    if "phone" in SEARCHED[table]:
        if phone is _UNKNOWN:
            phone = phone_key(values.get("phone"))
        parts.append(phone or "")
    return SEARCH_SEPARATOR.join(parts)


def search_words(text: str) -> list[str]:
    """The folded words of a search; a phone-like word (digits and `+-(). `) by its digits."""
    words = []
    for word in normalise_name(text).split():
        digits = "".join(ch for ch in word if ch.isdigit())
        if len(digits) >= 4 and all(ch.isdigit() or ch in "+-()." for ch in word):
            word = digits
        words.append(word)
    return words
