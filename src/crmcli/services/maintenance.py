"""Database maintenance use cases: init, check, backup, migrate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crmcli.domain.records import record
from crmcli.errors import Duplicate, ValidationError
from crmcli.i18n import _
from crmcli.store.db import Database
from crmcli.store.location import resolve_target


@record
class CheckResult:
    """What `db check` found."""

    path: str
    schema: str
    leads: int
    opportunities: int
    problems: list[str]
    checked: str
    """What was checked, in a few words: never an "ok" that checked nothing."""


def check_database(db: Database) -> CheckResult:
    """Integrity and foreign-key checks, with a few counts."""
    applied = db.applied_migrations()
    problems, checked = db.check()
    return CheckResult(
        path=db.display,
        schema=applied[-1] if applied else "",
        leads=db.count("lead"),
        opportunities=db.count("opportunity"),
        problems=problems,
        checked=checked,
    )


@record
class BackupResult:
    """A verified backup."""

    path: str
    bytes: int


def backup_database(db: Database, dest: Path, *, force: bool = False) -> BackupResult:
    """A consistent copy via SQLite's online backup, 0600, verified by an integrity check.

    Without `force` an existing file is never replaced (checked again atomically when the
    verified copy is put in place).
    """
    dest = dest.expanduser()
    if dest.is_dir():
        raise ValidationError(f"{dest} is a directory: give a file name")
    if dest.exists() and not force:
        raise Duplicate(f"{dest} exists: pass --force to overwrite it")
    if db.path is not None and dest.resolve() == db.path.resolve():
        raise ValidationError("the backup must not be the database itself")
    db.backup_to(dest, replace=force)  # verified (integrity_check) before it takes the name
    return BackupResult(str(dest), dest.stat().st_size)


def migrate_database(db: Database) -> list[str]:
    """Apply pending migrations (a backup is taken first when the database holds data)."""
    return db.upgrade(backup=True)


@record
class InitResult:
    """A database ready for use."""

    path: str
    currency: str
    schema: str
    previous_currency: str | None = None
    """The currency it had before this `db init --currency` changed it (None: unchanged)."""


def init_database(
    target: str | None, *, currency: str | None, notify: Callable[[str], None]
) -> InitResult:
    """Create (or open) the database with `currency`; an existing database changes to it
    only while it stores no amount yet."""
    code = currency.strip().upper() if currency else None
    if code is not None and (len(code) != 3 or not code.isalpha()):
        raise ValidationError(
            _('currency: "{value}" is not a 3-letter ISO 4217 code').format(value=currency)
        )
    db = Database(resolve_target(target), notify=notify, currency=code, announce=False)
    previous = None
    with db.write() as uow:
        current = uow.settings.get("currency") or ""
        if code is not None and code != current:
            if uow.settings.amounts_stored():
                raise ValidationError(
                    _(
                        "currency: this database already stores amounts in {current}; to"
                        " change it, export it (`crm export --format json > all.json`), set"
                        ' "currency" in the file, and import that into a new database'
                        " (`crm --db new.db import all.json`)"
                    ).format(current=current)
                )
            uow.settings.set("currency", code)
            uow.commit()
            previous, current = current, code
    applied = db.applied_migrations()
    return InitResult(db.display, current, applied[-1] if applied else "", previous)
