"""A deal's stored latest activity (migration 0010) follows its activities whatever writes them.

`report stale` walks open deals by `COALESCE(last_activity_at, created_at)`; triggers on
`activity` keep the column. Every command that writes a deal's activities (add, log, done,
edit, delete, undo, opp delete and its undo, a restore) is run here, and after each the stored
value is compared with the one worked out afresh from the activities, on both backends.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from crmcli.store.db import Database

Run = Callable[..., Result]
Json = Callable[..., Any]

_FRESH = (
    "SELECT id, (SELECT MAX(COALESCE(done_at, created_at)) FROM activity"
    " WHERE activity.opportunity_id = opportunity.id) FROM opportunity ORDER BY id"
)


def _same(url: str) -> list[tuple[int, str | None]]:
    """[(deal id, its latest activity as stored, to the second)], checked against the
    activities."""
    db = Database(url)
    try:
        with db.read() as uow:
            stored = uow.conn.rows("SELECT id, last_activity_at FROM opportunity ORDER BY id")
            fresh = uow.conn.rows(_FRESH)
    finally:
        db.dispose()
    assert [tuple(r) for r in stored] == [tuple(r) for r in fresh]
    return [(int(i), None if at is None else str(at)[:19]) for i, at in stored]


def test_every_activity_write_keeps_the_deals_latest_activity(
    crm: Run,
    crm_json: Json,
    backend_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    def at(day: int) -> None:
        monkeypatch.setenv("CRM_NOW", f"2026-03-{day:02d}T09:00:00")

    at(1)
    crm("opp", "add", "Alpha", "--account", "Acme")
    crm("opp", "add", "Beta", "--account", "Acme")
    assert _same(backend_url) == [(1, None), (2, None)]
    at(2)
    crm("activity", "add", "Call back", "--type", "call", "--opp", "Alpha", "--due", "2026-03-05")
    assert _same(backend_url) == [(1, "2026-03-02 09:00:00"), (2, None)]
    at(3)  # logged today, as having happened on the 1st: the call's creation is later
    crm(
        "activity",
        "log",
        "Met them",
        "--type",
        "meeting",
        "--opp",
        "Alpha",
        "--at",
        "2026-03-01 10:00",
    )
    assert _same(backend_url)[0] == (1, "2026-03-02 09:00:00")
    at(4)
    crm("activity", "done", "1")
    assert _same(backend_url)[0] == (1, "2026-03-04 09:00:00")
    crm("undo", "--yes")
    assert _same(backend_url)[0] == (1, "2026-03-02 09:00:00")
    crm("activity", "edit", "1", "--subject", "Call them back")  # not a time: unchanged
    assert _same(backend_url)[0] == (1, "2026-03-02 09:00:00")
    crm("activity", "delete", "1", "2", "--yes")
    assert _same(backend_url) == [(1, None), (2, None)]
    crm("undo", "--yes")
    assert _same(backend_url)[0] == (1, "2026-03-02 09:00:00")

    at(5)
    crm("activity", "add", "Send proposal", "--type", "task", "--opp", "Beta")
    crm("opp", "delete", "Beta", "--yes")
    assert _same(backend_url) == [(1, "2026-03-02 09:00:00")]
    crm("undo", "--yes")
    assert _same(backend_url) == [(1, "2026-03-02 09:00:00"), (2, "2026-03-05 09:00:00")]

    at(30)  # Alpha has a pending call, but has been quiet for 28 days; Beta for 25
    stale = crm_json("report", "stale", "--days", "20")
    assert [(d["name"], d["idle_days"]) for d in stale["deals"]] == [("Alpha", 28), ("Beta", 25)]
    assert stale["deals"][0]["last_activity"].startswith("2026-03-02T09:00:00")

    backup = tmp_path / "backup.json"
    crm("export", "--output", str(backup))
    restored = str(tmp_path / "restored.db")  # from either backend into a file
    crm("--db", restored, "import", str(backup))
    assert _same(restored) == _same(backend_url)
