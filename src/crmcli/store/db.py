"""Connections and transactions: file safety, SQLite pragmas, BEGIN IMMEDIATE, schema
upgrades; a server's URL and its psycopg connections."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmcli import clock, interrupts, outfiles
from crmcli.domain import values
from crmcli.errors import StorageError
from crmcli.i18n import N_, _
from crmcli.store import location
from crmcli.store.migrations import MIGRATIONS, MIGRATIONS_TABLE_SQL, known_names
from crmcli.store.sql import Conn, PsycopgConn, SqliteConn

if TYPE_CHECKING:
    from crmcli.store.uow import AfterCommit, UnitOfWork

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a table that does not exist


def _quiet(_: str) -> None:
    return None


def prepare_sqlite_file(path: Path) -> bool:
    """Refuse what is not ours (a FIFO, a device, a dangling link…); create a new database 0600 in a 0700 folder. True if it is new.

    A new file appears under its name only once it already holds a SQLite header (it is made
    beside it under a temporary name and hard-linked into place), so a crmcli database is
    never empty: an empty file at `path` is something else, and is refused untouched.
    """
    try:
        return _prepare_sqlite_file(path)
    except (OSError, sqlite3.Error) as exc:
        full = full_disk(path, exc)
        if full is not None:
            raise full from None
        if isinstance(exc, sqlite3.Error):
            raise StorageError(f"cannot create {path}: {exc}") from None
        raise StorageError(f"cannot use {path}: {exc.strerror or exc}") from None


_NOT_REGULAR = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _kind(mode: int) -> str | None:
    """What a file that is not a regular one is ("a named pipe (FIFO)"), None if regular."""
    if stat.S_ISREG(mode):
        return None
    return _NOT_REGULAR.get(stat.S_IFMT(mode), "something other than a file")


def _read_head(path: Path) -> bytes:
    """The first 100 bytes (the database header) of the regular file `path`, never opening
    anything else for reading.

    A FIFO or a device is refused by its `stat` before any open (opening a FIFO blocks for
    ever); the file is then opened non-blocking and checked again, in case it was swapped.
    """
    kind = _kind(path.stat().st_mode)
    if kind is None:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            kind = _kind(os.fstat(fd).st_mode)
            if kind is None:
                return os.read(fd, 100)
        finally:
            os.close(fd)
    raise StorageError(
        f"{path} is {kind}, not a regular file: a crmcli database is a file (refusing to open it)"
    )


def _prepare_sqlite_file(path: Path) -> bool:
    if not path.exists() and path.is_symlink():
        points = os.readlink(path)
        raise StorageError(
            f"{path} is a symbolic link to {points}, which does not exist: create the "
            f"database there (crm --db {points} db init) or remove the link"
        )
    if path.exists():
        if path.is_dir():
            raise StorageError(f"{path} is a directory, not a database file")
        try:
            head = _read_head(path)
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror}") from None
        if not head:
            raise StorageError(
                f"{path} is an empty file, not a crmcli database (refusing to touch it); "
                "remove it, or give another --db, and crmcli will create a database there"
            )
        if head[:16] != SQLITE_MAGIC:
            raise StorageError(f"{path} is not a SQLite database (refusing to touch it)")
        if len(head) == 100 and (
            head[18] not in (1, 2) or head[19] not in (1, 2) or head[21:24] != b"\x40\x20\x20"
        ):
            # versions 1 or 2, payload fractions 64/32/32: SQLite's own fixed header values.
            # Checked first because a damaged header that claims WAL mode (2) would make
            # SQLite create -wal/-shm files beside it before it notices the damage.
            raise StorageError(
                f"{path} cannot be read as a database: its header is damaged (refusing to touch it)"
            )
        _check_writable(path)
        return False
    folder = path.parent
    try:
        for parent in reversed([folder, *folder.parents]):
            if not parent.exists():
                parent.mkdir(mode=0o700)
        return _create_database_file(path)
    except OSError as exc:
        raise full_disk(path, exc) or StorageError(
            f"cannot create {path}: {exc.strerror or exc}"
        ) from None


def _check_writable(path: Path) -> None:
    """SQLite in WAL mode writes the file and creates `-wal`/`-shm` beside it, even to read."""
    try:
        os.close(os.open(path, os.O_RDWR))
    except PermissionError:
        raise StorageError(
            f"{path} is read-only: crmcli needs to write to the database file"
        ) from None
    folder = path.parent
    if not Path(f"{path}-wal").exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(
            f"the folder {folder} is read-only: SQLite needs to create {path.name}-wal there"
        )


def _create_database_file(path: Path) -> bool:
    """Write an empty WAL-mode SQLite file beside `path`, then link it into place.

    Returns False when another process created `path` first (its file is used instead).
    """
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)  # mkstemp made it 0600
    try:
        raw = sqlite3.connect(temp)
        try:
            raw.execute("PRAGMA journal_mode = WAL")  # writes the header page
        finally:
            raw.close()
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: copy, never over an existing file
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return False
            with os.fdopen(out, "wb") as handle:
                handle.write(Path(temp).read_bytes())
    finally:
        for leftover in (temp, f"{temp}-wal", f"{temp}-shm"):
            with suppress(FileNotFoundError):
                os.unlink(leftover)
    os.chmod(path, 0o600)
    return True


def inspect_sqlite_schema(path: Path) -> list[str] | None:
    """Applied migration names of an existing file, read without modifying it.

    Returns None for a database with no tables at all; raises StorageError for a SQLite file
    that is not a crmcli database or was written by a newer crmcli.

    When no connection has the file open (no `-wal` or `-shm` beside it), it is read as
    immutable, so refusing it does not even leave empty `-wal`/`-shm` files behind; if one
    appears meanwhile, or that read fails, it is read again the ordinary read-only way.
    """
    found: tuple[set[str], list[str]] | None = None
    if not _has_wal_files(path):
        try:
            found = _read_schema(path, immutable=True)
        except sqlite3.Error:
            found = None
        if _has_wal_files(path):  # a writer arrived while we read: trust only a shared read
            found = None
    if found is None:
        try:
            found = _read_schema(path, immutable=False)
        except sqlite3.DatabaseError as exc:
            raise full_disk(path, exc) or StorageError(
                f"{path} cannot be read as a database: {exc}"
            ) from None
    tables, applied = found
    if not tables - {"sqlite_sequence"}:
        return None
    if "crm_migrations" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise StorageError(
            f"{path} is a SQLite database but not a crmcli one (tables: {shown}); "
            "refusing to touch it"
        )
    check_known(applied, str(path))
    return applied


def _has_wal_files(path: Path) -> bool:
    return Path(f"{path}-wal").exists() or Path(f"{path}-shm").exists()


def _read_schema(path: Path, *, immutable: bool) -> tuple[set[str], list[str]]:
    """The table names and recorded migrations of a file, through a read-only connection."""
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    try:
        raw = sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise full_disk(path, exc) or StorageError(f"cannot open {path}: {exc}") from None
    try:
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        applied: list[str] = []
        if "crm_migrations" in tables:
            applied = [r[0] for r in raw.execute("SELECT name FROM crm_migrations")]
        return tables, applied
    finally:
        raw.close()


FULL_DISK_SLACK = 1 << 20
"""Below this many free bytes, an I/O error of SQLite's on the disk is taken for a full disk."""


