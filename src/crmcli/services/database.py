"""The database as the commands see it: opening it, where it lives, what is safe to print.

The CLI's only way to the store's `Database` and `location` (the layering rule: `cli` never
imports `crmcli.store`, tests/test_layers.py). Light on purpose: `store.location` imports
neither SQLite nor SQLAlchemy, and the rest of the store is imported only inside the functions
that need it, so `crm --help` stays cheap (tests/test_startup.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from crmcli.store.location import demo_target, redact, resolve_target, sqlite_path

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from crmcli.errors import StorageError
    from crmcli.store.db import Database as Database

__all__ = [
    "demo_target",
    "full_disk",
    "is_local_time",
    "open_database",
    "redact",
    "resolve_target",
    "sqlite_path",
]


def open_database(
    target: str,
    *,
    notify: Callable[[str], None],
    actor: str | None = None,
    command: str | None = None,
    hooks: bool = True,
) -> Database:
    """The database of `target` (see `resolve_target`); opened, created or upgraded on first
    use. `actor` and `command` are what its journal records of each change: who made it, and
    the command line that did (without global options such as `--db`). With `hooks` (and
    unless `CRM_NO_HOOKS=1`), each commit runs the hooks of its events (`crmcli.hooks`)."""
    from crmcli import hooks as hook_runner
    from crmcli.store.db import Database

    after_commit = None
    if hooks and hook_runner.enabled():
        after_commit = hook_runner.HookRunner(notify)
    return Database(target, notify=notify, actor=actor, command=command, after_commit=after_commit)


def full_disk(path: Path, exc: BaseException) -> StorageError | None:
    """The error to show when `exc` means the disk under the SQLite file `path` is full."""
    from crmcli.store.db import full_disk

    return full_disk(path, exc)


def is_local_time(value: datetime) -> bool:
    """True for a naive local wall-clock time of a dump (an activity's `due`), not UTC.

    Only data read from a database reaches this, so the dump module is loaded by then.
    """
    from crmcli.store.repos.dump import LocalTime

    return isinstance(value, LocalTime)
