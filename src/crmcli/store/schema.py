"""The columns of every table by storage kind, their conversions, and each table's derived keys.

The one description of the schema the repositories, the bulk paths and the JSON restore read
(SQLModel's `tables.py` declares the same schema for the drift test; a test keeps the two in
step). Kinds: `id`, `int`, `bigint`, `text`, `bool`, `money` (a `Decimal` stored as integer
cents), `date`, `ts` (a naive UTC timestamp), `json`.

Derived keys (the matching keys of names, e-mails and phones, `*_key`) are computed by one
function (`derived_keys`), used by insert, update, bulk insert and restore alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any, TypeVar

from crmcli.domain.duplicates import company_key, lead_match_key, person_key
from crmcli.domain.phones import phone_key
from crmcli.domain.tags import SEARCH_SEPARATOR, SEARCHED, field_text, search_key, tag_keys
from crmcli.domain.values import cents_to_money, money_to_cents, normalise_name
from crmcli.store.sql import TS_FORMAT, Dialect

E = TypeVar("E", bound=Enum)

COLUMNS: dict[str, dict[str, str]] = {
    "crm_meta": {"key": "text", "value": "text"},
    "crm_migrations": {"name": "text", "applied_at": "ts"},
    "account": {
        "id": "id",
        "name": "text",
        "name_key": "text",
        "industry": "text",
        "website": "text",
        "phone": "text",
        "notes": "text",
        "created_at": "ts",
        "phone_key": "text",
        "match_key": "text",
        "tags": "json",
        "tags_key": "text",
        "search_key": "text",
    },
    "contact": {
        "id": "id",
        "name": "text",
        "name_key": "text",
        "email": "text",
        "email_key": "text",
        "phone": "text",
        "title": "text",
        "account_id": "int",
        "type": "text",
        "notes": "text",
        "created_at": "ts",
        "phone_key": "text",
        "match_key": "text",
        "tags": "json",
        "tags_key": "text",
        "search_key": "text",
    },
    "stage": {
        "id": "id",
        "name": "text",
        "name_key": "text",
        "position": "int",
        "probability": "int",
        "expected_days": "int",
    },
    "lead": {
        "id": "id",
        "name": "text",
        "email": "text",
        "email_key": "text",
        "phone": "text",
        "company": "text",
        "title": "text",
        "source": "text",
        "source_key": "text",
        "status": "text",
        "budget": "money",
        "timeline": "date",
        "owner": "text",
        "owner_key": "text",
        "notes": "text",
        "extras": "json",
        "disqualify_reason": "text",
        "search_key": "text",
        "contact_id": "int",
        "account_id": "int",
        "opportunity_id": "int",
        "created_at": "ts",
        "updated_at": "ts",
        "phone_key": "text",
        "match_key": "text",
        "tags": "json",
        "tags_key": "text",
    },
    "opportunity": {
        "id": "id",
        "name": "text",
        "name_key": "text",
        "account_id": "int",
        "contact_id": "int",
        "stage_id": "int",
        "amount": "money",
        "probability": "int",
        "probability_manual": "bool",
        "status": "text",
        "expected_close": "date",
        "owner": "text",
        "owner_key": "text",
        "lost_reason": "text",
        "competitor": "text",
        "lead_id": "int",
        "created_at": "ts",
        "updated_at": "ts",
        "closed_at": "ts",
        "tags": "json",
        "tags_key": "text",
        "search_key": "text",
    },
    "opportunity_history": {
        "id": "id",
        "opportunity_id": "int",
        "stage_id": "int",
        "stage_name": "text",
        "status": "text",
        "probability": "int",
        "at": "ts",
    },
    "activity": {
        "id": "id",
        "type": "text",
        "subject": "text",
        "lead_id": "int",
        "contact_id": "int",
        "account_id": "int",
        "opportunity_id": "int",
        "due": "ts",
        "due_has_time": "bool",
        "done": "bool",
        "done_at": "ts",
        "owner": "text",
        "owner_key": "text",
        "notes": "text",
        "created_at": "ts",
        "updated_at": "ts",
        "search_key": "text",
        "person_id": "int",
    },
    "change_set": {
        "id": "id",
        "at": "ts",
        "actor": "text",
        "command": "text",
        "undone_by": "int",
    },
    "change": {
        "id": "id",
        "change_set_id": "int",
        "entity": "text",
        "op": "text",
        "record_id": "bigint",
        "last_id": "bigint",
        "before_values": "text",
        "after_values": "text",
    },
}
"""Every column of every table, by storage kind, in the order of the table."""


# -- storage forms ------------------------------------------------------------------------------


def _cents(value: Any) -> Any:
    return None if value is None else money_to_cents(value)


def _json_text(value: Any) -> Any:
    return None if value is None else json.dumps(value)


@lru_cache(maxsize=64)  # a batch shares one timestamp
def _ts_text(value: Any) -> Any:
    return None if value is None else value.strftime(TS_FORMAT)


def _date_text(value: Any) -> Any:
    return None if value is None else value.isoformat()


_TO_TEXT_DATES: dict[str, Callable[[Any], Any]] = {
    "money": _cents,
    "json": _json_text,
    "ts": _ts_text,
    "date": _date_text,
}
_TO_NATIVE_DATES: dict[str, Callable[[Any], Any]] = {"money": _cents, "json": _json_text}


def storers(dialect: Dialect, table: str, columns: Any) -> list[tuple[str, Callable[[Any], Any]]]:
    """The (column, conversion) pairs that turn domain values of these columns into storage
    forms on this backend; columns stored as they are are left out."""
    found = _TO_TEXT_DATES if dialect.dates_as_text else _TO_NATIVE_DATES
    kinds = COLUMNS[table]
    return [(c, found[kinds[c]]) for c in columns if kinds[c] in found]


def to_row(dialect: Dialect, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Domain values of some columns of `table` in their storage forms."""
    return to_rows(dialect, table, [values])[0]


