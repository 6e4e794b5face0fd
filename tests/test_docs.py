"""The docs cannot drift: the CLI reference is the real --help, and the guide shows every command."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gen_cli_reference.py"
REFERENCE = ROOT / "docs" / "cli-reference.md"
GUIDE = ROOT / "docs" / "guide.md"
REPORTS = ROOT / "docs" / "reports.md"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli_reference", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return _load_generator()


def _code_blocks(markdown: str) -> list[str]:
    """The contents of the fenced code blocks of a Markdown text."""
    return re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def _command_pattern(path: tuple[str, ...]) -> re.Pattern[str]:
    """`crm [global options] PATH…` as a regex: `crm --db X opp list` counts as `crm opp list`."""
    global_options = r"(?:\s+--?[\w-]+(?:[ =](?!-)\S+)?)*"
    words = r"\s+".join(re.escape(word) for word in path)
    return re.compile(rf"(?<![\w-])crm{global_options}\s+{words}(?![\w-])")


def test_cli_reference_is_up_to_date(generator: ModuleType) -> None:
    expected = generator.generate()
    assert REFERENCE.read_text(encoding="utf-8") == expected, (
        "docs/cli-reference.md is out of date: run `python scripts/gen_cli_reference.py`"
    )


def test_cli_reference_has_a_section_per_command(generator: ModuleType) -> None:
    headings = re.findall(r"^## (crm.*)$", REFERENCE.read_text(encoding="utf-8"), re.MULTILINE)
    paths = generator.command_paths()
    assert headings == [" ".join(("crm", *path)) for path in paths]
    assert len(set(headings)) == len(headings)
    # The walk found the nouns and their commands, not just the root.
    assert ("lead", "convert") in generator.leaf_paths()
    assert ("demo",) in generator.leaf_paths()
    assert ("lead",) not in generator.leaf_paths()


def test_help_is_rendered_without_colour_at_a_fixed_width(generator: ModuleType) -> None:
    text = generator.help_text(("lead", "add"))
    assert text.startswith("Usage: crm lead add [OPTIONS]")
    assert "--budget AMOUNT" in text
    assert "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_check_mode_exits_1_when_the_file_differs(tmp_path: Path) -> None:
    stale = tmp_path / "cli-reference.md"
    stale.write_text("# stale\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--output", str(stale)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "python scripts/gen_cli_reference.py" in run.stderr
    assert run.stdout == ""
    assert stale.read_text(encoding="utf-8") == "# stale\n"


def test_check_mode_exits_0_on_the_committed_reference() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("path", _load_generator().leaf_paths(), ids=" ".join)
def test_guide_shows_every_command(path: tuple[str, ...]) -> None:
    """Every command has an example in the guide or, for reports, in docs/reports.md."""
    pages = [GUIDE, *([REPORTS] if REPORTS.exists() else [])]
    blocks = [b for page in pages for b in _code_blocks(page.read_text(encoding="utf-8"))]
    pattern = _command_pattern(path)
    assert any(pattern.search(block) for block in blocks), (
        f"docs/guide.md has no example of `crm {' '.join(path)}` in a code block"
    )


def test_command_pattern_needs_the_whole_path() -> None:
    pattern = _command_pattern(("lead", "con"))
    assert not pattern.search("$ crm lead convert 1")
    assert _command_pattern(("opp", "list")).search("$ crm --db /tmp/demo.db opp list --status won")
    assert not _command_pattern(("opp", "list")).search("$ crm opp add x --account list")


def test_guide_links_resolve() -> None:
    """Relative links and in-page anchors of the guide point at something that exists."""
    text = GUIDE.read_text(encoding="utf-8")
    prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    anchors = {
        re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", prose, flags=re.MULTILINE)
    }
    for target in re.findall(r"\]\(([^)]+)\)", prose):
        if target.startswith(("http://", "https://")):
            continue
        if target.startswith("#"):
            assert target[1:] in anchors, f"no heading for {target}"
        else:
            assert (GUIDE.parent / target.split("#")[0]).exists(), f"missing {target}"
