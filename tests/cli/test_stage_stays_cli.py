"""Stored stage stays (migration 0009) stay equal to the history's rule whatever writes it.

`report velocity` reads `stage_stay`, which triggers on `opportunity_history` keep. Every
command that writes history (add, advance, a hand-set probability, win, lose, reopen, undo,
delete, stage remove, opp import, a restore) is run here, and after each the stored stays are
compared with the rule worked out afresh over the whole history, on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from crmcli.store.db import Database
from crmcli.store.migrations import _stays_of

Run = Callable[..., Result]
Json = Callable[..., Any]


def _stored_and_worked_out(url: str) -> tuple[list[Any], list[Any]]:
    db = Database(url)
    try:
        with db.read() as uow:
            stored = uow.conn.rows(
                "SELECT opportunity_id, stage_id, seconds FROM stage_stay ORDER BY 1, 2, 3"
            )
            fresh = uow.conn.rows(
                f"SELECT * FROM ({_stays_of(uow.conn.dialect, 'TRUE')}) AS s ORDER BY 1, 2, 3"
            )
    finally:
        db.dispose()
    return [tuple(r) for r in stored], [tuple(r) for r in fresh]


def _same(url: str) -> list[Any]:
    stored, fresh = _stored_and_worked_out(url)
    assert stored == fresh
    return stored


DAY = 86_400


def test_every_history_write_keeps_the_stored_stays(
    crm: Run,
    crm_json: Json,
    backend_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    def at(day: int) -> None:
        monkeypatch.setenv("CRM_NOW", f"2026-03-{day:02d}T09:00:00")

    at(1)
    crm("opp", "add", "Alpha", "--account", "Acme", "--amount", "100")
    crm("opp", "add", "Beta", "--account", "Acme", "--amount", "200")
    crm("opp", "add", "Gamma", "--account", "Acme", "--amount", "300")
    assert _same(backend_url) == []  # open deals: no stay has ended yet
    at(3)
    crm("opp", "advance", "Alpha", "Beta")
    assert _same(backend_url) == [(1, 1, 2 * DAY), (2, 1, 2 * DAY)]
    at(4)
    crm("opp", "edit", "Alpha", "--probability", "35")  # a history row, not a change point
    at(6)
    crm("opp", "advance", "Alpha")
    assert _same(backend_url) == [(1, 1, 2 * DAY), (1, 2, 3 * DAY), (2, 1, 2 * DAY)]
    at(7)
    crm("opp", "win", "Alpha")
    crm("opp", "lose", "Gamma", "--reason", "Price")
    stays = _same(backend_url)
    assert (1, 3, DAY) in stays and (3, 1, 6 * DAY) in stays
    crm("undo", "--yes")  # the loss of Gamma: its stay is open again
    assert (3, 1, 6 * DAY) not in _same(backend_url)
    at(9)
    crm("opp", "reopen", "Alpha")
    crm("opp", "advance", "Alpha", "--to", "Negotiation")
    _same(backend_url)
    crm("opp", "delete", "Beta", "--yes")
    assert all(deal != 2 for deal, _, _ in _same(backend_url))
    crm("undo", "--yes")  # Beta and its history are back, and so are its stays
    assert (2, 1, 2 * DAY) in _same(backend_url)

    at(10)
    deals = tmp_path / "deals.csv"
    deals.write_text("name,account,stage,amount\nDelta,Acme,Proposal,50\n", encoding="utf-8")
    crm("opp", "import", str(deals))
    at(12)
    crm("opp", "advance", "Delta")
    assert (4, 4, 2 * DAY) in _same(backend_url)

    crm("stage", "remove", "Qualification", "--move-to", "Proposal")
    assert all(stage != 2 for _, stage, _ in _same(backend_url))

    velocity = crm_json("report", "velocity")
    prospecting = velocity["stages"][0]
    assert (prospecting["stage"], prospecting["stays"]) == ("Prospecting", 2)

    backup = tmp_path / "backup.json"
    crm("export", "--output", str(backup))
    restored = str(tmp_path / "restored.db")  # from either backend into a file
    crm("--db", restored, "import", str(backup))
    assert _same(restored) == _same(backend_url)
    again = json.loads(crm("--db", restored, "report", "velocity", "--json").stdout)
    assert again == velocity
