"""Turning one data row of a lead file into a checked `LeadRow`.

A cell that crm's CSV output neutralised (``'=…``, ``'+55 …``) gets its value back
(`cells.unneutralise`). Values are trimmed and NFC-normalised; e-mails, money and dates go
through the domain parsers.
A bad row raises `RowError(line, reason)`, where the reason names the column and the value; the
caller reports it and goes on with the next row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from crmcli.domain.tags import parse_tags
from crmcli.domain.values import (
    check_currency,
    check_typed_currency,
    clean_text,
    clean_texts,
    name_rules,
    normalise_email,
    parse_date,
    parse_money,
    parse_probability,
    typed_amount,
)
from crmcli.errors import ValidationError
from crmcli.i18n import _
from crmcli.importing.cells import QUOTE, unneutralise
from crmcli.importing.headers import LEAD_FIELDS, Mapping, and_list, column_key

__all__ = ["LeadRow", "LeadRowParser", "OppRow", "RowError", "parse_lead_row", "parse_opp_row"]

_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")


class RowError(Exception):
    """One data row is refused; `reason` names the column and the value."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(_("line {line}: {reason}").format(line=line, reason=reason))
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class LeadRow:
    """A lead read from one row; `extras` holds the unmapped columns' non-empty values."""

    name: str
    email: str | None
    phone: str | None
    company: str | None
    title: str | None
    source: str | None
    budget: Decimal | None
    timeline: date | None
    owner: str | None
    notes: str | None
    extras: dict[str, str] = field(default_factory=dict)
    line: int = 0
    tags: tuple[str, ...] = ()


def _label(headers: Sequence[str], index: int) -> str:
    """A column as a message names it: its header, else ``column N`` in the interface
    language."""
    header = headers[index] if index < len(headers) else ""
    return header if header.strip() else _("column {number}").format(number=index + 1)


def _stored_extras(text: str, headers: Sequence[str], mapping: Mapping) -> dict[str, str]:
    """The extras a file crm wrote holds in its ``extras`` column (a JSON object of texts);
    a cell that is not such an object is kept as it is, under its header."""
    import json

    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        return {str(k): v for k, v in data.items()}
    assert mapping.stored_extras is not None
    return {column_key(headers, mapping.stored_extras): text}


def _too_wide(line: int, cells: Sequence[str], width: int) -> RowError:
    return RowError(
        line,
        _("has {cells} cells but the header has {width} columns").format(
            cells=len(cells), width=width
        ),
    )


def parse_lead_row(
    line: int,
    cells: Sequence[str],
    mapping: Mapping,
    headers: Sequence[str],
    *,
    today: date,
    source_override: str | None = None,
    currency: str | None = None,
) -> LeadRow:
    """Check one row and return it as a `LeadRow`; raise `RowError` when it is bad.

    `today` is the import's date (`clock.today()`), from which a relative timeline
    (`tomorrow`, `+30d`) counts.

    A row with more cells than headers is refused (unless the surplus cells are empty, as
    Excel's trailing separators leave them); missing cells are empty. `source_override`
    (``--source``), when given, replaces the file's source for every row. A budget written
    with another currency's symbol than `currency` (the database's) is refused.
    """
    parse = LeadRowParser(
        mapping, headers, today=today, source_override=source_override, currency=currency
    )
    return parse(line, cells)


