"""The root command: `-h` as `--help`, "did you mean" for top-level typos, where to start."""

from __future__ import annotations

from collections.abc import Callable

from typer.testing import Result

Run = Callable[..., Result]


def test_dash_h_is_help_at_every_level(crm: Run) -> None:
    assert crm("-h").stdout == crm("--help").stdout
    assert crm("lead", "-h").stdout == crm("lead", "--help").stdout
    assert crm("lead", "add", "-h").stdout.startswith("Usage: crm lead add")


def test_a_top_level_typo_gets_a_suggestion(crm: Run) -> None:
    result = crm("led", "list", code=2)
    assert result.stderr.strip() == (
        "crm: error: No such command 'led'. Did you mean 'lead'? (see --help)"
    )
    assert "Did you mean" not in crm("xyzzy", code=2).stderr


def test_root_help_says_to_start_with_the_demo(crm: Run) -> None:
    assert "Start with `crm demo`" in crm("--help").stdout
