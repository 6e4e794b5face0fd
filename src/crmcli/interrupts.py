"""Ctrl-C and SIGTERM: one exception for both, never lost knowledge of a commit.

`install()` (called by the console entry point) makes SIGTERM raise `Terminated`, a
KeyboardInterrupt, so a `kill` runs the same clean-up as Ctrl-C: temporary files removed, the
transaction rolled back, one line said.

`deferred()` holds both signals back while a COMMIT runs (SQLite checkpoints its WAL inside
it, which can take a while): an interrupt then could not say whether the change was saved. A
signal that arrives meanwhile is kept and acted on at the next `checkpoint()`: the start of
the next transaction, or the end of the command (after it printed what it did).
`saved()` tells whether a write transaction of this process committed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_pending: list[int] = []
_saved = 0


class Terminated(KeyboardInterrupt):
    """SIGTERM, seen by every clean-up path that sees Ctrl-C; exit code 143 (128 + 15)."""

    exit_code = 128 + signal.SIGTERM


def exit_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C (128 + SIGINT), 143 for SIGTERM."""
    return getattr(exc, "exit_code", 128 + signal.SIGINT)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def install() -> None:
    """Make SIGTERM raise `Terminated` (in the main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


def ignore() -> None:
    """Ignore SIGINT and SIGTERM from now on (the command has ended; in the main thread)."""
    if threading.current_thread() is threading.main_thread():
        for s in SIGNALS:
            signal.signal(s, signal.SIG_IGN)


def _record(signum: int, _frame: FrameType | None) -> None:
    _pending.append(signum)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the body (a commit); see `checkpoint`."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _record) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def note_saved() -> None:
    """A write transaction has just committed."""
    global _saved
    _saved += 1


def saved() -> bool:
    """Whether a write transaction of this process has committed."""
    return _saved > 0


def checkpoint() -> None:
    """Deliver a signal held back by `deferred`: its handler runs now (KeyboardInterrupt)."""
    if _pending:
        signum = _pending[0]
        _pending.clear()
        signal.raise_signal(signum)


def reset() -> None:
    """Forget held signals and commits (a new invocation in the same process: tests)."""
    global _saved
    _pending.clear()
    _saved = 0
