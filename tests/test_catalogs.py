"""The pt_BR catalog is complete: every message and help text translated, placeholders kept,
the compiled `.mo` made from the `.po` (scripts/catalogs.py update)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "catalogs.py"


def _catalogs() -> object:
    spec = importlib.util.spec_from_file_location("catalogs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["catalogs"] = module
    spec.loader.exec_module(module)
    return module


def test_every_message_has_a_pt_br_translation_with_the_same_placeholders() -> None:
    catalogs = _catalogs()
    problems = catalogs.problems()  # type: ignore[attr-defined]
    assert problems == [], "\n".join(problems[:40])


def test_the_placeholder_check_would_catch_a_renamed_or_dropped_field() -> None:
    catalogs = _catalogs()
    found = catalogs.placeholders  # type: ignore[attr-defined]
    assert found("lead {id} not found in {where!r}") == {"id", "where"}
    assert found("{count:,} rows, {{literal}}") == {"count"}
    assert found("lead {id}") != found("lead {número}")
