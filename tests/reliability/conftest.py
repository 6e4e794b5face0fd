"""Reliability tests: real processes, real files.

Long variants are marked `slow` and are deselected here unless `-m` names them
(`pytest -m slow tests/reliability`), as the marker's description in pyproject promises.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from reliability_harness import preexec

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("markexpr") or ""):
        return
    mine = [i for i in items if Path(str(i.path)).resolve().is_relative_to(HERE)]
    slow = [i for i in mine if i.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [i for i in items if i not in slow]


@pytest.fixture
def modes_are_enforced(tmp_path: Path) -> None:
    """Skip unless a child can be made to obey file modes (root without CAP_SETPCAP cannot)."""
    probe = tmp_path / "mode-probe"
    probe.write_text("x")
    probe.chmod(0o400)
    try:
        result = subprocess.run(
            [sys.executable, "-c", f"open({str(probe)!r}, 'a')"],
            capture_output=True,
            preexec_fn=preexec(honour_modes=True),
            timeout=60,
        )
    except subprocess.SubprocessError as exc:
        pytest.skip(f"cannot drop root's file-mode override here: {exc}")
    finally:
        probe.chmod(0o600)
    if result.returncode == 0:
        pytest.skip("file modes are not enforced for this user (root without capabilities?)")
