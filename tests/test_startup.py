"""Start-up cost: `crm --help` must not load the database layer (checked in a real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, sys
sys.argv = ["crm", *json.loads(sys.argv[1])]
from crmcli.cli.app import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {"sqlalchemy", "sqlmodel"}
                        or m == "rich.table")), file=sys.stderr)
"""


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


def test_help_does_not_import_the_database_layer_or_rich_tables() -> None:
    env = dict(os.environ)
    for args in (["--help"], ["lead", "--help"], ["opp", "advance", "--help"], ["--version"]):
        assert _loaded(args, env) == [], args


def test_a_database_command_does_import_it(tmp_path: Path) -> None:
    env = {**os.environ, "CRM_DB": str(tmp_path / "crm.db")}
    assert "sqlalchemy" in _loaded(["lead", "list"], env)


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
