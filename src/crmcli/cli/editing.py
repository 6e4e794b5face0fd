"""`crm lead|contact|account|opp edit REF` with no field options, on a terminal: the record as a
plain form in `$VISUAL`, else `$EDITOR`, else `vi`.

Saving applies the changed fields only, through the edit service the options use (one
transaction, one change set). A form saved unchanged, or emptied, changes nothing. A value
that is refused reopens the editor with the error as a comment on top, keeping what the user
wrote; saved unchanged again (or quit without saving), the error ends the command as it would
have ended `edit` with that option. The form lives in a temporary file (mode 0600) that is
removed afterwards.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from crmcli import clock
from crmcli.cli.common import note
from crmcli.domain import forms
from crmcli.errors import CrmError
from crmcli.i18n import _

T = TypeVar("T")


def wanted(*options: object) -> bool:
    """True when an `edit` given none of its field `options` should open the editor: stdin
    and stdout are a terminal (off one, the usual `nothing to change` error stays)."""
    if any(option is not None for option in options):
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


def editor_command() -> list[str]:
    """`$VISUAL`, else `$EDITOR`, else `vi`, split as a shell would (`code -w`)."""
    text = (os.environ.get("VISUAL") or "").strip() or (os.environ.get("EDITOR") or "").strip()
    text = text or "vi"
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise CrmError(_cannot_run(text, str(exc))) from None
    if not words:
        raise CrmError(_cannot_run(text, _("no command")))
    return words


def _cannot_run(editor: str, reason: str) -> str:
    return _("cannot run the editor {editor}: {reason}").format(editor=editor, reason=reason)


def run_editor(path: Path) -> None:
    """Open `path` in the user's editor and wait for it; an editor that cannot be started or
    that fails stops the command (nothing is changed)."""
    import subprocess

    command = editor_command()
    shown = shlex.join(command)
    try:
        code = subprocess.call([*command, str(path)])
    except OSError as exc:
        raise CrmError(_cannot_run(shown, exc.strerror or str(exc))) from None
    if code != 0:
        raise CrmError(
            _("the editor {editor} exited with status {code}: nothing was changed").format(
                editor=shown, code=code
            )
        )


def edit_form(form: forms.Form, save: Callable[[dict[str, Any]], T]) -> T | None:
    """Let the user edit `form`; `save(fields)` applies the changed fields (typed values by
    key) and returns what the command shows. None when nothing changed (said on stderr)."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix=f"crm-{form.kind}-{form.record_id}-", suffix=".txt")
    os.close(fd)
    path = Path(name)
    try:
        return _edit_loop(form, save, path)
    finally:
        path.unlink(missing_ok=True)


def _edit_loop(form: forms.Form, save: Callable[[dict[str, Any]], T], path: Path) -> T | None:
    shown = forms.write_form(form)
    refused: CrmError | None = None
    while True:
        path.write_text(shown, encoding="utf-8")
        run_editor(path)
        saved = _read(path)
        if refused is not None and forms.same_text(saved, shown):
            raise refused  # quit, or saved, without fixing it
        try:
            changed = forms.changes(form, saved)
            if not changed:
                note(_("nothing changed"))
                return None
            return save(forms.typed(form, changed, today=clock.today()))
        except CrmError as exc:
            refused = exc
            shown = forms.with_error(saved, str(exc))


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return ""  # the editor removed the file: an empty form, nothing to change
    except UnicodeDecodeError:
        raise CrmError(_("the edited form is not UTF-8 text: nothing was changed")) from None
