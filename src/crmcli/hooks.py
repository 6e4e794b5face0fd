"""Hooks: an executable named after an event, run after the change it is about committed.

The hooks folder is `CRM_HOOKS_DIR`, else `hooks/` in the user config folder (platformdirs:
~/.config/crmcli/hooks on Linux). A hook gets one JSON object on stdin,
`{"event", "change_set", "records": [...]}` (records in the shapes of `--json`), and
`CRM_EVENT` (and `CRM_CHANGE_SET`) in its environment. Its stdout goes to crm's stderr, so
crm's own output stays clean; its stderr is crm's stderr.

A hook never changes what the command did: one that fails, cannot start, or runs past
`TIMEOUT_S` (its whole process group is killed) gets one warning line, and the command's
output and exit code stand. A hook file or folder that group or others may write, or that is
not the user's own, is not run (one warning line). A missing folder costs one `os.stat`, and
`subprocess` is imported only when a hook file exists. See docs/hooks.md.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmcli.i18n import _
from crmcli.jsondata import jsonable

if TYPE_CHECKING:
    import subprocess

EVENTS = (
    "lead-added",
    "lead-qualified",
    "lead-converted",
    "opp-stage-changed",
    "opp-won",
    "opp-lost",
    "import-finished",
)
"""Every event a hook can be named after."""

TIMEOUT_S = 10.0
"""How long a hook may run before its process group is killed."""

TIMEOUT_ENV = "CRM_HOOK_TIMEOUT"
"""Seconds instead of TIMEOUT_S: for the test suite only, not a user setting."""

Event = tuple[str, list[Any]]


def enabled() -> bool:
    """False when `CRM_NO_HOOKS` is set to anything but empty or `0`."""
    return os.environ.get("CRM_NO_HOOKS", "").strip() in ("", "0")


def folder() -> Path:
    """The hooks folder: `CRM_HOOKS_DIR`, else `hooks/` in the user config folder."""
    given = os.environ.get("CRM_HOOKS_DIR")
    if given:
        return Path(given).expanduser()
    from platformdirs import user_config_dir

    from crmcli.store.location import APP_NAME

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "hooks"


def timeout() -> float:
    """TIMEOUT_S, or the test suite's `CRM_HOOK_TIMEOUT`."""
    try:
        given = float(os.environ.get(TIMEOUT_ENV, ""))
    except ValueError:
        return TIMEOUT_S
    return given if given > 0 else TIMEOUT_S


def payload(event: str, change_set: int | None, records: list[Any]) -> bytes:
    """What a hook reads on stdin: one JSON object and a newline, UTF-8."""
    import json

    data = {"event": event, "change_set": change_set, "records": [jsonable(r) for r in records]}
    return (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")


def _unsafe(path: Path, found: os.stat_result) -> str | None:
    """Why a hook file or folder must not be trusted, or None."""
    if found.st_uid != os.geteuid():
        return _("{path} is not owned by you").format(path=path)
    if found.st_mode & 0o022:
        return _("{path} is writable by group or others (chmod go-w {path})").format(path=path)
    return None


class HookRunner:
    """The `after_commit` of a database whose commands run hooks (`UnitOfWork.emit`)."""

    def __init__(
        self,
        notify: Callable[[str], None],
        *,
        where: Path | None = None,
        seconds: float | None = None,
    ) -> None:
        self.notify = notify
        self.where = where
        self.seconds = seconds

    def __call__(self, change_set: int | None, events: list[Event]) -> None:
        """Run the hook of each event, in order; never raises but for an interrupt."""
        try:
            self._run_all(change_set, events)
        except Exception as exc:  # a hook never changes what the command did
            self.notify(
                _("warning: hooks: {error}: {message}").format(
                    error=type(exc).__name__, message=exc
                )
            )

    def _warn(self, event: str, why: str) -> None:
        self.notify(
            _("warning: hook {event} {problem} (the change itself is saved)").format(
                event=event, problem=why
            )
        )

    def _run_all(self, change_set: int | None, events: list[Event]) -> None:
        base = self.where if self.where is not None else folder()
        try:
            here = os.stat(base)
        except (FileNotFoundError, NotADirectoryError):
            return  # no hooks folder: the usual case, and free
        except OSError as exc:
            self.notify(
                _("warning: hooks not run: cannot read {path}: {reason}").format(
                    path=base, reason=exc.strerror
                )
            )
            return
        if not stat.S_ISDIR(here.st_mode):
            return
        found: list[tuple[str, list[Any], Path, os.stat_result]] = []
        for event, records in events:
            path = base / event
            try:
                found.append((event, records, path, os.stat(path)))
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                self._warn(
                    event,
                    _("not run: cannot read {path}: {reason}").format(
                        path=path, reason=exc.strerror
                    ),
                )
        if not found:
            return
        why = _unsafe(base, here)
        if why is not None:
            names = ", ".join(dict.fromkeys(event for event, *_rest in found))
            self.notify(
                _("warning: hooks not run ({events}): the folder {problem}").format(
                    events=names, problem=why
                )
            )
            return
        for event, records, path, info in found:
            self._run_one(event, change_set, records, path, info)

    def _run_one(
        self,
        event: str,
        change_set: int | None,
        records: list[Any],
        path: Path,
        info: os.stat_result,
    ) -> None:
        if not stat.S_ISREG(info.st_mode):
            self._warn(event, _("not run: {path} is not a file").format(path=path))
            return
        why = _unsafe(path, info)
        if why is not None:
            self._warn(event, _("not run: {problem}").format(problem=why))
            return
        if not os.access(path, os.X_OK):
            self._warn(
                event, _("not run: {path} is not executable (chmod u+x {path})").format(path=path)
            )
            return
        import subprocess

        env = {**os.environ, "CRM_EVENT": event}
        if change_set is not None:
            env["CRM_CHANGE_SET"] = str(change_set)
        data = payload(event, change_set, records)
        try:
            proc = subprocess.Popen(
                [str(path)],
                stdin=subprocess.PIPE,
                stdout=_stderr_fd(),  # never crm's stdout: that is the command's own output
                env=env,
                start_new_session=True,  # its own process group, killed whole on timeout
            )
        except OSError as exc:
            self._warn(
                event,
                _("could not start: {reason} ({path})").format(
                    reason=exc.strerror or exc, path=path
                ),
            )
            return
        limit = self.seconds if self.seconds is not None else timeout()
        try:
            proc.communicate(data, timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(proc)
            self._warn(
                event, _("ran past {seconds} s and was stopped").format(seconds=f"{limit:g}")
            )
            return
        except BaseException:  # Ctrl-C: the hook goes too, then the interrupt is reported
            _kill(proc)
            raise
        if proc.returncode < 0:
            self._warn(
                event, _("failed: killed by signal {signal}").format(signal=-proc.returncode)
            )
        elif proc.returncode > 0:
            self._warn(event, _("failed: exit status {status}").format(status=proc.returncode))


def _stderr_fd() -> int:
    """crm's stderr as a file descriptor (2 when sys.stderr is not a real file)."""
    import sys

    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return 2


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the hook's whole process group (its children too) and reap it."""
    import signal
    from contextlib import suppress

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with suppress(OSError):
            proc.kill()
    proc.wait()
