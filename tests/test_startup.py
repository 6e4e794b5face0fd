"""Start-up cost: `crm --help` must not load the database layer (checked in a real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperCommand

from crmcli.cli.app import COMMANDS, load_command

_PROBE = """
import json, sys
sys.argv = ["crm", *json.loads(sys.argv[1])]
from crmcli.cli.app import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
if code:
    sys.exit(f"exit {code}")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {"sqlalchemy", "sqlmodel",
                        "pydantic", "rich"} or m.startswith("crmcli.cli."))), file=sys.stderr)
"""

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "rich")


def _loaded(args: list[str], env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in HEAVY]


def test_help_loads_no_command_module_database_layer_or_rich() -> None:
    env = dict(os.environ)
    for args in (["--help"], ["--version"]):
        assert _loaded(args, env) == [
            "crmcli.cli.app",
            "crmcli.cli.common",
            "crmcli.cli.streams",  # stdlib only: the output encoder
            "crmcli.cli.translation",  # stdlib only: Click's words in the interface language
        ], args
    for args in (["lead", "--help"], ["opp", "advance", "--help"], ["forecast", "--help"]):
        assert _heavy(_loaded(args, env)) == [], args


@pytest.fixture
def ready_db(tmp_path: Path) -> dict[str, str]:
    """The environment of a database that exists and is up to date: a lead converted into a
    deal at Acme (contact 1, opportunity 1), a second lead, and an activity on the deal."""
    env = {**os.environ, "CRM_DB": str(tmp_path / "crm.db"), "CRM_NOW": "2026-12-07T09:00:00"}
    for args in (
        ["lead", "add", "Ana", "--company", "Acme", "--budget", "10", "--timeline", "+30d"],
        ["lead", "qualify", "1"],
        ["lead", "convert", "1"],
        ["lead", "add", "Bia", "--email", "bia@x.br"],
        ["activity", "add", "Ligar", "--type", "call", "--opp", "1", "--due", "tomorrow"],
    ):
        subprocess.run(
            [sys.executable, "-m", "crmcli", *args], env=env, capture_output=True, check=True
        )
    return env


EVERYDAY = [
    ["opp", "show", "1"],
    ["opp", "advance", "1", "--to", "Proposal"],
    ["lead", "add", "Caio", "-q"],
    ["lead", "show", "2"],
    ["lead", "edit", "2", "--phone", "+55 11 5555-0000"],
    ["lead", "qualify", "2", "--budget", "5", "--timeline", "+10d"],
    ["lead", "list", "--limit", "50"],
    ["lead", "list", "--json"],
    ["activity", "add", "Enviar", "--type", "task", "--lead", "2"],
    ["activity", "list"],
    ["agenda"],
    ["account", "show", "1"],
    ["contact", "show", "1"],
    ["opp", "list", "--account", "Acme"],
    ["opp", "win", "1"],
    ["stage", "list"],
    ["pipeline", "report"],
    ["pipeline", "report", "--json"],
    ["forecast"],
    ["history"],
]
"""The everyday commands of the speed budget (issue 12), reads and writes."""


@pytest.mark.parametrize("args", EVERYDAY, ids=" ".join)
def test_everyday_commands_load_only_their_module_and_the_stdlib_driver(
    ready_db: dict[str, str], args: list[str]
) -> None:
    loaded = _loaded(args, ready_db)
    assert _heavy(loaded) == [], args
    own = {"forecast": "reports", "agenda": "activity"}.get(args[0], args[0])
    unrelated = {"stage", "db", "demo", "export", "reports"} - {own}
    assert not {f"crmcli.cli.{name}" for name in unrelated} & set(loaded), args


def test_the_lead_conversion_loads_no_database_layer_either(ready_db: dict[str, str]) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "crmcli",
            "lead",
            "qualify",
            "2",
            "--budget",
            "5",
            "--timeline",
            "+10d",
        ],
        env=ready_db,
        capture_output=True,
        check=True,
    )
    assert _heavy(_loaded(["lead", "convert", "2", "--account", "Initech"], ready_db)) == []


def test_a_new_database_is_made_on_the_stdlib_driver_too(tmp_path: Path) -> None:
    env = {**os.environ, "CRM_DB": str(tmp_path / "crm.db")}
    assert _heavy(_loaded(["lead", "list"], env)) == []
    assert (tmp_path / "crm.db").exists()


def test_the_short_help_of_every_lazy_command_is_the_modules_own() -> None:
    for name, (_, _, short) in COMMANDS.items():
        real = load_command(name).get_short_help_str(200)
        assert real == TyperCommand(name=name, help=short).get_short_help_str(200), name


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    env = {**os.environ, "CRM_DB": str(tmp_path / "crm.db")}
    run = [sys.executable, "-m", "crmcli"]
    added = subprocess.run(
        [*run, "lead", "add", "Ana Lúcia", "--email", "ana@x.br", "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert added.stdout == "1\n"
    shown = subprocess.run(
        [*run, "lead", "show", "1", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert json.loads(shown.stdout)["name"] == "Ana Lúcia"
    failed = subprocess.run(
        [*run, "lead", "show", "7"], capture_output=True, text=True, env=env, timeout=60
    )
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == "crm: error: no lead with id 7\n"
