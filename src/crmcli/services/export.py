"""Export and import: a full backup as one JSON document a script can restore.

`exported` gives domain-level values (Decimal, date, datetime), ready for the CLI's JSON
or CSV rendering. `import_data` takes the document as `json.loads` gives it back (money as exact
strings, dates ISO 8601, timestamps ISO 8601 with a `Z`, an activity's `due` ISO 8601 local time
without one; the domain-level values themselves are accepted too), checks its whole shape before
touching the database, then restores it in one write transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import islice
from typing import TYPE_CHECKING, Any

from crmcli.domain.models import ActivityType, ContactType, LeadStatus, OppStatus
from crmcli.domain.values import MAX_AMOUNT, MAX_ID, clean_name, clean_text, normalise_email
from crmcli.errors import ValidationError
from crmcli.i18n import _
from crmcli.store.db import Database
from crmcli.store.repos import dump

if TYPE_CHECKING:
    from crmcli.store.uow import UnitOfWork

FORMAT_VERSION = 1
ENTITIES = ("stages", "accounts", "contacts", "leads", "opportunities", "activities")
"""What an export holds, in document order (opportunities carry their `history`)."""

_OPTIONAL = ("activities",)
"""Entities added to format 1 later: a document without them (an older export) has none."""

SUMMARY = ("stages", "accounts", "contacts", "leads", "opportunities", "history", "activities")
"""The entities `import_data` counts, in the order it reports them."""

_ENUMS: dict[tuple[str, str], type[StrEnum]] = {
    ("leads", "status"): LeadStatus,
    ("contacts", "type"): ContactType,
    ("opportunities", "status"): OppStatus,
    ("history", "status"): OppStatus,
    ("activities", "type"): ActivityType,
}
# Foreign keys a document must satisfy by itself: (entity, field) -> referenced entity.
_REFERENCES: dict[tuple[str, str], str] = {
    ("contacts", "account_id"): "accounts",
    ("opportunities", "account_id"): "accounts",
    ("opportunities", "contact_id"): "contacts",
    ("opportunities", "stage_id"): "stages",
    ("leads", "contact_id"): "contacts",
    ("leads", "account_id"): "accounts",
    ("leads", "opportunity_id"): "opportunities",
    ("history", "stage_id"): "stages",
    ("activities", "lead_id"): "leads",
    ("activities", "contact_id"): "contacts",
    ("activities", "account_id"): "accounts",
    ("activities", "opportunity_id"): "opportunities",
    ("activities", "person_id"): "contacts",
}
ADDED_LATER = frozenset({"tags", "person_id"})
"""Fields a document written by an older crm lacks (0008): a restore reads them as empty."""
# The links of an activity, exactly one of which is set.
_ACTIVITY_LINKS = ("lead_id", "contact_id", "account_id", "opportunity_id")
# Keys of an exported opportunity beside its columns: the stage's name (for people; ignored on
# import) and its history (without opportunity_id, which is the opportunity's own id).
_OPP_EXTRA = ("stage", "history")
_HISTORY_OMITTED = ("opportunity_id",)
_MONEY = re.compile(r"[0-9]{1,13}(?:\.[0-9]{1,2})?")
_LOCAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?")
_CURRENCY = re.compile(r"[A-Z]{3}")


# -- export --------------------------------------------------------------------------------


def _checked_entities(entities: Sequence[str] | None) -> tuple[str, ...]:
    if not entities:
        return ENTITIES
    unknown = [e for e in entities if e not in ENTITIES]
    if unknown:
        raise ValidationError(
            _("unknown entity {entity} (one of {entities})").format(
                entity=repr(unknown[0]), entities=", ".join(ENTITIES)
            )
        )
    return tuple(e for e in ENTITIES if e in entities)


def columns(entity: str) -> list[str]:
    """The keys of one exported record (for CSV: opportunities without their history)."""
    names = [f.name for f in dump.fields(entity)]
    if entity == "opportunities":
        names.insert(names.index("stage_id") + 1, "stage")
    return names


def text_columns(entity: str) -> set[str]:
    """The columns of free text (neutralised in CSV); numbers, amounts and dates are not."""
    names = {f.name for f in dump.fields(entity) if f.is_text}
    if entity == "opportunities":
        names.add("stage")
    return names


def iter_records(db: Database, entity: str) -> Iterator[dict[str, Any]]:
    """One entity's records in id order, streamed from one read transaction (for CSV)."""
    (entity,) = _checked_entities([entity])
    with db.read() as uow:
        stage_names = (
            {int(s["id"]): str(s["name"]) for s in uow.dump.dump_rows("stages")}
            if entity == "opportunities"
            else {}
        )
        for row in uow.dump.dump_rows(entity):
            if entity == "opportunities":
                row = _with_stage(row, stage_names)
            yield row