def full_disk(path: Path, exc: BaseException) -> StorageError | None:
    """The refusal naming a full disk, when that is why `exc` (SQLite's or the system's) came.

    Certain for SQLITE_FULL ("database or disk is full") and ENOSPC; for SQLite's "disk I/O
    error" (it cannot grow the `-shm` file, even to read) when the folder has less than
    FULL_DISK_SLACK free. Else None: the caller's own message stands.
    """
    import errno

    text = str(exc)
    name = str(getattr(exc, "sqlite_errorname", ""))
    certain = (
        name == "SQLITE_FULL"
        or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
        or "database or disk is full" in text
    )
    io_error = name.startswith("SQLITE_IOERR") or "disk I/O error" in text
    if not (certain or io_error):
        return None
    folder = path.expanduser().absolute().parent
    try:
        found = os.statvfs(folder)
        free: int | None = found.f_bavail * found.f_frsize
    except OSError:
        free = None
    if not certain and (free is None or free >= FULL_DISK_SLACK):
        return None
    left = "" if free is None else f" ({free:,} bytes free)"
    why = getattr(exc, "strerror", None) or (text.splitlines()[0] if text else type(exc).__name__)
    return StorageError(
        f"the disk holding {folder} is full{left}: free some space there, or give --db "
        f"another place ({why})"
    )


