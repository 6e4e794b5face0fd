"""Small helpers shared by the use cases."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from crmcli.domain.tags import parse_tags, retagged
from crmcli.domain.values import MAX_AMOUNT, check_currency, clean_name
from crmcli.errors import CrmError, Refused, ValidationError
from crmcli.i18n import _

if TYPE_CHECKING:
    from crmcli.store.db import Database

T = TypeVar("T")
R = TypeVar("R")


def default_owner() -> str | None:
    """Who owns new records when no --owner is given: CRM_OWNER, else the login name."""
    owner = os.environ.get("CRM_OWNER")
    if owner:
        return owner
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def required_name(value: str, *, field: str = "name") -> str:
    """A cleaned, non-empty name on one line, with nothing invisible (`values.clean_name`)."""
    return clean_name(value, field=field)


def checked_probability(value: int | None, *, field: str = "probability") -> int | None:
    """A probability in 0-100 (None passes through)."""
    if value is not None and not 0 <= value <= 100:
        raise ValidationError(
            _("{field}: {value} must be a whole number from 0 to 100").format(
                field=field, value=value
            )
        )
    return value


def checked_amount(
    value: Decimal | None, *, field: str = "amount", db: Database | None = None
) -> Decimal | None:
    """A non-negative amount with at most two decimals, within range (None passes through);
    with `db`, an amount typed with another currency's symbol than `db`'s is refused."""
    if value is None:
        return None
    if db is not None and getattr(value, "currency", None) is not None:
        with db.read() as uow:
            check_currency(value, uow.settings.get("currency") or "", field=field)
    if value < 0:
        raise ValidationError(
            _("{field}: {value} must not be negative").format(field=field, value=value)
        )
    if value > MAX_AMOUNT:
        raise ValidationError(_("{field}: {value} is too large").format(field=field, value=value))
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError(
            _("{field}: {value} has more than 2 decimal places").format(field=field, value=value)
        )
    return value


# -- many records at once ---------------------------------------------------------------------


def refusal_line(record: str, ref: int | str, exc: CrmError) -> str:
    """The line of one refused record of a bulk action: the refusal's own message when it
    names the record already (`lead 7 is converted: …`), else `{record}: {message}`
    (`opportunity "Deal": "Won" is the last stage: …`)."""
    message = str(exc)
    if record in message or re.search(rf"(?<![\w@.]){re.escape(str(ref))}(?![\w@])", message):
        return message
    return _("{record}: {reason}").format(record=record, reason=message)


def refused(problems: list[tuple[str, int | str, CrmError]]) -> Refused:
    """The error of a bulk action some of whose records were refused: one line each
    (`refusal_line`), the gravest exit code of theirs."""
    return Refused(
        [refusal_line(record, ref, exc) for record, ref, exc in problems],
        max(exc.exit_code for _record, _ref, exc in problems),
    )


def each_or_refused(items: Iterable[tuple[str, int | str, T]], work: Callable[[T], R]) -> list[R]:
    """`work(item)` for every item (record name in messages, ref as typed, item); when any
    raised a CrmError, `refused` for all of those instead (the caller's transaction is then
    left without committing: all or nothing)."""
    done: list[R] = []
    problems: list[tuple[str, int | str, CrmError]] = []
    for record, ref, item in items:
        try:
            done.append(work(item))
        except CrmError as exc:
            problems.append((record, ref, exc))
    if problems:
        raise refused(problems)
    return done


def new_tags(tags: Sequence[str]) -> tuple[str, ...] | None:
    """The tags of a new record from `--tag` values (None when there are none)."""
    return parse_tags(tags) or None


def retag(current: Sequence[str], tag: Sequence[str], untag: Sequence[str]) -> dict[str, Any]:
    """`{"tags": …}` when `--tag`/`--untag` change a record's `current` tags, else nothing."""
    if not tag and not untag:
        return {}
    changed = retagged(current, tag, untag)
    return {} if changed == tuple(current) else {"tags": changed or None}