def _with_stage(row: dict[str, Any], stage_names: Mapping[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        out[key] = value
        if key == "stage_id":
            out["stage"] = stage_names.get(value) if value is not None else None
    return out


@contextmanager
def exported(db: Database, entities: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
    """The export document of the given entities (all by default), from one read transaction
    held open while the caller writes it: `format_version`, `currency`, then one iterator per
    entity, its records in id order, read as they are written (memory stays flat whatever the
    size). Each opportunity has its `history` (oldest first). An activity's `due` is a
    `dump.LocalTime`."""
    wanted = _checked_entities(entities)
    with db.read() as uow:
        dump_rows = uow.dump.dump_rows
        document: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "currency": uow.dump.currency(),
        }
        for entity in wanted:
            document[entity] = (
                _with_history(uow, {int(s["id"]): str(s["name"]) for s in dump_rows("stages")})
                if entity == "opportunities"
                else dump_rows(entity)
            )
        yield document


def _with_history(uow: UnitOfWork, stage_names: Mapping[int, str]) -> Iterator[dict[str, Any]]:
    """Every opportunity with its stage name and its history, a page of deals at a time."""
    deals = uow.dump.dump_rows("opportunities")
    while page := list(islice(deals, dump.CHUNK)):
        history = uow.dump.history_of(int(page[0]["id"]), int(page[-1]["id"]))
        for row in page:
            yield {**_with_stage(row, stage_names), "history": history.get(int(row["id"]), [])}


def export_data(db: Database, entities: Sequence[str] | None = None) -> dict[str, Any]:
    """The export document (see `exported`) with every list read into memory."""
    with exported(db, entities) as document:
        return {
            k: v if k in ("format_version", "currency") else list(v) for k, v in document.items()
        }


# -- import --------------------------------------------------------------------------------


class _Bad(Exception):
    pass


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:59] + "…"


def _money(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        given = value
    elif isinstance(value, str) and _MONEY.fullmatch(value):
        given = Decimal(value)
    else:
        raise _Bad(
            _('{value} is not an exact amount string like "12500.00"').format(value=_shown(value))
        )
    if not given.is_finite() or given < 0 or given > MAX_AMOUNT:
        raise _Bad(
            _("{value} is not an amount from 0 to {largest}").format(
                value=_shown(value), largest=MAX_AMOUNT
            )
        )
    amount = given.quantize(Decimal("0.01"))
    if amount != given:
        raise _Bad(_("{value} has more than two decimal places").format(value=_shown(value)))
    return amount


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _Bad(_("{value} is not a date (YYYY-MM-DD)").format(value=_shown(value)))


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and "T" in value:
        text = value[:-1] if value.endswith(("Z", "z")) else value
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _not_a_time(value) from None
    else:
        raise _not_a_time(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _not_a_time(value: Any) -> _Bad:
    return _Bad(_("{value} is not a time (YYYY-MM-DDTHH:MM:SSZ)").format(value=_shown(value)))


def _local_time(value: Any) -> datetime:
    # A wall-clock time is kept exactly: no time zone to convert from, so none is accepted.
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value
    elif isinstance(value, str) and _LOCAL_TIME.fullmatch(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise _Bad(
        _("{value} is not a local time (YYYY-MM-DDTHH:MM:SS, without a Z)").format(
            value=_shown(value)
        )
    )


def _value(field: dump.DumpField, value: Any) -> Any:
    if value is None:
        if not field.nullable:
            raise _Bad(_("must not be null"))
        return None
    kind = field.kind
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(_("{value} is not a whole number").format(value=_shown(value)))
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _Bad(_("{value} is not true or false").format(value=_shown(value)))
        return value
    if kind == "money":
        return _money(value)
    if kind == "date":
        return _date(value)
    if kind == "datetime":
        return _datetime(value)
    if kind == "localtime":
        return _local_time(value)
    if kind == "json":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise _Bad(_("must be an object of text values"))
        return dict(value)
    if not isinstance(value, str):
        raise _Bad(_("{value} is not text").format(value=_shown(value)))
    return value


def _record(
    entity: str, where: str, raw: Any, *, extra: Sequence[str] = (), omit: Sequence[str] = ()
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationError(
            _("{where}: must be an object, not {type}").format(where=where, type=type(raw).__name__)
        )
    spec = [f for f in dump.fields(entity) if f.name not in omit]
    known = {f.name for f in spec} | set(extra)
    unknown = sorted(k for k in raw if k not in known)
    if unknown:
        raise ValidationError(
            _("{where}: unknown key {key}").format(where=where, key=repr(unknown[0]))
        )
    record: dict[str, Any] = {}
    for field in spec:
        if field.name not in raw and field.name in ADDED_LATER:
            record[field.name] = None  # a document from before the field existed
            continue
        if field.name not in raw:
            raise ValidationError(
                _("{where}: missing {key}").format(where=where, key=repr(field.name))
            )
        try:
            value = _value(field, raw[field.name])
        except _Bad as exc:
            raise ValidationError(f"{where}.{field.name}: {exc}") from None
        choices = _ENUMS.get((entity, field.name))
        if choices is not None and value not in {c.value for c in choices}:
            names = ", ".join(c.value for c in choices)
            raise ValidationError(
                _("{where}: {value} is not one of {choices}").format(
                    where=f"{where}.{field.name}", value=_shown(value), choices=names
                )
            )
        record[field.name] = _held_to_the_rules(entity, field, value, f"{where}.{field.name}")
    _check_closed(entity, where, record)
    return record


# Fields the other entry points hold to a rule of their own (names, e-mails), by entity.
_NAMES = {
    ("leads", "name"),
    ("accounts", "name"),
    ("contacts", "name"),
    ("opportunities", "name"),
    ("stages", "name"),
    ("activities", "subject"),
}
_EMAILS = {("leads", "email"), ("contacts", "email")}


def _held_to_the_rules(entity: str, field: dump.DumpField, value: Any, path: str) -> Any:
    """`value` checked as `lead add`, `opp add`... check it (the same functions): names by
    `clean_name` (non-empty, one line, at most 500 characters), e-mails by `normalise_email`,
    every other text and the extras' keys and values by `clean_text` (no control characters),
    ids from 1 to `MAX_ID`. The message names the path: ``leads[3].name: … contains a
    control character``."""
    if value is None:
        return None
    if field.kind == "int" and (field.name == "id" or field.name.endswith("_id")):
        if not 1 <= value <= MAX_ID:
            raise ValidationError(
                _(
                    "{where}: {value} is not an id from 1 to {largest} (the ids PostgreSQL's"
                    " INTEGER columns hold, on both backends)"
                ).format(where=path, value=value, largest=MAX_ID)
            )
        return value
    if field.kind == "json":
        extras: dict[str, str] = {}
        for key, text in value.items():
            clean_key = clean_text(key, field=_("{where} key").format(where=path))
            if clean_key is None:
                raise ValidationError(_("{where}: a key is empty").format(where=path))
            extras[clean_key] = clean_text(text, field=f"{path}.{clean_key}") or ""
        return extras
    if field.kind != "text":
        return value
    if (entity, field.name) in _NAMES:
        return clean_name(value, field=path)
    if (entity, field.name) in _EMAILS:
        return normalise_email(value, field=path)
    text = clean_text(value, field=path)
    if text is None and not field.nullable:
        raise ValidationError(_("{where}: must not be empty").format(where=path))
    return text


def _check_closed(entity: str, where: str, record: Mapping[str, Any]) -> None:
    """A won or lost deal has the time it closed; an open one has none (as `opp win`,
    `opp lose` and `opp reopen` leave them)."""
    if entity != "opportunities":
        return
    closed = record.get("closed_at")
    if record.get("status") in ("won", "lost") and closed is None:
        message = (
            _("{where}: a won deal needs closed_at")
            if record["status"] == "won"
            else _("{where}: a lost deal needs closed_at")
        )
        raise ValidationError(message.format(where=f"{where}.closed_at"))
    if record.get("status") == "open" and closed is not None:
        raise ValidationError(
            _("{where}: an open deal has no closed_at (null)").format(where=f"{where}.closed_at")
        )


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    if key not in document and key in _OPTIONAL:
        return []
    if key not in document:
        raise ValidationError(
            _("the document has no {key} (import takes a full JSON export)").format(key=repr(key))
        )
    value = document[key]
    if not isinstance(value, list):
        raise ValidationError(
            _("{where}: must be a list, not {type}").format(where=key, type=type(value).__name__)
        )
    return value


def parse_document(document: Any) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """The rows of a JSON export per table (`dump.TABLES`), and its currency; or ValidationError."""
    if not isinstance(document, dict):
        raise ValidationError(_("the document must be a JSON object (a `crm export` file)"))
    if "format_version" not in document:
        raise ValidationError(_("the document has no 'format_version' (not a `crm export` file?)"))
    version = document["format_version"]
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValidationError(
            _("unknown format_version {value} (this crmcli reads {version})").format(
                value=_shown(version), version=FORMAT_VERSION
            )
        )
    currency = document.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise ValidationError(
            _("currency: {value} is not an ISO 4217 code like BRL").format(value=_shown(currency))
        )
    unknown = sorted(set(document) - {"format_version", "currency", *ENTITIES})
    if unknown:
        raise ValidationError(
            _("the document has an unknown key {key}").format(key=repr(unknown[0]))
        )
    rows: dict[str, list[dict[str, Any]]] = {entity: [] for entity in dump.TABLES}
    for entity in ENTITIES:
        for index, raw in enumerate(_list(document, entity)):
            where = f"{entity}[{index}]"
            if entity == "activities":
                rows[entity].append(_activity(where, raw))
                continue
            if entity != "opportunities":
                rows[entity].append(_record(entity, where, raw))
                continue
            opp = _record(entity, where, raw, extra=_OPP_EXTRA)
            if "history" not in raw:
                raise ValidationError(
                    _("{where}: missing {key}").format(where=where, key="'history'")
                )
            if not isinstance(raw["history"], list):
                raise ValidationError(_("{where}: must be a list").format(where=f"{where}.history"))
            rows[entity].append(opp)
            for step, entry in enumerate(raw["history"]):
                record = _record(
                    "history", f"{where}.history[{step}]", entry, omit=_HISTORY_OMITTED
                )
                rows["history"].append({**record, "opportunity_id": opp["id"]})
    _check_references(rows)
    return rows, currency


def _activity(where: str, raw: Any) -> dict[str, Any]:
    record = _record("activities", where, raw)
    links = [name for name in _ACTIVITY_LINKS if record[name] is not None]
    if len(links) != 1:
        given = (" " + _("and") + " ").join(links) if links else _("none")
        raise ValidationError(
            _("{where}: an activity has exactly one of {links} (given: {given})").format(
                where=where, links=", ".join(_ACTIVITY_LINKS), given=given
            )
        )
    return record


def _check_references(rows: Mapping[str, list[dict[str, Any]]]) -> None:
    ids: dict[str, set[int]] = {}
    for entity, records in rows.items():
        seen: set[int] = set()
        for index, record in enumerate(records):
            if record["id"] in seen:
                where = _where(entity, index, rows)
                raise ValidationError(
                    _("{where}: {id} appears twice").format(where=f"{where}.id", id=record["id"])
                )
            seen.add(record["id"])
        ids[entity] = seen
    for (entity, field), target in _REFERENCES.items():
        for index, record in enumerate(rows[entity]):
            ref = record.get(field)  # a document written before the field existed lacks it
            if ref is not None and ref not in ids[target]:
                where = _where(entity, index, rows)
                raise ValidationError(
                    _("{where}: {id} is not the id of one of the {entities}").format(
                        where=f"{where}.{field}", id=ref, entities=target
                    )
                )


def _where(entity: str, index: int, rows: Mapping[str, list[dict[str, Any]]]) -> str:
    if entity != "history":
        return f"{entity}[{index}]"
    # history rows are nested: name them by their opportunity and place in its list.
    opp_id = rows["history"][index]["opportunity_id"]
    step = sum(1 for r in rows["history"][:index] if r["opportunity_id"] == opp_id)
    opp_index = next(i for i, o in enumerate(rows["opportunities"]) if o["id"] == opp_id)
    return f"opportunities[{opp_index}].history[{step}]"


def import_data(db: Database, document: Any) -> dict[str, int]:
    """Restore a full JSON export into an empty database, in one transaction; counts per entity.

    The whole document is checked first (a ValidationError names the entity, index and field);
    a database that already has leads, accounts, contacts, opportunities or activities is
    refused. A document without `activities` (an export older than them) restores none.
    """
    rows, currency = parse_document(document)
    with db.write() as uow:
        restored = uow.dump.restore(rows, currency=currency)
        uow.commit()
    return {entity: restored[entity] for entity in SUMMARY}
