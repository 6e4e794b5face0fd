"""`crm history`: what each command changed, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import typer

from crmcli.cli import render
from crmcli.cli.common import JsonOpt, db
from crmcli.domain.models import Change
from crmcli.domain.values import parse_reference
from crmcli.i18n import N_, _

ENTITY_WORDS = {
    "lead": N_("lead"),
    "account": N_("account"),
    "contact": N_("contact"),
    "opportunity": N_("opportunity"),
    "activity": N_("activity"),
    "stage": N_("stage"),
    "history": N_("stage history row"),
}
"""The kinds of record a change names, as a summary says them (translated where shown)."""

CHANGE_WORDS = {
    ("insert", False): N_("{entity} insert {id}"),
    ("insert", True): N_("{entity} insert ×{count} ({first}–{last})"),
    ("update", False): N_("{entity} update {id}"),
    ("update", True): N_("{entity} update ×{count} ({first}–{last})"),
    ("delete", False): N_("{entity} delete {id}"),
    ("delete", True): N_("{entity} delete ×{count} ({first}–{last})"),
}
"""One group of a summary: the changes of one kind of record by one operation, by operation
and whether there are several."""


def summary(changes: Sequence[Change]) -> str:
    """`lead insert ×3 (2–4), opportunity update 1` for a table cell (the journal's own words
    for the records and operations, as in JSON, in English)."""
    ids: dict[tuple[str, str], list[int]] = {}
    for change in changes:
        ids.setdefault((change.entity, change.op), []).append(change.id)
    return ", ".join(_group(entity, op, found) for (entity, op), found in ids.items())


def _group(entity: str, op: str, found: Sequence[int]) -> str:
    """The changes `found` (ids) of one kind of record by one operation: `lead update 4`."""
    several = len(found) > 1
    template = CHANGE_WORDS.get((op, several))
    if template is None:  # an operation the journal does not write today: said as it is
        if several:
            return f"{entity} {op} ×{len(found)} ({min(found)}–{max(found)})"
        return f"{entity} {op} {found[0]}"
    word = ENTITY_WORDS.get(entity)
    return _(template).format(
        entity=entity if word is None else _(word),
        id=found[0],
        count=len(found),
        first=min(found),
        last=max(found),
    )


def zone_name(moment: datetime | None = None) -> str:
    """The name of the local time zone `render.human_moment` shows `moment` (naive UTC) in, or
    now in: `UTC`, `-03`, `CET`…"""
    from datetime import UTC

    at = datetime.now(UTC) if moment is None else moment.replace(tzinfo=UTC)
    return at.astimezone().tzname() or ""


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
        typer.echo(_("no changes recorded"))
        return
    rows = [
        [str(s.id), render.human_moment(s.at), s.actor or "", s.command, summary(s.changes)]
        for s in found
    ]
    at = _("at ({zone})").format(zone=zone_name(found[0].at))
    headers = [_("id"), at, _("actor"), _("command"), _("changes")]
    render.print_table(rows, headers, right=[0])