class LeadRowParser:
    """`parse_lead_row` for every row of one file: what depends only on the header row (which
    column feeds which field, how a message names it) is worked out once, here."""

    def __init__(
        self,
        mapping: Mapping,
        headers: Sequence[str],
        *,
        today: date,
        source_override: str | None = None,
        currency: str | None = None,
    ) -> None:
        self.mapping = mapping
        self.headers = headers
        self.today = today
        self.currency = currency
        self.width = len(headers)
        columns = {f: mapping.column(f) for f in LEAD_FIELDS}
        self.columns = columns
        self.labels = {
            f: f if index is None else _label(headers, index) for f, index in columns.items()
        }
        # Where each field is in a row's cleaned values: -1 (the None put after them) when no
        # column feeds it.
        at = {f: -1 if index is None else index for f, index in columns.items()}
        self.email_at, self.phone_at, self.company_at = at["email"], at["phone"], at["company"]
        self.title_at, self.source_at, self.budget_at = at["title"], at["source"], at["budget"]
        self.timeline_at, self.owner_at, self.notes_at = at["timeline"], at["owner"], at["notes"]
        self.tags_at = at["tags"]
        self.source_override = source_override
        self.extras = [(i, column_key(headers, i)) for i in mapping.extras if i < self.width]

    def _source(self, source: str | None) -> str | None:
        """The row's source, or ``--source`` when given."""
        if self.source_override is None:
            return source
        return clean_text(self.source_override, field="--source") or source

    def _name(self, line: int, values: list[str | None]) -> str:
        """The row's name: its name column, else its first and last names put together."""
        columns, labels = self.columns, self.labels
        index = columns["name"]
        name = None if index is None else values[index]
        name_field = labels["name"]
        if name is None:
            parts = [
                values[i] for i in (columns["first_name"], columns["last_name"]) if i is not None
            ]
            name, name_field = " ".join(p for p in parts if p) or None, "name"
        if name is None:
            named = [
                f'"{_label(self.headers, i)}"'
                for i in (columns[f] for f in ("name", "first_name", "last_name"))
                if i is not None
            ]
            reason = (
                _("name: missing ({columns} empty)").format(columns=and_list(named))
                if named
                else _("name: missing (no name column)")
            )
            raise RowError(line, reason)
        try:  # the rules `lead add` applies (one line, nothing invisible, at most 500 characters)
            return name_rules(name, field=name_field)
        except ValidationError as exc:
            raise RowError(line, str(exc)) from None

    def _cleaned(self, line: int, cells: Sequence[str]) -> list[str | None]:
        """The row's cells, as many as the header's columns, cleaned (`clean_text`), then the
        None a field without a column reads."""
        width = self.width
        padded = cells
        if len(cells) != width:
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                raise _too_wide(line, cells, width)
            padded = list(cells[:width]) + [""] * (width - len(cells))
        if QUOTE in "".join(padded):  # crm's own CSV may have neutralised a cell
            padded = [unneutralise(c) if c[:1] == QUOTE else c for c in padded]
        try:
            values = clean_texts(padded)
        except ValidationError:  # rare: find the cell again, to name its column
            for index, cell in enumerate(padded):
                try:
                    clean_text(cell, field=_label(self.headers, index))
                except ValidationError as exc:
                    raise RowError(line, str(exc)) from None
            raise
        values.append(None)
        return values

    def __call__(self, line: int, cells: Sequence[str]) -> LeadRow:
        """The row as a `LeadRow`, or `RowError`."""
        labels = self.labels
        values = self._cleaned(line, cells)
        try:
            email = values[self.email_at]
            if email is not None:
                email = normalise_email(email, field=labels["email"])
            budget_text = values[self.budget_at]
            budget = None
            if budget_text is not None:
                budget = parse_money(budget_text, field=labels["budget"])
                if self.currency is not None and not budget_text[:1].isdigit():
                    check_typed_currency(budget_text, self.currency, field=labels["budget"])
            timeline_text = values[self.timeline_at]
            timeline = None
            if timeline_text is not None:
                timeline = parse_date(timeline_text, field=labels["timeline"], today=self.today)
        except ValidationError as exc:
            raise RowError(line, str(exc)) from None

        phone = values[self.phone_at]
        # `_SCIENTIFIC` needs an exponent: a phone without `e` is never refused by it
        if (
            phone is not None
            and ("e" in phone or "E" in phone)
            and _SCIENTIFIC.fullmatch(phone.replace(" ", ""))
        ):
            raise RowError(
                line,
                _(
                    '{field}: "{value}" looks like a number Excel converted to scientific'
                    " notation (format the column as text and export again)"
                ).format(field=labels["phone"], value=phone),
            )

        name = self._name(line, values)

        tags_text = values[self.tags_at]
        try:
            tags = parse_tags([tags_text], field=labels["tags"]) if tags_text else ()
        except ValidationError as exc:
            raise RowError(line, str(exc)) from None

        source = values[self.source_at]
        if self.source_override is not None:
            source = self._source(source)

        extras: dict[str, str] = {}
        stored = self.mapping.stored_extras
        if stored is not None and values[stored] is not None:
            extras.update(_stored_extras(values[stored] or "", self.headers, self.mapping))
        for index, key in self.extras:
            value = values[index]
            if value is not None:
                extras[key] = value
        row: LeadRow = _new_row(LeadRow)  # a frozen dataclass's __init__ costs 3x as much
        row.__dict__.update(
            name=name,
            email=email,
            phone=phone,
            company=values[self.company_at],
            title=values[self.title_at],
            source=source,
            budget=budget,
            timeline=timeline,
            owner=values[self.owner_at],
            notes=values[self.notes_at],
            extras=extras,
            line=line,
            tags=tags,
        )
        return row


