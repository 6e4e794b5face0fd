"""Helpers of the reliability tests: real `python -m crmcli` processes on real files."""

from __future__ import annotations

import ctypes
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Ran:
    """A finished process: exit code and decoded output."""

    code: int
    stdout: str
    stderr: str

    def one_line_error(self) -> str:
        """The stderr of a refused command: exactly one line, never a traceback."""
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got: {self.stderr!r}"
        return lines[0]


def crm_env(db: Path | str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a child `crm`: the test's env, with CRM_DB and the extras set."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **extra}
    if db is not None:
        env["CRM_DB"] = str(db)
    return env


_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _drop_file_override() -> None:
    """In a child about to exec: drop root's power to ignore file modes (Linux capabilities)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def preexec(*, umask: int | None = None, honour_modes: bool = False) -> Callable[[], None]:
    """A preexec_fn: set the umask; with honour_modes, make even root obey file modes."""

    def run() -> None:
        if umask is not None:
            os.umask(umask)
        if honour_modes and os.geteuid() == 0:
            _drop_file_override()

    return run


def crm(
    *args: str,
    db: Path | str | None = None,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    umask: int | None = None,
    honour_modes: bool = False,
    timeout: float = 120,
) -> Ran:
    """Run `python -m crmcli ARGS` to completion."""
    proc = subprocess.run(
        [sys.executable, "-m", "crmcli", *args],
        env=env if env is not None else crm_env(db),
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=timeout,
        preexec_fn=preexec(umask=umask, honour_modes=honour_modes),
    )
    return Ran(
        proc.returncode,
        proc.stdout.decode("utf-8", errors="replace"),
        proc.stderr.decode("utf-8", errors="replace"),
    )


def is_server(db: Path | str) -> bool:
    """True for a PostgreSQL URL (the tests' `backend_url` on the server backend)."""
    return str(db).startswith(("postgresql://", "postgres://"))


def integrity(db_path: Path | str) -> list[str]:
    """`PRAGMA integrity_check` and `foreign_key_check` problems of a file (empty when fine).

    A PostgreSQL server checks its own constraints on every write: nothing to ask there.
    """
    if is_server(db_path):
        return []
    conn = sqlite3.connect(db_path)
    try:
        found = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        found += [repr(r) for r in conn.execute("PRAGMA foreign_key_check")]
        return found
    finally:
        conn.close()


def rows(db_path: Path | str, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    """The rows of one query, through the stdlib driver (it recovers a WAL left by a kill), or
    psycopg for a PostgreSQL URL (`?` placeholders either way)."""
    if is_server(db_path):
        import psycopg

        with psycopg.connect(str(db_path)) as server:
            found = server.execute(sql.replace("?", "%s"), list(params)).fetchall()
            return [tuple(r) for r in found]
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


def dump(db_path: Path) -> list[str]:
    """The whole database as SQL text: two equal dumps mean equal contents."""
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def has_open(pid: int, target: Path) -> bool:
    """Whether process `pid` has `target` open (Linux /proc)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(target):
                return True
        except OSError:
            continue
    return False


def wal_size(db_path: Path) -> int:
    """The size of the database's WAL file (0 without one)."""
    try:  # the WAL goes away when the last connection closes: no exists-then-stat race
        return Path(f"{db_path}-wal").stat().st_size
    except FileNotFoundError:
        return 0


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes], what: str) -> None:
    """Wait (at most 30 s) until `condition()` holds or `proc` has ended."""
    deadline = time.monotonic() + 30
    while not condition() and proc.poll() is None:
        assert time.monotonic() < deadline, f"the command never {what}"
        time.sleep(0.002)


def kill_after(
    proc: subprocess.Popen[bytes],
    db_path: Path,
    delay: float,
    *,
    writing: bool,
    opened: Path | None,
    wal_before: int | None = None,
    must_succeed: bool = False,
) -> str:
    """SIGKILL `proc` `delay` s after it opened `opened` (None: no wait) or, with `writing`,
    after its transaction began writing to the WAL (grown past `wal_before`, else past its
    size once opened). "finished" when it ended first (exit 0 if `must_succeed`), else where
    the kill landed: "reading" or "writing". Its stderr never holds a traceback."""
    try:
        if opened is not None:
            wait_for(lambda: has_open(proc.pid, opened), proc, f"opened {opened.name}")
        before = wal_size(db_path) if wal_before is None else wal_before
        if writing:
            wait_for(lambda: wal_size(db_path) > before, proc, "wrote to the WAL")
        time.sleep(delay)
        if proc.poll() is not None:
            if must_succeed:
                assert proc.returncode == 0, proc.returncode
            return "finished"
        state = "writing" if wal_size(db_path) > before else "reading"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        return state
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        assert "Traceback" not in stderr, stderr


def on_terminal(
    *args: str, env: dict[str, str], columns: int = 80, lines: int = 24, timeout: float = 60
) -> tuple[int, str]:
    """Run `python -m crmcli ARGS` with a pseudo-terminal of `columns` x `lines` as its
    stdin, stdout and stderr; its exit code and everything it wrote (newlines as `\\n`)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    sized = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmcli", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=sized,
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
