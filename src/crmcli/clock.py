"""The current time, in one place so tests and the demo can pin it (CRM_NOW)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Now as a naive UTC datetime; `CRM_NOW` (ISO 8601) overrides it."""
    pinned = os.environ.get("CRM_NOW")
    if pinned:
        moment = datetime.fromisoformat(pinned)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """Today's date (local time, or the date of `CRM_NOW`)."""
    if os.environ.get("CRM_NOW"):
        return utcnow().date()
    return date.today()
