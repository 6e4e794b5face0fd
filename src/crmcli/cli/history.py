"""`crm history`: what each command changed, newest first."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from crmcli.cli import render
from crmcli.cli.common import JsonOpt, db
from crmcli.domain.models import ChangeSet
from crmcli.domain.values import parse_reference


def _summary(change_set: ChangeSet) -> str:
    """`lead insert ×3, opportunity update` for a table cell."""
    counts = Counter((c.entity, c.op) for c in change_set.changes)
    parts = []
    for (entity, op), n in counts.items():
        ids = [c.id for c in change_set.changes if (c.entity, c.op) == (entity, op)]
        shown = f" {ids[0]}" if n == 1 else f" ×{n} ({ids[0]}–{ids[-1]})"
        parts.append(f"{entity} {op}{shown}")
    return ", ".join(parts)


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
    from crmcli.services.history import entity_name
    from crmcli.services.history import history as change_sets

    record = None
    if for_ is not None:
        entity = entity_name(for_[0])
        record_id = parse_reference(for_[1], entity, ids_only=True)
        assert isinstance(record_id, int)
        record = (entity, record_id)
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
    rows = [[str(s.id), render.cell(s.at), s.actor or "", s.command, _summary(s)] for s in found]
    render.print_table(rows, ["id", "at (UTC)", "actor", "command", "changes"], right=[0])
