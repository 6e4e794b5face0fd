"""Small helpers shared by the use cases."""

from __future__ import annotations

import getpass
import os
from decimal import Decimal
from typing import TYPE_CHECKING

from crmcli.domain.values import MAX_AMOUNT, check_currency, clean_name
from crmcli.errors import ValidationError
from crmcli.i18n import _

if TYPE_CHECKING:
    from crmcli.store.db import Database


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