_new_row = object.__new__
"""A `LeadRow` made without its `__init__` (every field is then set), as
`store.schema.record_loader` makes records."""


_STATUS_WORDS = {
    "open": "open",
    "aberto": "open",
    "aberta": "open",
    "em aberto": "open",
    "won": "won",
    "ganho": "won",
    "ganha": "won",
    "lost": "lost",
    "perdido": "lost",
    "perdida": "lost",
}


@dataclass(frozen=True)
class OppRow:
    """An opportunity read from one row of a deals spreadsheet."""

    name: str
    account: str
    contact_email: str | None
    amount: Decimal
    probability: int | None
    stage: str | None
    expected_close: date | None
    owner: str | None
    status: str
    line: int = 0


def parse_opp_row(
    line: int,
    cells: Sequence[str],
    mapping: Mapping,
    headers: Sequence[str],
    *,
    today: date,
    currency: str | None = None,
) -> OppRow:
    """Check one deal row and return it as an `OppRow`; raise `RowError` when it is bad.

    A relative expected close (`+30d`) counts from `today`, the import's `clock.today()`; an
    amount written with another currency's symbol than `currency` is refused."""
    width = len(headers)
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        raise _too_wide(line, cells, width)
    padded = list(cells[:width]) + [""] * (width - len(cells))

    def get(name: str) -> str | None:
        index = mapping.column(name)
        if index is None:
            return None
        try:
            return clean_text(unneutralise(padded[index]), field=_label(headers, index))
        except ValidationError as exc:
            raise RowError(line, str(exc)) from None

    def label(name: str) -> str:
        index = mapping.column(name)
        return name if index is None else _label(headers, index)

    name, account = get("name"), get("account")
    if name is None:
        raise RowError(
            line, _("{field}: missing (a deal needs a name)").format(field=label("name"))
        )
    if account is None:
        raise RowError(
            line, _("{field}: missing (a deal needs an account)").format(field=label("account"))
        )
    try:  # the rules `opp add` applies to a deal's and an account's name
        name = name_rules(name, field=label("name"))
        account = name_rules(account, field=label("account"))
    except ValidationError as exc:
        raise RowError(line, str(exc)) from None
    status_text = (get("status") or "open").casefold()
    status = _STATUS_WORDS.get(status_text)
    if status is None:
        raise RowError(
            line,
            _('{field}: "{value}" is not open, won or lost').format(
                field=label("status"), value=status_text
            ),
        )
    try:
        email = get("contact_email")
        amount_text = get("amount")
        probability_text = get("probability")
        close_text = get("expected_close")
        if currency is not None and amount_text is not None and not amount_text[:1].isdigit():
            check_currency(typed_amount(amount_text), currency, field=label("amount"))
        return OppRow(
            name=name,
            account=account,
            contact_email=None
            if email is None
            else normalise_email(email, field=label("contact_email")),
            amount=Decimal("0.00")
            if amount_text is None
            else parse_money(amount_text, field=label("amount")),
            probability=None
            if probability_text is None
            else parse_probability(probability_text, field=label("probability")),
            stage=get("stage"),
            expected_close=None
            if close_text is None
            else parse_date(close_text, field=label("expected_close"), today=today),
            owner=get("owner"),
            status=status,
            line=line,
        )
    except ValidationError as exc:
        raise RowError(line, str(exc)) from None
