"""The guides' examples show what crm really prints: scripts/guide.py runs them and compares.

The two guides are checked by running every command in them (about 15 s for both, run side by
side); the script's own rules are checked on small pages that take a fraction of a second.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "guide.py"
GUIDES = [ROOT / "docs" / "guide.md", ROOT / "docs" / "guia.md"]
_TOOLS = ("bash", "jq", "iconv")
pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in _TOOLS),
    reason="the guides' examples run in bash and use jq and iconv; one of them is missing here",
)


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("guide_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def guide() -> ModuleType:
    return _load_script()


def _check(*files: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), "check", *map(str, files)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_guides_show_what_crm_prints() -> None:
    runs = [(path, _check(path)) for path in GUIDES]  # side by side: two shells, two files
    failures = []
    for path, run in runs:
        out, err = run.communicate(timeout=300)
        if run.returncode != 0:
            failures.append(f"{path.name}: exit {run.returncode}\n{err}{out[:20000]}")
    assert not failures, "run `python scripts/guide.py update` and read the diff:\n" + "\n".join(
        failures
    )


def page(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def test_outputs_are_replaced_and_the_shell_state_carries_over(guide: ModuleType) -> None:
    text = page(
        "Some text.",
        "",
        "```console",
        "$ echo hello",
        "stale output",
        "more stale output",
        "$ export NAME=Ana",
        '$ echo "$NAME" \\',
        "    again",
        "$ false",
        "$ echo $?",
        "$ pwd",
        "$ printf 'no newline'",
        "```",
        "",
        "```console",
        "$ echo $NAME; cd sub 2>/dev/null || echo no sub",
        "```",
    )
    assert guide.render(text, "en") == page(
        "Some text.",
        "",
        "```console",
        "$ echo hello",
        "hello",
        "$ export NAME=Ana",
        '$ echo "$NAME" \\',
        "    again",
        "Ana again",
        "$ false",
        "$ echo $?",
        "1",
        "$ pwd",
        "/tmp/docs-crm",
        "$ printf 'no newline'",
        "no newline",
        "```",
        "",
        "```console",
        "$ echo $NAME; cd sub 2>/dev/null || echo no sub",
        "Ana",
        "no sub",
        "```",
    )


def test_other_blocks_and_skipped_blocks_are_left_alone(guide: ModuleType) -> None:
    text = page(
        "```sh",
        "$ echo not run",
        "hand-written",
        "```",
        "<!-- guide: skip -->",
        "```console",
        "$ echo not run either",
        "hand-written",
        "```",
        "```",
        "$ echo plain block",
        "```",
    )
    assert guide.render(text, "en") == text


def test_hidden_steps_files_and_heredocs(guide: ModuleType) -> None:
    text = page(
        "<!-- guide: run export GREETING=olá -->",
        "<!-- guide: file hidden.csv encoding=cp1252",
        "Nome;Orçamento",
        "-->",
        "<!-- guide: file shown.csv -->",
        "```csv",
        "a,b",
        "```",
        "- in a list:",
        "",
        "  ```console",
        "  $ echo $GREETING; wc -c < hidden.csv; cat shown.csv",
        "  ```",
        "```console",
        "$ cat <<'EOF' | sed 's/^[$]/#/'",
        "$ not a command: heredoc text",
        "EOF",
        "```",
    )
    assert guide.render(text, "en") == page(
        "<!-- guide: run export GREETING=olá -->",
        "<!-- guide: file hidden.csv encoding=cp1252",
        "Nome;Orçamento",
        "-->",
        "<!-- guide: file shown.csv -->",
        "```csv",
        "a,b",
        "```",
        "- in a list:",
        "",
        "  ```console",
        "  $ echo $GREETING; wc -c < hidden.csv; cat shown.csv",
        "  olá",
        "  15",  # cp1252: one byte for ç
        "  a,b",
        "  ```",
        "```console",
        "$ cat <<'EOF' | sed 's/^[$]/#/'",
        "$ not a command: heredoc text",
        "EOF",
        "# not a command: heredoc text",
        "```",
    )


def test_crm_runs_pinned_in_the_scratch_directory_and_json_is_indented(
    guide: ModuleType,
) -> None:
    text = page(
        "```console",
        "$ crm --db /tmp/docs-crm/x.db db init --currency BRL",
        "$ crm --db /tmp/docs-crm/x.db lead add Ana --budget 10 --json",
        "$ crm --db /tmp/docs-crm/x.db lead list --json | jq -c '.[].created_at'",
        "```",
    )
    lines = guide.render(text, "pt_BR").splitlines()
    assert lines[2] == "crm: /tmp/docs-crm/x.db: moeda BRL, esquema " + lines[2].rsplit(" ", 1)[1]
    assert lines[4] == "{"  # indented as on a terminal
    assert '  "name": "Ana",' in lines
    assert '  "budget": "10.00",' in lines  # JSON is never translated
    assert '"2026-12-07T09:00:00Z"' in lines  # jq's output is left as jq wrote it


def test_a_hidden_step_that_fails_stops_the_run(guide: ModuleType) -> None:
    with pytest.raises(guide.GuideError, match=r"page:1: `false` exited 1"):
        guide.render(page("<!-- guide: run false -->"), "en", "page")
    with pytest.raises(guide.GuideError, match="exited 127"):
        guide.render(page("```console", "$ no-such-command-here", "```"), "en", "page")
    with pytest.raises(guide.GuideError, match="unknown guide comment 'rn'"):
        guide.render(page("<!-- guide: rn true -->"), "en", "page")


def test_check_exits_1_with_a_diff_and_update_rewrites(tmp_path: Path) -> None:
    stale = tmp_path / "page.md"
    stale.write_text(page("```console", "$ echo fresh", "stale", "```"), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "check", str(stale)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "-stale\n+fresh\n" in run.stdout
    assert "python scripts/guide.py update" in run.stderr
    assert stale.read_text(encoding="utf-8").endswith("stale\n```\n")
    for _ in range(2):  # a second update changes nothing
        update = subprocess.run(
            [sys.executable, str(SCRIPT), "update", str(stale)], capture_output=True, check=True
        )
        assert update.returncode == 0
        assert stale.read_text(encoding="utf-8") == page(
            "```console", "$ echo fresh", "fresh", "```"
        )
    again = subprocess.run(
        [sys.executable, str(SCRIPT), "check", str(stale)], capture_output=True, check=False
    )
    assert again.returncode == 0, again.stderr
