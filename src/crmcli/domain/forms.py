"""The plain-text form `crm … edit REF` opens in `$EDITOR`: writing it, reading it back.

A form is comment lines (`# …`) and one `key: value` line per field. Keys are the English
field names in every language (so a form always reads back); the comments are in the interface
language. A value goes on over the following lines that start with a space (multi-line notes);
a comment after a value (`budget: 10.00  # amounts like …`) is ours and is ignored. Values are
written in the form they are read back in (ISO dates, plain decimals), so a form saved as it
was changes nothing: what changed is found by reading both texts the same way.

Pure: the standard library, the domain's value parsers and the message catalog.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from crmcli.domain import values
from crmcli.domain.models import Account, Contact, ContactType, Lead, Opportunity
from crmcli.domain.records import record
from crmcli.errors import ValidationError
from crmcli.i18n import _

TEXT = "text"
"""Free text: kept whole (a `#` in it is the user's), an empty value clears the field."""
REFERENCE = "reference"
"""Another record by id or name: free text too, but written with its name as the comment."""
MONEY = "money"
DATE = "date"
PROBABILITY = "probability"
CHOICE = "choice"
_CUT_AT_HASH = frozenset((MONEY, DATE, PROBABILITY, CHOICE))
"""Kinds whose values never hold a `#`: anything from one on is a comment."""

_HINT_COLUMN = 24
"""Where the comment after a value starts, when the value is short enough."""
_INDENT = "  "
ERROR_PREFIX = "# crm: "
"""How the error comment put on top of a reopened form starts (`# crm: error: …`)."""


@record
class FormField:
    """One `key: value` line of a form.

    Attributes:
        key: the field's English name, as the option is named (`budget`, `close`).
        value: the current value, written so that it reads back to itself.
        kind: TEXT, REFERENCE, MONEY, DATE, PROBABILITY or CHOICE (how the value is read).
        hint: the comment written after the value (interface language), if any.
        required: True when an empty value is refused rather than clearing the field.
    """

    key: str
    value: str
    kind: str = TEXT
    hint: str | None = None
    required: bool = False


@record
class Form:
    """A record as a form: what it is (`lead`, 6), comment lines on top, its fields."""

    kind: str
    record_id: int
    header: tuple[str, ...]
    fields: tuple[FormField, ...]

    def field(self, key: str) -> FormField:
        """The field named `key` (KeyError if the form has none)."""
        for item in self.fields:
            if item.key == key:
                return item
        raise KeyError(key)


# -- writing ---------------------------------------------------------------------------------


def write_form(form: Form) -> str:
    """The text of `form` as the editor shows it, ending with a newline."""
    lines = [f"# {line}" for line in form.header]
    for item in form.fields:
        first, *more = item.value.split("\n")
        line = f"{item.key}: {first}".rstrip()
        if item.hint:
            line = f"{line.ljust(_HINT_COLUMN - 2)}  # {item.hint}"
        lines.append(line)
        lines.extend(f"{_INDENT}{rest}".rstrip() for rest in more)
    return "\n".join(lines) + "\n"


def with_error(text: str, message: str) -> str:
    """`text` (a form as the user saved it) with `message` as a `# crm: error: …` comment on
    top, in place of the one an earlier try put there."""
    lines = text.lstrip("\ufeff").splitlines()
    while lines and lines[0].startswith(ERROR_PREFIX):
        lines.pop(0)
    error = _("crm: error: {message}").format(message=_one_line(message))
    return "\n".join([f"# {error}", *lines]) + "\n"


def same_text(a: str, b: str) -> bool:
    """True when two saved forms differ at most in trailing spaces, line ends or a final
    newline (what an editor may change on its own)."""
    return _normal(a) == _normal(b)


def _normal(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.lstrip("\ufeff").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- reading ---------------------------------------------------------------------------------


def read_form(form: Form, text: str) -> dict[str, str]:
    """The values of `text`, a saved copy of `form`, by key (as written: not yet parsed).

    A field whose line was deleted is left out (it stays as it is). Refused with a
    ValidationError naming the line: a line that is not `key: value`, a key the form does
    not have, a key given twice.
    """
    kinds = {item.key: item for item in form.fields}
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    pending_blank = 0
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.rstrip()
        if not line:
            if current is not None:
                pending_blank += 1
            continue
        if line.startswith("#"):
            current, pending_blank = None, 0
            continue
        if line[0].isspace():
            if current is not None:
                current.extend([""] * pending_blank)
                current.append(_dedent(line))
                pending_blank = 0
                continue
            if line.lstrip().startswith("#"):
                continue
            raise ValidationError(
                _('line {line}: expected "field: value", found {text}').format(
                    line=number, text=_quoted(line.strip())
                )
            )
        pending_blank = 0
        key, colon, rest = line.partition(":")
        key = key.strip().lower()
        if not colon or key not in kinds:
            raise ValidationError(_unknown(number, line, key if colon else None, kinds))
        if key in found:
            raise ValidationError(
                _("line {line}: {field} is given twice").format(line=number, field=key)
            )
        current = found[key] = [rest.strip()]
    out = {}
    for key, parts in found.items():
        if len(parts) > 1 and not parts[0]:
            parts = parts[1:]
        out[key] = _without_hint(kinds[key], "\n".join(parts).strip())
    return out


def _dedent(line: str) -> str:
    if line.startswith(_INDENT):
        return line[len(_INDENT) :]
    return line[1:]


def _unknown(number: int, line: str, key: str | None, kinds: Iterable[str]) -> str:
    if key is None:
        return _('line {line}: expected "field: value", found {text}').format(
            line=number, text=_quoted(line)
        )
    return _("line {line}: {field} is not a field here (the fields are {fields})").format(
        line=number, field=_quoted(key), fields=", ".join(kinds)
    )


def _quoted(text: str) -> str:
    shown = text if len(text) <= 60 else text[:59] + "…"
    return f'"{shown}"'


def _without_hint(item: FormField, value: str) -> str:
    """`value` without the comment the form wrote after it (or, for a value that never holds a
    `#`, any comment)."""
    if item.kind in _CUT_AT_HASH:
        return value.partition("#")[0].strip()
    first, newline, rest = value.partition("\n")
    if item.hint and first.endswith(item.hint):
        head = first[: -len(item.hint)].rstrip()
        if head.endswith("#"):
            first = head[:-1].rstrip()
    return first + newline + rest


def changes(form: Form, text: str) -> dict[str, str]:
    """The values of the saved `text` that differ from what `form` showed, by key."""
    before = read_form(form, write_form(form))
    after = read_form(form, text)
    return {key: value for key, value in after.items() if value != before.get(key)}


def typed(form: Form, changed: Mapping[str, str], *, today: date) -> dict[str, Any]:
    """The changed values as the edit services take them: amounts as Decimal, dates as date,
    probabilities as int, text as text ("" clears). Refused with the parser's one-line
    ValidationError naming the field and the value; an empty required value is refused."""
    out: dict[str, Any] = {}
    for key, text in changed.items():
        item = form.field(key)
        if not text and (item.required or item.kind in _CUT_AT_HASH):
            raise ValidationError(_("{field}: must not be empty").format(field=key))
        if item.kind == MONEY:
            out[key] = values.typed_amount(text, field=key)
        elif item.kind == DATE:
            out[key] = values.parse_date(text, field=key, today=today)
        elif item.kind == PROBABILITY:
            out[key] = values.parse_probability(text, field=key)
        else:
            out[key] = text
    return out


# -- the forms of each record ----------------------------------------------------------------


def _text(value: str | None) -> str:
    return value or ""


def _amount(value: Any) -> str:
    return "" if value is None else values.format_money(value)


def _date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _common_header(first: str, *, notes: bool = True) -> list[str]:
    header = [first, _("Lines starting with # are ignored. An empty value clears the field.")]
    if notes:
        header.append(_("A value goes on over the next lines that start with a space (for notes)."))
    return header


def _money_hint() -> str:
    return _("amounts like 1234.56 or 1.234,56")


def _date_hint() -> str:
    return _("a date: 2027-03-31 or 31/03/2027")


def lead_form(lead: Lead) -> Form:
    """The form of `crm lead edit ID`."""
    header = _common_header(
        _("Edit lead {id}, save and quit (quit without saving to change nothing).").format(
            id=lead.id
        )
    )
    header.append(
        _(
            "status: {status} (changed with `crm lead contact|qualify|disqualify|archive|reopen`,"
            " not here)"
        ).format(status=lead.status.value)
    )
    fields = (
        FormField("name", lead.name, required=True),
        FormField("email", _text(lead.email)),
        FormField("phone", _text(lead.phone)),
        FormField("company", _text(lead.company)),
        FormField("title", _text(lead.title)),
        FormField("source", _text(lead.source)),
        FormField("budget", _amount(lead.budget), MONEY, _money_hint()),
        FormField("timeline", _date(lead.timeline), DATE, _date_hint()),
        FormField("owner", _text(lead.owner)),
        FormField("notes", _text(lead.notes)),
    )
    return Form("lead", lead.id, tuple(header), fields)


def account_form(account: Account) -> Form:
    """The form of `crm account edit REF`."""
    header = _common_header(
        _("Edit account {id}, save and quit (quit without saving to change nothing).").format(
            id=account.id
        )
    )
    fields = (
        FormField("name", account.name, required=True),
        FormField("industry", _text(account.industry)),
        FormField("website", _text(account.website)),
        FormField("phone", _text(account.phone)),
        FormField("notes", _text(account.notes)),
    )
    return Form("account", account.id, tuple(header), fields)


def _account_field(account_id: int | None, account_name: str | None) -> FormField:
    hint = _("an id or a name (a new name creates the account)")
    if account_id is not None and account_name:
        hint = _("{name}; an id or a name (a new name creates the account)").format(
            name=account_name
        )
    return FormField(
        "account", "" if account_id is None else str(account_id), REFERENCE, hint, required=True
    )


def contact_form(contact: Contact, account_name: str | None) -> Form:
    """The form of `crm contact edit REF`; `account_name` names its account in a comment."""
    header = _common_header(
        _("Edit contact {id}, save and quit (quit without saving to change nothing).").format(
            id=contact.id
        )
    )
    fields = (
        FormField("name", contact.name, required=True),
        _account_field(contact.account_id, account_name),
        FormField(
            "type",
            contact.type.value,
            CHOICE,
            _("one of {choices}").format(choices=", ".join(t.value for t in ContactType)),
        ),
        FormField("email", _text(contact.email)),
        FormField("phone", _text(contact.phone)),
        FormField("title", _text(contact.title)),
        FormField("notes", _text(contact.notes)),
    )
    return Form("contact", contact.id, tuple(header), fields)


def opp_form(
    opp: Opportunity,
    *,
    account_name: str | None,
    contact_name: str | None,
    stages: Sequence[str],
) -> Form:
    """The form of `crm opp edit REF`; the names of its account and contact go in comments,
    the pipeline's `stages` in the header (the stage is changed by `opp advance`)."""
    header = _common_header(
        _("Edit opportunity {id}, save and quit (quit without saving to change nothing).").format(
            id=opp.id
        ),
        notes=False,
    )
    header.append(
        _(
            "stage: {stage}, status: {status} (changed with `crm opp advance|win|lose|reopen`,"
            " not here)"
        ).format(stage=opp.stage or "-", status=opp.status.value)
    )
    if stages:
        header.append(_("the stages: {stages}").format(stages=", ".join(stages)))
    contact_hint = _("an id, an e-mail or a name")
    if opp.contact_id is not None and contact_name:
        contact_hint = _("{name}; an id, an e-mail or a name").format(name=contact_name)
    fields = (
        FormField("name", opp.name, required=True),
        _account_field(opp.account_id, account_name),
        FormField(
            "contact",
            "" if opp.contact_id is None else str(opp.contact_id),
            REFERENCE,
            contact_hint,
        ),
        FormField("amount", _amount(opp.amount), MONEY, _money_hint()),
        FormField(
            "probability",
            str(opp.probability),
            PROBABILITY,
            _("a whole number from 0 to 100 (set by hand)"),
        ),
        FormField("close", _date(opp.expected_close), DATE, _date_hint()),
        FormField("owner", _text(opp.owner)),
    )
    return Form("opp", opp.id, tuple(header), fields)
