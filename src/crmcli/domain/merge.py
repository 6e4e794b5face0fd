"""Merging records: how the values of KEEP and the OTHERs combine into one record.

Pure Python. The rule (docs/design.md, "Merging records"):

- each field takes KEEP's value when it has one (not None, not blank), else the first OTHER's,
  in the order given;
- notes: KEEP's, then each OTHER's that the text so far does not already contain, one
  paragraph each (joined by a blank line);
- a lead's extras: all keys of all records, KEEP's value winning on the same key; an OTHER's
  different value for a key already taken is kept under ``"<key> (lead N)"``;
- nothing is dropped: every value of an OTHER that differs from the merged result (an e-mail
  that cannot stay, e-mails being unique; a second phone; another name spelling…) is
  appended to the merged notes, one line per OTHER:
  ``Merged from lead 7: email b@x.com; phone +55 11 5555-0000``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple

from crmcli.domain.records import record

__all__ = ["Combined", "Pick", "Side", "combine", "is_empty", "merged_notes_line"]

NOTES = "notes"
EXTRAS = "extras"


class Pick(NamedTuple):
    """One field of the merged record: its value and the record it came from (None: KEEP)."""

    field: str
    value: Any
    source: int | None


@record
class Side:
    """One record taking part in a merge: its id and its values by field."""

    id: int
    values: Mapping[str, Any]


@record
class Combined:
    """The merged values of KEEP.

    Attributes:
        picks: every merged field in order (the fields, then notes and extras when merged),
            each with the record its value came from; notes and extras name the first record
            that contributed (None when KEEP did), though they hold what every record gave.
        values: the same as a dict, field → merged value.
        changes: the fields whose merged value differs from KEEP's (what to write to KEEP).
    """

    picks: tuple[Pick, ...]
    values: dict[str, Any]
    changes: dict[str, Any]


def is_empty(value: Any) -> bool:
    """True for a value a field does not really have: None, blank text, an empty dict."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, dict):
        return not value
    return False


def _text(value: Any) -> str:
    """A value as a line of the notes shows it."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value).strip()


def _same(field: str, a: Any, b: Any) -> bool:
    if is_empty(a) or is_empty(b):
        return is_empty(a) and is_empty(b)
    if field == "email":
        return str(a).strip().lower() == str(b).strip().lower()
    return _text(a) == _text(b)


def merged_notes_line(entity: str, other_id: int, differing: Sequence[tuple[str, Any]]) -> str:
    """``Merged from lead 7: email b@x.com; phone +55 11 5555-0000``."""
    parts = "; ".join(f"{field} {' '.join(_text(value).split())}" for field, value in differing)
    return f"Merged from {entity} {other_id}: {parts}"


def _notes(
    keep: Side, others: Sequence[Side], lines: Sequence[str]
) -> tuple[str | None, int | None]:
    paragraphs: list[str] = []
    source: int | None = None
    kept = keep.values.get(NOTES)
    if not is_empty(kept):
        paragraphs.append(str(kept))
    for other in others:
        text = other.values.get(NOTES)
        if is_empty(text):
            continue
        if str(text).strip() in "\n\n".join(paragraphs):
            continue
        if not paragraphs:
            source = other.id
        paragraphs.append(str(text).strip())
    if lines:
        paragraphs.append("\n".join(lines))
    return ("\n\n".join(paragraphs) if paragraphs else kept), source


def _extras(entity: str, keep: Side, others: Sequence[Side]) -> tuple[dict[str, Any], int | None]:
    merged: dict[str, Any] = dict(keep.values.get(EXTRAS) or {})
    source: int | None = None
    for other in others:
        for key, value in (other.values.get(EXTRAS) or {}).items():
            if key not in merged:
                name = key
            elif merged[key] == value:
                continue
            else:
                name = f"{key} ({entity} {other.id})"
                if name in merged:
                    continue
            if not merged:
                source = other.id
            merged[name] = value
    return merged, source


def combine(
    entity: str,
    keep: Side,
    others: Sequence[Side],
    fields: Sequence[str],
    *,
    recorded: Sequence[str] = (),
) -> Combined:
    """KEEP's values merged with the OTHERs' (module docs).

    `fields` are filled by the rule (KEEP's value, else the first OTHER's); notes and extras
    are merged when KEEP's values hold those keys. `recorded` are further fields that are
    never filled (KEEP's stay) but whose differing OTHER values are kept in the notes line
    too (a lead's disqualify reason).
    """
    values: dict[str, Any] = {}
    picks: list[Pick] = []
    for field in fields:
        value, source = keep.values.get(field), None
        if is_empty(value):
            for other in others:
                if not is_empty(other.values.get(field)):
                    value, source = other.values[field], other.id
                    break
        values[field] = value
        picks.append(Pick(field, value, source))
    lines = []
    for other in others:
        differing = [
            (field, other.values[field])
            for field in (*fields, *recorded)
            if not is_empty(other.values.get(field))
            and not _same(field, other.values[field], values.get(field, keep.values.get(field)))
        ]
        if differing:
            lines.append(merged_notes_line(entity, other.id, differing))
    if NOTES in keep.values:
        notes, source = _notes(keep, others, lines)
        values[NOTES] = notes
        picks.append(Pick(NOTES, notes, source))
    if EXTRAS in keep.values:
        extras, source = _extras(entity, keep, others)
        values[EXTRAS] = extras
        picks.append(Pick(EXTRAS, extras, source))
    changes = {f: v for f, v in values.items() if v != keep.values.get(f)}
    if EXTRAS in changes and not changes[EXTRAS] and not keep.values.get(EXTRAS):
        del changes[EXTRAS]  # {} and None are both "no extras"
    return Combined(picks=tuple(picks), values=values, changes=changes)
