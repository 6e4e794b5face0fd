"""Small helpers shared by the use cases."""

from __future__ import annotations

import getpass
import os

from crmcli.domain.values import clean_text
from crmcli.errors import ValidationError


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
    """A cleaned, non-empty name."""
    name = clean_text(value, field=field)
    if not name:
        raise ValidationError(f"{field}: must not be empty")
    if len(name) > 500:
        raise ValidationError(f"{field}: is longer than 500 characters")
    return name


def optional_text(value: str | None, *, field: str) -> str | None:
    """A cleaned optional text field; an empty string clears it."""
    return clean_text(value, field=field) if value is not None else None
