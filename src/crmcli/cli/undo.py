"""`crm undo`: take back what one command did."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.cli import render
from crmcli.cli.common import JsonOpt, YesOpt, confirm, db, note
from crmcli.cli.history import summary, zone_name
from crmcli.i18n import _


def undo(
    ctx: typer.Context,
    change_set: Annotated[
        int | None,
        typer.Argument(
            metavar="[CHANGE_SET_ID]",
            min=1,
            help="The change set to revert (crm history lists them); default: the newest one"
            " that is not undone and not itself an undo.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be reverted; change nothing.")
    ] = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Revert one whole change set: an import, a conversion, a merge, a delete, an edit.

    Shows what it will revert and asks on a terminal (scripts pass --yes). Refused when a
    later change set touched the same records (undo that one first). The undo is itself a
    change set, listed by crm history; it cannot be undone in turn.

    \b
    Example: crm undo --dry-run
    """
    from crmcli.services.undo import Undone
    from crmcli.services.undo import undo as revert

    database = db(ctx)
    previews: list[Undone] = []

    def question() -> str:  # a dry run shows exactly what would go, refusals included
        preview = revert(database, change_set, dry_run=True)
        previews.append(preview)
        return _("Undo change set {id} (crm {command}): {changes}?").format(
            id=preview.undone, command=preview.command, changes=summary(preview.changes)
        )

    confirm(yes or dry_run, "undo", question)
    if previews:  # undo what was shown, even if a newer change set came meanwhile
        change_set = previews[0].undone
    done = revert(database, change_set, dry_run=dry_run)
    if as_json:
        payload = {
            "undone": done.undone,
            "command": done.command,
            "dry_run": done.dry_run,
            "changes": [{"entity": c.entity, "id": c.id, "op": c.op} for c in done.changes],
        }
        render.print_json(payload)
        return
    if dry_run:
        line = _("would undo change set {id} (crm {command}, {at} {zone})")
    else:
        line = _("undid change set {id} (crm {command}, {at} {zone})")
    at, zone = render.human_moment(done.at), zone_name(done.at)
    typer.echo(line.format(id=done.undone, command=done.command, at=at, zone=zone))
    if done.changes:
        typer.echo(summary(done.changes))
    if dry_run:
        note(_("dry run: nothing was changed"))