def check_known(applied: list[str], where: str) -> None:
    """Refuse a schema that has migrations this version does not know."""
    unknown = sorted(set(applied) - set(known_names()))
    if unknown:
        raise StorageError(
            f"{where} was written by a newer crmcli (schema {unknown[-1]}); "
            "upgrade crmcli to use it (the database was not modified)"
        )


WRITE_CACHE_KIB = 16_384
"""SQLite's page cache of a write transaction (its default is 2 MiB): a bulk import's dirty
index pages stay in memory until COMMIT instead of spilling to the WAL again and again
(100k leads: 4.9 -> 4.4 s; pages are taken only as used, so a small write costs nothing)."""


class Database:
    """One crmcli database: opened lazily, upgraded on first use, used through units of work.

    `actor` and `command` are what the journal records of every change set written here;
    `after_commit` gets the events of each unit of work that commits (the hooks).
    """

    def __init__(
        self,
        target: str,
        *,
        notify: Callable[[str], None] = _quiet,
        currency: str | None = None,
        announce: bool = True,
        actor: str | None = None,
        command: str | None = None,
        after_commit: AfterCommit | None = None,
    ) -> None:
        self.target = target
        self.currency = currency
        self.announce = announce
        self.notify = notify
        self.actor = actor
        self.command = command
        self.after_commit = after_commit
        self.path = location.sqlite_path(target)
        self._server: dict[str, str] | None = None
        self._idle: list[Any] = []
        """A server's psycopg connections between units of work (reused: one per process,
        unless units are nested or run in threads)."""
        self._ready = False

    @property
    def display(self) -> str:
        """Where the database is, safe to print (no password)."""
        return str(self.path) if self.path is not None else location.redact(self.target)

    # -- opening -----------------------------------------------------------------------------

    def open(self) -> None:
        """Make sure the database exists with every migration applied (once per process).

        A SQLite file that is already up to date is only checked, read-only; a new file is
        created, an older one backed up and upgraded. All of it on the stdlib driver.
        """
        if self._ready:
            return
        pending_backup = False
        if self.path is not None:
            new = prepare_sqlite_file(self.path)
            if not new:
                applied = inspect_sqlite_schema(self.path)
                if applied is not None and len(set(applied)) >= len(MIGRATIONS):
                    self._ready = True
                    return
                pending_backup = applied is not None
        else:
            applied = self._server_migrations()
            if applied is not None:
                check_known(applied, self.display)
                if len(set(applied)) >= len(MIGRATIONS):
                    self._ready = True
                    return
        self._ready = True
        self._migrate(backup=pending_backup)

    def _server_migrations(self) -> list[str] | None:
        """The migrations a server's schema records; None when it has no `crm_migrations`
        table yet. An up-to-date server is only read, as an up-to-date file is: one statement
        on its own (autocommit: no BEGIN and ROLLBACK, two round trips fewer per command)."""
        interrupts.checkpoint()
        raw = self._server_connection()
        try:
            raw.autocommit = True
            try:
                return [r[0] for r in raw.execute("SELECT name FROM crm_migrations")]
            except Exception as exc:
                if getattr(exc, "sqlstate", None) == UNDEFINED_TABLE:
                    return None
                raise
        finally:
            if not raw.closed and not raw.broken:
                raw.autocommit = False
            self._release(raw)

    def server_params(self) -> dict[str, str]:
        """The libpq keywords of the server's connections (URL and driver checked once)."""
        if self._server is None:
            params = server_params(self.target)
            _psycopg()  # a missing driver is said before anything connects
            self._server = params
        return self._server

    def upgrade(self, *, backup: bool = True) -> list[str]:
        """Apply the migrations this database still lacks once opened (`crm db migrate`)."""
        self.open()
        return self._migrate(backup=backup)

    def _migrate(self, *, backup: bool) -> list[str]:
        """Apply the migrations this database lacks, once, taking a backup first if it has data."""
        with self._connect(write=True) as conn:
            if conn.dialect.migration_turn:
                # BEGIN IMMEDIATE's part on a server: one upgrader at a time, the others wait
                # here and then find the migrations applied.
                conn.rows(conn.dialect.migration_turn)
            conn.run(MIGRATIONS_TABLE_SQL.format(**conn.dialect.words))
            applied = [r[0] for r in conn.rows("SELECT name FROM crm_migrations")]
            check_known(applied, self.display)
            todo = [m for m in MIGRATIONS if m.name not in applied]
            if not todo:
                return []
            if applied and backup and self.path is not None:
                copy = self.backup_path(applied[-1])
                self.backup_to(copy)
                self.notify(f"backed up {self.path} to {copy} before upgrading its schema")
            for migration in todo:
                migration.apply(conn)
                conn.run(
                    "INSERT INTO crm_migrations (name, applied_at) VALUES (:n, :at)",
                    {"n": migration.name, "at": clock.utcnow()},
                )
            if applied:
                self.notify(f"upgraded the schema of {self.display} to {todo[-1].name}")
            else:
                currency = self.currency or values.locale_currency(os.environ)
                conn.run(
                    "INSERT INTO crm_meta (\"key\", value) VALUES ('currency', :v)",
                    {"v": currency},
                )
                _name_default_stages(conn)
                if self.announce:
                    self.notify(
                        _(
                            "created {path} (currency {currency}; `crm db init --currency"
                            " CODE` changes it while no amount is stored)"
                        ).format(path=self.display, currency=currency)
                    )
            with interrupts.deferred():
                conn.commit()
            return [m.name for m in todo]

    def applied_migrations(self) -> list[str]:
        """The names of the migrations recorded in this database."""
        with self.read() as uow:
            return [r[0] for r in uow.conn.rows("SELECT name FROM crm_migrations ORDER BY name")]

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[Conn]:
        """A `Conn` inside a new transaction, rolled back unless committed.

        SQLite: the stdlib driver on exactly the file `path` names; BEGIN IMMEDIATE for writes
        (one writer at a time), a deferred BEGIN for reads. PostgreSQL: writes run in READ
        COMMITTED and rely on unique constraints (ON CONFLICT) and row locks (SELECT … FOR
        UPDATE) where concurrent writers could clash; reads are READ ONLY REPEATABLE READ, one
        consistent snapshot for every query, as a SQLite read transaction is.
        """
        interrupts.checkpoint()  # a signal held back by an earlier commit stops us here
        if self.path is None:
            raw = self._server_connection()
            levels = _psycopg().IsolationLevel
            # psycopg says BEGIN ISOLATION LEVEL … [READ ONLY] itself, at the first statement
            raw.isolation_level = levels.READ_COMMITTED if write else levels.REPEATABLE_READ
            raw.read_only = not write
            server = PsycopgConn(raw)
            try:
                yield server
            finally:
                try:
                    server.rollback()
                finally:
                    self._release(raw)
            return
        raw = connect_sqlite(self.path)
        try:
            raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            raw.execute("PRAGMA foreign_keys = ON")
            if write:  # (WAL is kept in the file: for a file that some other tool reset)
                raw.execute("PRAGMA journal_mode = WAL")
                raw.execute("PRAGMA synchronous = NORMAL")
                raw.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
            raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            local = SqliteConn(raw)
            try:
                yield local
            finally:
                local.rollback()
        finally:
            raw.close()

    def _server_connection(self) -> Any:
        """An idle psycopg connection to the server: one left by an earlier unit, else new."""
        params = self.server_params()
        while True:
            try:
                raw = self._idle.pop()  # atomic: units in threads never share a connection
            except IndexError:
                return _psycopg().connect(**params)
            if not raw.closed and not raw.broken:
                return raw

    def _release(self, raw: Any) -> None:
        """Keep a connection whose unit is over for the next one, if it is idle and sound."""
        idle = _psycopg().pq.TransactionStatus.IDLE
        if raw.closed or raw.broken or raw.info.transaction_status != idle:
            raw.close()
        else:
            self._idle.append(raw)

    @contextmanager
    def unit(self, *, write: bool) -> Iterator[UnitOfWork]:
        """A unit of work: its repositories share one transaction; `uow.commit()` saves it,
        leaving without it rolls everything back."""
        from crmcli.store.uow import UnitOfWork

        self.open()
        with self._connect(write=write) as conn:
            yield UnitOfWork(
                conn,
                write=write,
                actor=self.actor,
                command=self.command,
                after_commit=self.after_commit,
            )

    def write(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work that may write (see `unit`)."""
        return self.unit(write=True)

    def read(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work that only reads: one consistent snapshot."""
        return self.unit(write=False)

    # -- maintenance -------------------------------------------------------------------------

    def backup_path(self, schema: str) -> Path:
        """A fresh name beside the database for a backup taken before an upgrade."""
        assert self.path is not None
        stamp = clock.utcnow().strftime("%Y%m%dT%H%M%S")
        return self.path.with_name(f"{self.path.name}.{schema}.{stamp}.bak")

    def backup_to(self, dest: Path, *, replace: bool = False) -> None:
        """A consistent copy of a SQLite database (online backup API), written 0600.

        Reads through a connection of its own, so it also works while the caller holds the
        write lock (as `upgrade` does: nobody can change the file between backup and migration).
        The copy is written to a temporary 0600 file beside `dest`, checked with
        `PRAGMA integrity_check`, and only then moved into place: an existing `dest` is replaced
        only when `replace` is true (atomically), and is never left half-written. `dest` goes
        through the guard of every file crm writes (`outfiles`): never the database or its
        `-wal`/`-shm`, and a device or FIFO gets the verified bytes written into it.
        """
        if self.path is None:
            raise StorageError("backup works on SQLite files only; use pg_dump for a server")
        with outfiles.staged(
            dest, "the backup", protect=outfiles.database_files(self.path), replace=replace
        ) as temp:
            source = connect_sqlite(self.path)
            target = sqlite3.connect(temp)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
                verdict = [row[0] for row in target.execute("PRAGMA integrity_check")]
            except sqlite3.OperationalError as exc:
                if "full" not in str(exc):
                    raise
                # "database or disk is full": the copy's disk; the temporary file goes
                raise StorageError(f"cannot write {dest}: No space left on device") from None
            finally:
                target.close()
                source.close()
            if verdict != ["ok"]:
                raise StorageError(f"the copy failed its integrity check: {verdict[0]}")

    def problems(self) -> list[str]:
        """What the database's checks report (empty when all is well); see `check`."""
        return self.check()[0]

    def check(self) -> tuple[list[str], str]:
        """The problems found, and what was checked (a few words, for the person who asked).

        SQLite: `PRAGMA integrity_check` (pages, indexes) and `foreign_key_check`.
        PostgreSQL checks its pages itself and enforces constraints on every write, unless they
        were switched off (`session_replication_role = replica`, disabled triggers, a
        constraint added `NOT VALID`): so every constraint is checked for being validated and
        enforced, and every foreign key's rows for pointing at a row that exists.
        """
        found: list[str] = []
        with self.read() as uow:
            conn = uow.conn
            if isinstance(conn, PsycopgConn):
                return _server_problems(conn)
            for (line,) in conn.rows("PRAGMA integrity_check"):
                if line != "ok":
                    found.append(f"integrity: {line}")
            for table, rowid, parent, _ in conn.rows("PRAGMA foreign_key_check"):
                found.append(f"foreign key: {table} row {rowid} points to a missing {parent}")
        return found, "SQLite integrity_check and foreign_key_check"

    def count(self, table: str) -> int:
        """Rows in one of our tables."""
        if table not in {"lead", "opportunity", "account", "contact", "stage"}:
            raise ValueError(table)
        with self.read() as uow:
            return int(uow.conn.scalar(f"SELECT COUNT(*) FROM {table}"))

    def dispose(self) -> None:
        """Close the server connections kept between units of work."""
        while self._idle:
            self._idle.pop().close()


_PRIMARY_KEYS = """
SELECT c.relname, (SELECT array_agg(a.attname::text ORDER BY k.n)
                   FROM unnest(p.conkey) WITH ORDINALITY AS k(attnum, n)
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum)
FROM pg_class c LEFT JOIN pg_constraint p ON p.conrelid = c.oid AND p.contype = 'p'
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
"""
"""Every table of the current schema, with its primary key's columns (NULL without one)."""
_FOREIGN_KEYS = """
SELECT c.relname, f.conname, r.relname,
       (SELECT array_agg(a.attname::text ORDER BY k.n)
        FROM unnest(f.conkey) WITH ORDINALITY AS k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum),
       (SELECT array_agg(a.attname::text ORDER BY k.n)
        FROM unnest(f.confkey) WITH ORDINALITY AS k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.attnum)
FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid JOIN pg_class r ON r.oid = f.confrelid
WHERE f.contype = 'f' AND c.relnamespace = current_schema()::regnamespace
ORDER BY f.conname
"""
"""Every foreign key of the current schema's tables: table, name, parent, both column lists."""


def _server_problems(conn: Conn) -> tuple[list[str], str]:
    """`Database.check` on PostgreSQL, in the current schema (see there)."""
    found: list[str] = []
    for table, name in conn.rows(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE connamespace = current_schema()::regnamespace AND NOT convalidated ORDER BY 1, 2"
    ):
        found.append(f"constraint: {name} on {table} is not validated (added NOT VALID)")
    for table, count in conn.rows(
        "SELECT tgrelid::regclass::text, count(*) FROM pg_trigger "
        "JOIN pg_class ON pg_class.oid = tgrelid "
        "WHERE pg_class.relnamespace = current_schema()::regnamespace "
        "AND tgconstraint <> 0 AND tgenabled = 'D' GROUP BY 1 ORDER BY 1"
    ):
        found.append(f"constraint: {count} foreign-key trigger(s) of {table} are disabled")
    primary = {table: columns or [] for table, columns in conn.rows(_PRIMARY_KEYS)}
    foreign: dict[str, list[tuple[str, list[str], list[str]]]] = {}
    for table, _name, parent, mine, theirs in conn.rows(_FOREIGN_KEYS):
        foreign.setdefault(table, []).append((parent, mine, theirs))
    keys = 0
    for table in sorted(primary):
        shown = primary[table][0] if len(primary[table]) == 1 else "ctid"
        for parent, mine_columns, their_columns in foreign.get(table, []):
            keys += 1
            pairs = list(zip(mine_columns, their_columns, strict=True))
            present = " AND ".join(f'c."{mine}" IS NOT NULL' for mine, _ in pairs)
            match = " AND ".join(f'p."{theirs}" = c."{mine}"' for mine, theirs in pairs)
            orphans = conn.rows(
                f'SELECT c."{shown}" FROM "{table}" c WHERE {present} '
                f'AND NOT EXISTS (SELECT 1 FROM "{parent}" p WHERE {match}) ORDER BY 1 LIMIT 100'
            )
            for (row,) in orphans:
                found.append(f"foreign key: {table} row {row} points to a missing {parent}")
    checked = (
        f"PostgreSQL: the rows of {keys} foreign keys, and every constraint validated and "
        "enforced (pages and indexes are the server's own to check: amcheck)"
    )
    return found, checked


DEFAULT_STAGES = (
    N_("Prospecting"),
    N_("Qualification"),
    N_("Needs analysis"),
    N_("Proposal"),
    N_("Negotiation"),
)
"""The stages migration 0001 creates, in English: a new database names them in the interface
language."""


def _name_default_stages(conn: Conn) -> None:
    """Give a new database's default stages their names in the interface language."""
    for english in DEFAULT_STAGES:
        name = _(english)
        if name != english:
            conn.run(
                "UPDATE stage SET name = :n, name_key = :k WHERE name_key = :old",
                {"n": name, "k": values.normalise_name(name), "old": english.lower()},
            )


def connect_sqlite(path: Path) -> sqlite3.Connection:
    """A stdlib connection to exactly the file `path` names.

    The one way crmcli opens a SQLite file for use: the name is handed to SQLite as it is,
    never through a URL, so `?` and `%41` in it are characters of the name (a `sqlite:///`
    URL would drop the query and percent-decode, and open another file than the one checked).
    """
    return sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )


