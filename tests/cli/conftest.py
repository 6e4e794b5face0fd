"""CLI test helpers: run `crm` in-process through Typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from crmcli.cli.app import app

Run = Callable[..., Result]


@pytest.fixture
def crm() -> Run:
    """Run `crm ARGS…`; asserts the exit code when `code` is given."""
    runner = CliRunner()

    def run(*args: str, code: int | None = 0, input: str | None = None) -> Result:
        result = runner.invoke(app, list(args), input=input)
        if code is not None:
            assert result.exit_code == code, (
                f"crm {' '.join(args)} exited {result.exit_code}, wanted {code}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
            )
        return result

    return run


@pytest.fixture
def crm_json(crm: Run) -> Callable[..., Any]:
    """Run `crm ARGS… --json` and parse stdout."""

    def run(*args: str) -> Any:
        return json.loads(crm(*args, "--json").stdout)

    return run
