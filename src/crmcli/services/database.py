"""The database as the commands see it: opening it, where it lives, what is safe to print.

The CLI's only way to the store's `Database` and `location` (the layering rule: `cli` never
imports `crmcli.store`, tests/test_layers.py). Light on purpose: importing this module loads
no store module, no SQLAlchemy and no SQLite; each function imports what it wraps when called,
so `crm --help` and the parsing of a command line stay cheap (tests/test_startup.py).

`Database` is re-exported for annotations (`from crmcli.services.database import Database`
under TYPE_CHECKING); at run time the name is resolved on first access.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from crmcli.errors import StorageError
    from crmcli.store.db import Database

__all__ = [
    "Database",
    "data_dir",
    "demo_target",
    "full_disk",
    "is_local_time",
    "is_url",
    "open_database",
    "redact",
    "resolve_target",
    "sqlite_path",
]


def __getattr__(name: str) -> Any:
    """`Database` on first use, so importing this module does not load the store."""
    if name == "Database":
        from crmcli.store.db import Database

        return Database
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_database(
    target: str | None,
    *,
    notify: Callable[[str], None],
    actor: str | None = None,
    command: str | None = None,
) -> Database:
    """The database of `target` (`--db`, else `CRM_DB`, else the per-user default file).

    Nothing is connected yet: the database is opened, and created or upgraded, on first use.
    `actor` and `command` are what its journal records of each change: who made it, and the
    command line that did (without global options such as `--db`).
    """
    from crmcli.store.db import Database

    return Database(resolve_target(target), notify=notify, actor=actor, command=command)


# -- where the database lives ------------------------------------------------------------------


def resolve_target(explicit: str | None) -> str:
    """The database to use: `explicit` (`--db`), else `CRM_DB`, else the per-user default."""
    from crmcli.store import location

    return location.resolve_target(explicit)


def data_dir() -> Path:
    """The per-user data folder, e.g. ~/.local/share/crmcli on Linux."""
    from crmcli.store import location

    return location.data_dir()


def demo_target() -> str:
    """The separate demo database: never the user's real one."""
    from crmcli.store import location

    return location.demo_target()


def is_url(target: str) -> bool:
    """True when `target` is a database URL rather than a file path."""
    from crmcli.store import location

    return location.is_url(target)


def sqlite_path(target: str) -> Path | None:
    """The file of a SQLite target (a plain path or a sqlite:/// URL), else None."""
    from crmcli.store import location

    return location.sqlite_path(target)


# -- what is safe to print ---------------------------------------------------------------------


def redact(text: str) -> str:
    """`text` with the password of every database URL (or `password=…`) in it as `***`."""
    from crmcli.store import location

    return location.redact(text)


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
