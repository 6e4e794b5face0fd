"""The one guard of every file crm writes: `export -o`, `lead/opp import --rejects`, `db backup`.

Before any work is done, a target is refused (one line naming the option and the path) when it
is the database in use or one of its `-wal`/`-shm`/`-journal` files, or the file being read —
compared by device and inode when they exist, so symlinks and hard links count, and by resolved
path otherwise — and when it is a directory or its folder does not exist.

A regular file (or a new one) is written through a 0600 temporary file beside it, flushed to
disk and renamed over the target, so it is either the old file or the whole new one; on any
failure, a full disk included, the temporary file is removed and the error is one line
(`cannot write FILE: No space left on device`). A target that exists and is not a regular file
(a FIFO, a device, `/dev/stdout` pointing at a pipe or a terminal) is opened and written
directly: never renamed over, which would replace the node itself.

Imports only the standard library and `crmcli.errors`: the CLI and the store both use it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import IO

from crmcli.errors import Duplicate, StorageError, ValidationError
from crmcli.i18n import _

SIDECARS = ("-wal", "-shm", "-journal")

Protected = tuple[Path | int, str]
"""A file that must never be written over (a path, or an open descriptor) and what it is."""


def database_files(path: Path | None) -> list[Protected]:
    """The database file (None for a server: nothing to protect) and its SQLite companions."""
    if path is None:
        return []
    found: list[Protected] = [(path, _("the database itself"))]
    found += [
        (Path(f"{path}{s}"), _("the database's {suffix} file").format(suffix=s)) for s in SIDECARS
    ]
    return found


def input_file(source: str) -> list[Protected]:
    """The file an import reads (`-`: standard input, when it is a regular file)."""
    if source != "-":
        return [(Path(source), _("the file being imported"))]
    with suppress(OSError, ValueError):
        if stat.S_ISREG(os.fstat(0).st_mode):
            return [(0, _("the file being imported (standard input)"))]
    return []


def _same(target: Path, other: Path | int) -> bool:
    """Whether `target` names `other`: same device and inode, or the same resolved path."""
    try:
        mine = os.stat(target)
        theirs = os.fstat(other) if isinstance(other, int) else os.stat(other)
    except (OSError, ValueError):
        if isinstance(other, int):
            return False
        return os.path.realpath(target) == os.path.realpath(other)
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


def _where(path: Path, option: str) -> str:
    return f"{path} ({option})"


class Output:
    """One file crm writes. Constructing it checks the target; `open` starts writing.

    Use as a context manager (`with Output(path, "--output") as out: out.write(...)`: finished
    on success, discarded on any exception), or call `open`, `write`, `finish` / `discard`.
    `replace=False` never replaces an existing file (checked atomically when it takes the name).
    """

    def __init__(
        self,
        target: Path,
        option: str,
        *,
        protect: Iterable[Protected] = (),
        replace: bool = True,
    ) -> None:
        self.path = Path(os.path.expanduser(target))
        self.option = option
        self.replace = replace
        for other, what in protect:
            if _same(self.path, other):
                raise ValidationError(
                    _("{option} {path} is {what}; refusing to write over it").format(
                        option=option, path=self.path, what=what
                    )
                )
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            found = None
        except OSError as exc:
            raise StorageError(
                _("cannot write {target}: {reason}").format(
                    target=_where(self.path, option), reason=exc.strerror
                )
            ) from None
        if found is not None and stat.S_ISDIR(found.st_mode):
            raise ValidationError(
                _("cannot write {target}: it is a directory").format(
                    target=_where(self.path, option)
                )
            )
        self.direct = found is not None and not stat.S_ISREG(found.st_mode)
        # a symlink to a regular file keeps its link: the file it points at is replaced
        self.final = self.path if self.direct else Path(os.path.realpath(self.path))
        folder = self.final.parent
        if not self.direct and not folder.is_dir():
            raise ValidationError(
                _("cannot write {target}: the folder {folder} does not exist").format(
                    target=_where(self.path, option), folder=folder
                )
            )
        if found is not None and not replace and not self.direct:
            raise _exists(self.path)
        self.temp: str | None = None
        self.made: list[str] = []  # every temporary name tried (see `staged`)
        self._handle: IO[str] | None = None

    # -- writing text ----------------------------------------------------------------------

    def open(self, *, encoding: str = "utf-8", errors: str = "strict") -> Output:
        """Create the 0600 temporary file (or open the device or FIFO itself); text is written
        in `encoding` (UTF-8 unless a caller writes back a file's own encoding)."""
        try:
            if self.direct:
                self._handle = open(  # noqa: SIM115
                    self.path, "w", encoding=encoding, errors=errors, newline=""
                )
            else:
                fd = self._make_temp()
                self._handle = os.fdopen(fd, "w", encoding=encoding, errors=errors, newline="")
        except OSError as exc:
            self.discard()
            raise self._error(exc) from None
        except BaseException:  # Ctrl-C or SIGTERM right here: `with` would not call __exit__
            self.discard()
            raise
        return self

    def write(self, text: str) -> int:
        """Write `text`; a failure (a full disk) discards the file and is one StorageError."""
        assert self._handle is not None, "open() first"
        try:
            return self._handle.write(text)
        except OSError as exc:
            self.discard()
            raise self._error(exc) from None

    def finish(self) -> None:
        """Flush to disk and give the file its name; on failure nothing is left behind."""
        handle, self._handle = self._handle, None
        try:
            if handle is not None:
                try:
                    handle.flush()
                    if not self.direct:
                        os.fsync(handle.fileno())
                finally:
                    handle.close()
            if self.temp is not None:
                self.install(self.temp)
        except OSError as exc:
            self.discard()
            raise self._error(exc) from None

    def discard(self) -> None:
        """Close and remove the temporary file, if any; never raises."""
        handle, self._handle = self._handle, None
        if handle is not None:
            with suppress(OSError, ValueError):
                handle.close()
        temp, self.temp = self.temp, None
        if temp is not None:
            with suppress(OSError):
                os.unlink(temp)

    def __enter__(self) -> Output:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.discard()

    # -- for writers that need a file name (SQLite's backup) --------------------------------

    def _make_temp(self) -> int:
        """Create the temporary file 0600; its name is recorded before it exists, so an
        interrupt at any moment leaves `discard` something to remove (mkstemp returns it only
        after creating the file)."""
        for _attempt in range(100):
            self.temp = str(self.final.parent / f".{self.final.name}.{os.urandom(4).hex()}.tmp")
            self.made.append(self.temp)
            try:
                return os.open(
                    self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
                )
            except FileExistsError:
                continue
        raise FileExistsError(errno.EEXIST, "no free temporary name", str(self.final.parent))

    def install(self, temp: str) -> None:
        """Put the finished file `temp` in place: renamed (or linked, without `replace`) over
        the target, or, for a device or FIFO, its bytes copied into it."""
        if self.direct:
            with open(temp, "rb") as source, open(self.path, "wb") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
            os.unlink(temp)
        elif self.replace:
            os.replace(temp, self.final)
        else:
            _link_no_clobber(temp, self.final, self.path)
        if self.temp == temp:
            self.temp = None

    def _error(self, exc: OSError) -> StorageError:
        return StorageError(
            _("cannot write {target}: {reason}").format(
                target=self.path, reason=exc.strerror or exc
            )
        )


@contextmanager
def staged(
    target: Path, option: str, *, protect: Iterable[Protected] = (), replace: bool = True
) -> Iterator[str]:
    """A 0600 temporary file name beside `target` for a writer that needs a name; once the
    body succeeds it is put in place (see `Output.install`); on any failure it is removed,
    with SQLite's `-journal` beside it."""
    out = Output(target, option, protect=protect, replace=replace)
    try:
        os.close(out._make_temp())
        temp = out.temp
        assert temp is not None
        yield temp
        out.install(temp)
    except OSError as exc:
        raise out._error(exc) from None
    finally:  # also after Ctrl-C or SIGTERM at any moment
        for made in out.made:
            for leftover in (made, f"{made}-journal"):
                with suppress(FileNotFoundError):
                    os.unlink(leftover)


def _link_no_clobber(temp: str, final: Path, shown: Path) -> None:
    """Give `temp` the name `final` unless it exists (atomic where hard links work)."""
    try:
        os.link(temp, final)
    except FileExistsError:
        raise _exists(shown) from None
    except OSError:  # no hard links on this file system
        if final.exists():
            raise _exists(shown) from None
        os.replace(temp, final)
        return
    os.unlink(temp)


def _exists(path: Path) -> Duplicate:
    return Duplicate(_("{file} exists: pass --force to overwrite it").format(file=path))