PG_CONNECT_TIMEOUT_S = 30
"""Seconds to wait for a server to answer a connection (libpq `connect_timeout`)."""
PG_LOCK_TIMEOUT = f"{BUSY_TIMEOUT_MS}ms"
"""How long a statement waits for a lock held elsewhere: SQLite's busy timeout, 30 s."""
SERVER_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def unsupported_url(given: str) -> StorageError:
    """The refusal of a URL crmcli cannot use (`mysql://…`), naming what it can."""
    return StorageError(
        "unsupported database URL (crmcli supports SQLite files and postgresql://): "
        f"{location.redact(given)}"
    )


_SERVER_URL = re.compile(
    r"""
    (?P<scheme>[\w+]+)://
    (?:(?P<user>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?:(?:\[(?P<ipv6>[^/?]+)\]|(?P<host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?
    (?:/(?P<dbname>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X,
)
"""A server URL's parts, split as SQLAlchemy's `make_url` split them (a password runs to the
first `@`, and may hold `#` or `?`)."""


def server_params(url: str) -> dict[str, str]:
    """The libpq keywords of a PostgreSQL target URL, with crmcli's default timeouts.

    `connect_timeout` (a server that accepts and never answers) and `lock_timeout` (a lock
    held by another connection) are added unless the URL, or libpq's `PGCONNECT_TIMEOUT` /
    `PGOPTIONS`, already sets them; `lock_timeout` joins any `options` already given
    (`?options=-csearch_path%3Dteam`), and `PGOPTIONS` is kept (the URL's `options` would
    otherwise replace it). The query is read as SQLAlchemy read it (`+` is a space; a key given
    twice: the last, as libpq takes it).
    """
    from urllib.parse import parse_qsl, unquote

    if not url.startswith(SERVER_SCHEMES):
        raise unsupported_url(url)
    found = _SERVER_URL.match(url)
    port = found.group("port") if found is not None else None
    if found is None or (port and not port.isdigit()):  # a port that is not a number…
        raise StorageError(f"unsupported database URL: {location.redact(url)}") from None
    params: dict[str, str] = {}
    for key in ("user", "password", "dbname"):
        if found.group(key) is not None:
            params[key] = unquote(found.group(key))
    host = found.group("host") or found.group("ipv6")
    if host:
        params["host"] = unquote(host)  # libpq's form of a socket folder: %2Frun%2Fpostgresql
    if port:
        params["port"] = port
    params.update(parse_qsl(found.group("query") or ""))
    if "connect_timeout" not in params and not os.environ.get("PGCONNECT_TIMEOUT"):
        params["connect_timeout"] = str(PG_CONNECT_TIMEOUT_S)
    options = params.get("options", os.environ.get("PGOPTIONS", ""))
    if "lock_timeout" not in options:
        params["options"] = f"{options} -c lock_timeout={PG_LOCK_TIMEOUT}".strip()
    return params


def server_url(url: str) -> str:
    """A PostgreSQL target as the URL crmcli connects to (`server_params` written as a URL)."""
    from urllib.parse import quote, urlencode

    params = server_params(url)
    user = quote(params.pop("user", ""), safe="")
    password = params.pop("password", None)
    if password is not None:
        user += ":" + quote(password, safe="")
    host = params.pop("host", "")
    host = f"[{host}]" if ":" in host else quote(host, safe="")
    port = params.pop("port", None)
    where = f"{user}@{host}" if user else host
    where += f":{port}" if port else ""
    dbname = quote(params.pop("dbname", ""), safe="")
    return f"postgresql://{where}/{dbname}" + (f"?{urlencode(params)}" if params else "")


def _psycopg() -> Any:
    """The psycopg module, or the one line that says how to install it."""
    try:
        import psycopg
    except ImportError:  # ModuleNotFoundError, or psycopg without a usable libpq
        raise StorageError(
            "PostgreSQL needs the psycopg driver: pip install 'crmcli[postgres]'"
        ) from None
    return psycopg