def to_rows(
    dialect: Dialect, table: str, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Many rows of `table` (the same columns each) in storage form; the conversions are
    looked up once, for the bulk paths."""
    if not rows:
        return []
    convert = storers(dialect, table, rows[0])
    stored = []
    for values in rows:
        row = dict(values)
        for column, store in convert:
            row[column] = store(row[column])
        stored.append(row)
    return stored


def _money(value: Any) -> Decimal | None:
    return None if value is None else cents_to_money(int(value))


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _datetime(value: Any) -> datetime | None:
    if type(value) is str:  # SQLite's text, the common case of long lists
        return datetime.fromisoformat(value)
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value)
    return value


def _bool(value: Any) -> Any:
    return None if value is None else bool(value)


_LOADERS: dict[str, Callable[[Any], Any]] = {
    "money": _money,
    "date": _date,
    "ts": _datetime,
    "json": _json,
    "bool": _bool,
}


@lru_cache(maxsize=64)
def _loaders_of(
    table: str, columns: tuple[str, ...]
) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    kinds = COLUMNS[table]
    return tuple((c, _LOADERS[kinds[c]]) for c in columns if kinds.get(c) in _LOADERS)


def from_row(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row of `table` read by either driver, its values in domain form (in place)."""
    for column, load in _loaders_of(table, tuple(row)):
        row[column] = load(row[column])
    return row


@lru_cache(maxsize=64)
def row_loader(table: str, columns: tuple[str, ...]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """`from_row` for result tuples whose columns are `columns`, built once per result shape
    (lists map thousands of rows: the loaders go by position and skip NULLs)."""
    loads = tuple((columns.index(c), load) for c, load in _loaders_of(table, columns))

    def load_row(row: Sequence[Any]) -> dict[str, Any]:
        values = list(row)
        for index, load in loads:
            value = values[index]
            if value is not None:
                values[index] = load(value)
        return dict(zip(columns, values, strict=True))

    return load_row


def by_value(enum: type[E]) -> Callable[[Any], E]:
    """The member of `enum` with a stored value: a dict look-up, for `record_loader` (calling
    the enum costs several times more per row)."""
    return {member.value: member for member in enum}.__getitem__


@lru_cache(maxsize=64)
def record_loader(
    table: str,
    columns: tuple[str, ...],
    cls: type[Any],
    sources: tuple[tuple[str, str], ...] = (),
    converters: tuple[tuple[str, Callable[[Any], Any]], ...] = (),
) -> Callable[[Sequence[Any]], Any]:
    """Result tuples of `table` (columns `columns`) straight to records of `cls`, for lists of
    thousands: one function, compiled once per result shape, that loads each value the record
    needs by position (NULLs skipped) and fills the record without calling its `__init__`.

    A field is read from the column of its name, or the one `sources` names for it; its
    storage loader comes from COLUMNS, then its converter (an enum, `bool`…) if given.
    """
    source = dict(sources)
    convert = dict(converters)
    kinds = COLUMNS[table]
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    items = []
    for name in cls.__dataclass_fields__:
        column = source.get(name, name)
        expr = f"row[{columns.index(column)}]"
        load = _LOADERS.get(kinds.get(column, ""))
        if load is not None:
            scope[f"load_{name}"] = load
            expr = f"(None if (v := {expr}) is None else load_{name}(v))"
        if name in convert:
            scope[f"convert_{name}"] = convert[name]
            expr = f"convert_{name}({expr})"
        items.append(f"{name!r}: {expr}")
    code = (
        "def load(row):\n"
        "    record = new(cls)\n"
        f"    record.__dict__.update({{{', '.join(items)}}})\n"
        "    return record\n"
    )
    exec(code, scope)  # built from COLUMNS and the record's own field names only
    loader: Callable[[Sequence[Any]], Any] = scope["load"]
    return loader


def tags_of(value: Any) -> tuple[str, ...]:
    """A record's tags from their stored value (NULL: none)."""
    if isinstance(value, str):
        value = json.loads(value)
    return tuple(value or ())


def load_value(kind: str, value: Any) -> Any:
    """One stored value of this kind in domain form."""
    load = _LOADERS.get(kind)
    return value if load is None or value is None else load(value)


# -- derived keys -------------------------------------------------------------------------------


def _key(value: str | None) -> str | None:
    return normalise_name(value) if value else None


def email_key(value: str | None) -> str | None:
    """The unique matching key of an e-mail: lower case, None when there is none."""
    return (value or "").lower() or None


_TAGGED = ("lead", "contact", "account", "opportunity")


def derived_keys(
    table: str, values: Mapping[str, Any], current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The `*_key` columns of `table` that `values` (some columns) decide.

    For an update, `current` holds the record's present values, so a key made of several
    columns (a lead's search key) is recomputed when any of them changes.
    """
    keys: dict[str, Any] = {}
    if table in ("account", "stage", "contact", "opportunity") and "name" in values:
        keys["name_key"] = normalise_name(values["name"])
    if table in ("lead", "contact") and "email" in values:
        keys["email_key"] = email_key(values["email"])
    if table in ("lead", "opportunity", "activity") and "owner" in values:
        keys["owner_key"] = _key(values["owner"])
    if table in ("lead", "contact", "account") and "phone" in values:
        keys["phone_key"] = phone_key(values["phone"])
    if table == "account" and "name" in values:
        keys["match_key"] = company_key(values["name"])
    if table == "contact" and "name" in values:
        keys["match_key"] = person_key(values["name"])
    if table in _TAGGED and "tags" in values:
        keys["tags_key"] = tag_keys(values["tags"])
    searched = SEARCHED.get(table, ())
    if searched and not values.keys().isdisjoint(searched):
        base = current or {}
        fields = {k: values[k] if k in values else base.get(k) for k in searched}
        if "phone" in values and "phone_key" in keys:  # the phone's key, worked out above
            keys["search_key"] = search_key(table, fields, keys["phone_key"])
        else:
            keys["search_key"] = search_key(table, fields)
    if table == "lead":
        if "source" in values:
            keys["source_key"] = _key(values["source"])
        if {"name", "company"} & values.keys():
            base = current or {}
            name, company = (values[k] if k in values else base.get(k) for k in ("name", "company"))
            keys["match_key"] = lead_match_key(name, company)
    return keys


def new_lead_keys(row: Mapping[str, Any], folded: dict[str, str]) -> dict[str, Any]:
    """`derived_keys("lead", row)` for a new lead's full row (every column given), for the
    bulk insert: the same keys, each text folded once (the name feeds both the search and the
    match key) and the folded values that repeat from row to row (sources, owners,
    companies) kept in `folded`, which the caller shares between the rows of one batch.

    The search key's parts follow SEARCHED["lead"] (name, e-mail, company, phone, tags,
    notes); `derived_keys` stays the definition, and a test checks that both agree.
    """
    name, email, company, phone = row["name"], row["email"], row["company"], row["phone"]
    tags, notes, owner, source = row["tags"], row["notes"], row["owner"], row["source"]
    phone_digits = phone_key(phone)
    parts = [
        normalise_name(field_text(name)),
        "" if email is None else normalise_name(str(email)),
        "",
        "" if phone is None else normalise_name(str(phone)),
        "" if not tags else normalise_name(field_text(tags)),
        "" if notes is None else normalise_name(str(notes)),
        phone_digits or "",
    ]
    if company is not None:
        text = str(company)
        key = folded.get(text)
        if key is None:
            key = folded[text] = normalise_name(text)
        parts[2] = key
    owner_key = source_key = None
    if owner:
        owner_key = folded.get(owner)
        if owner_key is None:
            owner_key = folded[owner] = normalise_name(owner)
    if source:
        source_key = folded.get(source)
        if source_key is None:
            source_key = folded[source] = normalise_name(source)
    return {
        "email_key": email_key(email),
        "owner_key": owner_key,
        "phone_key": phone_digits,
        "tags_key": tag_keys(tags),
        "search_key": SEARCH_SEPARATOR.join(parts),
        "source_key": source_key,
        "match_key": lead_match_key(name, company),
    }
