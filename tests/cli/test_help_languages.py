"""Every help page exists in both languages: in Portuguese nothing of the English help is left
(issue 14). Through CliRunner, one page per command."""

from __future__ import annotations

import inspect

import pytest
import typer
from typer.testing import CliRunner

from crmcli.cli import app as root

pytestmark = pytest.mark.sqlite_only


def _paths() -> list[tuple[tuple[str, ...], object]]:
    found: list[tuple[tuple[str, ...], object]] = [((), typer.main.get_group(root.app))]

    def walk(command: object, path: tuple[str, ...]) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    for name in root.COMMANDS:
        walk(root.load_command(name), (name,))
    return found


PATHS = _paths()


@pytest.mark.parametrize(("path", "command"), PATHS, ids=[" ".join(p) or "crm" for p, _ in PATHS])
def test_each_help_page_is_all_portuguese(path: tuple[str, ...], command: object) -> None:
    runner = CliRunner()
    shown = runner.invoke(root.app, [*path, "-h"], env={"CRM_LANG": "pt_BR"}, prog_name="crm")
    assert shown.exit_code == 0, shown.output
    page = shown.output
    assert page.startswith("Uso: crm")
    for heading in ("Options:", "Arguments:", "Commands:", "Usage:", "Show this message"):
        assert heading not in page
    english = inspect.cleandoc(getattr(command, "help", None) or "").splitlines()
    if english and english[0]:
        assert english[0] not in page, english[0]  # the command's own help is translated
    for param in getattr(command, "params", []):
        text = getattr(param, "help", None)
        if text and len(text) > 12:
            assert text not in page, text
    again = runner.invoke(root.app, [*path, "-h"], env={"CRM_LANG": "en"}, prog_name="crm")
    assert again.output.startswith("Usage: crm")  # and back to English in the same process
