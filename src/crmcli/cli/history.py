"""`crm history`: what each command changed, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from crmcli.cli import render
from crmcli.cli.common import JsonOpt, db
from crmcli.domain.models import Change
from crmcli.domain.values import parse_reference


def summary(changes: Sequence[Change]) -> str:
    """`lead insert ×3 (2–4), opportunity update 1` for a table cell."""
    ids: dict[tuple[str, str], list[int]] = {}
    for change in changes:
        ids.setdefault((change.entity, change.op), []).append(change.id)
    return ", ".join(
        f"{entity} {op} {found[0]}"
        if len(found) == 1
        else f"{entity} {op} ×{len(found)} ({min(found)}–{max(found)})"
        for (entity, op), found in ids.items()
    )


def history(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="Show at most this many change sets.")
    ] = 20,
    for_: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--for",
            metavar="ENTITY ID",
            help="Only change sets that touched this record (lead, account, contact, opp…).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """What each command that changed data did, newest first (the journal).

    Every change set names when it ran, who ran it (the owner name in use), the command, and
    each record it inserted, updated or deleted. Reads record nothing.
    """
    from crmcli.services.history import history as change_sets

    record = None
    if for_ is not None:
        record_id = parse_reference(for_[1], for_[0], ids_only=True)
        assert isinstance(record_id, int)
        record = (for_[0], record_id)
    found = change_sets(db(ctx), limit=limit, record=record)
    if as_json:
        render.print_json(
            [
                {
                    "id": s.id,
                    "at": render.jsonable(s.at),
                    "actor": s.actor,
                    "command": s.command,
                    "undone": s.undone,
                    "changes": [{"entity": c.entity, "id": c.id, "op": c.op} for c in s.changes],
                }
                for s in found
            ]
        )
        return
    if not found:
        typer.echo("no changes recorded")
        return
    rows = [
        [str(s.id), render.cell(s.at), s.actor or "", s.command, summary(s.changes)] for s in found
    ]
    render.print_table(rows, ["id", "at (UTC)", "actor", "command", "changes"], right=[0])
