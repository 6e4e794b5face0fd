"""Records as plain JSON data, in the one shape every `--json`, export and hook payload uses:
money as exact decimal strings, dates ISO 8601, timestamps ISO 8601 UTC with `Z`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from crmcli.domain.values import format_money
from crmcli.i18n import Message, english_of

# Properties worth adding to a record's JSON beside its fields.
_EXTRA_PROPERTIES = ("probability_source",)


_PLAIN = frozenset({str, int, bool, float, type(None)})
_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names plus the extra properties it has (cached per class)."""
    names = _NAMES.get(cls)
    if names is None:
        fields = tuple(f.name for f in dataclasses.fields(cls))
        names = _NAMES[cls] = fields + tuple(p for p in _EXTRA_PROPERTIES if hasattr(cls, p))
    return names


def jsonable(value: Any) -> Any:
    """Plain JSON data for a record: money as exact strings, dates as ISO 8601."""
    cls = type(value)
    if cls in _PLAIN:  # the common case first: reports turn hundreds of thousands of cells
        return value
    convert = _CONVERTERS.get(cls)
    if convert is not None:
        return convert(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _CONVERTERS[cls] = _dataclass_converter(cls)
    elif isinstance(value, Enum):
        _CONVERTERS[cls] = _enum_value
    elif isinstance(value, Mapping):
        _CONVERTERS[cls] = _mapping
    elif isinstance(value, datetime):
        _CONVERTERS[cls] = _utc_text
    elif isinstance(value, date):
        _CONVERTERS[cls] = date.isoformat
    elif isinstance(value, Message):
        _CONVERTERS[cls] = english_of  # machine output never changes with the language
    else:
        return value
    return _CONVERTERS[cls](value)


def _dataclass_converter(cls: type) -> Callable[[Any], Any]:
    names = _names(cls)

    def convert(value: Any) -> dict[str, Any]:
        return {name: jsonable(getattr(value, name)) for name in names}

    return convert


def _enum_value(value: Any) -> Any:
    return value.value


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): jsonable(v) for k, v in value.items()}


def _sequence(value: Any) -> list[Any]:
    return [jsonable(v) for v in value]


def _utc_text(value: datetime) -> str:
    return value.isoformat(timespec="seconds") + "Z"


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    Decimal: format_money,
    datetime: _utc_text,
    date: date.isoformat,
    list: _sequence,
    tuple: _sequence,
    dict: _mapping,
}
"""How each type becomes JSON data; filled in per class on first sight (dataclasses, enums)."""
