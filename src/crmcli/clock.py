"""The current time, in one place so tests and the demo can pin it (CRM_NOW, `pinned`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from crmcli.errors import UsageError
from crmcli.i18n import _

_pinned: datetime | None = None

EARLIEST = datetime(1900, 1, 1)
"""The earliest "now" CRM_NOW may pin: the first date crm accepts anywhere."""

LATEST = datetime(9989, 12, 31, 23, 59, 59, 999999)
"""The latest "now" CRM_NOW may pin: ten years before the calendar ends (9999-12-31), so the
commands that look ahead from today (a ten-year `forecast --months 120`, tomorrow's agenda)
still end on a date that exists."""

_parsed: tuple[str, datetime] | None = None


def _from_env(text: str) -> datetime:
    """CRM_NOW as a naive UTC datetime, or a one-line usage error naming it and its value."""
    global _parsed
    if _parsed is not None and _parsed[0] == text:
        return _parsed[1]
    shown = text if len(text) <= 60 else text[:59] + "…"
    try:
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        raise UsageError(
            _(
                'CRM_NOW: "{value}" is not an ISO 8601 date or time'
                " (such as 2026-12-31 or 2026-12-31T09:00:00; unset it to use the clock)"
            ).format(value=shown)
        ) from None
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first UTC moment
        moment = datetime.min
    if not EARLIEST <= moment <= LATEST:
        raise UsageError(
            _('CRM_NOW: "{value}" is out of range (from {earliest} to {latest})').format(
                value=shown, earliest=EARLIEST.date().isoformat(), latest=LATEST.date().isoformat()
            )
        )
    _parsed = (text, moment)
    return moment


def utcnow() -> datetime:
    """Now as a naive UTC datetime; `pinned()` or `CRM_NOW` (ISO 8601) override it."""
    if _pinned is not None:
        return _pinned
    env = os.environ.get("CRM_NOW")
    if env:
        return _from_env(env)
    return datetime.now(UTC).replace(tzinfo=None)


def is_pinned() -> bool:
    """True when "now" is pinned (by `pinned()` or `CRM_NOW`) rather than the wall clock."""
    return _pinned is not None or bool(os.environ.get("CRM_NOW"))


def today() -> date:
    """Today's date (local time, or the date of the pinned moment)."""
    if is_pinned():
        return utcnow().date()
    return date.today()


def local_now() -> datetime:
    """Now as a naive local time: the pinned moment when pinned, else the wall clock.

    The "now" of relative times (`HH:MM`, due dates); its date is always `today()`.
    """
    if is_pinned():
        return utcnow()
    return datetime.now()


def utc_of_local(moment: datetime) -> datetime:
    """A naive local time (a typed `--at 14:30`) as naive UTC; unchanged while "now" is pinned
    (the pinned moment is both)."""
    if is_pinned():
        return moment
    return datetime.fromtimestamp(moment.timestamp(), UTC).replace(tzinfo=None)


@contextmanager
def pinned(moment: datetime) -> Iterator[None]:
    """Make `moment` "now" inside the block (the demo uses it to lay out a history)."""
    global _pinned
    previous, _pinned = _pinned, moment
    try:
        yield
    finally:
        _pinned = previous
