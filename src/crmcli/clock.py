"""The current time, in one place so tests and the demo can pin it (CRM_NOW, `pinned`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

_pinned: datetime | None = None


def utcnow() -> datetime:
    """Now as a naive UTC datetime; `pinned()` or `CRM_NOW` (ISO 8601) override it."""
    if _pinned is not None:
        return _pinned
    env = os.environ.get("CRM_NOW")
    if env:
        moment = datetime.fromisoformat(env)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    return datetime.now(UTC).replace(tzinfo=None)


def is_pinned() -> bool:
    """True when "now" is pinned (by `pinned()` or `CRM_NOW`) rather than the wall clock."""
    return _pinned is not None or bool(os.environ.get("CRM_NOW"))


def today() -> date:
    """Today's date (local time, or the date of the pinned moment)."""
    if is_pinned():
        return utcnow().date()
    return date.today()


@contextmanager
def pinned(moment: datetime) -> Iterator[None]:
    """Make `moment` "now" inside the block (the demo uses it to lay out a history)."""
    global _pinned
    previous, _pinned = _pinned, moment
    try:
        yield
    finally:
        _pinned = previous
