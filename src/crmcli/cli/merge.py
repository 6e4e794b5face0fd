"""What `crm lead|contact|account merge` prints: the field-by-field result and the links moved.

The commands themselves are in `cli/lead.py` and `cli/account.py`, beside the other commands
of their noun; they call one service of `services/merge.py` and hand its result here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmcli.cli import render
from crmcli.cli.common import note
from crmcli.domain.values import parse_reference

if TYPE_CHECKING:
    from crmcli.services.merge import Merge


def _parser(kind: str, ids_only: bool) -> Any:
    """As `common.reference_argument`/`id_argument` read a reference: a blank one, or a name
    where only ids are taken, is a UsageError (exit 2) before any database is opened."""

    def parse(text: str) -> Any:
        parsed = parse_reference(text, kind, ids_only=ids_only)
        return parsed if ids_only else text

    return parse


def keep_argument(kind: str, *, ids_only: bool = False) -> Any:
    """The KEEP argument of `crm KIND merge`."""
    how = "id" if ids_only else "id or unambiguous name"
    return typer.Argument(
        parser=_parser(kind, ids_only),
        metavar="KEEP",
        help=f"The {kind} that stays ({how}): its values win.",
        show_default=False,
    )


def others_argument(kind: str, *, ids_only: bool = False) -> Any:
    """The OTHER… arguments of `crm KIND merge`."""
    how = "ids" if ids_only else "ids or unambiguous names"
    return typer.Argument(
        parser=_parser(kind, ids_only),
        metavar="OTHER...",
        help=f"The {kind}s merged into KEEP and removed ({how}), in the order they fill"
        " what KEEP lacks.",
        show_default=False,
    )


DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Show the merged record and the links that would move; write nothing."
    ),
]

SINGULAR = {"activities": "activity", "deals": "deal", "contacts": "contact", "leads": "lead"}


def merge_json(result: Merge) -> dict[str, Any]:
    """The merge as JSON: `entity`, `kept`, `removed`, `fields`, `moved`, `record` (and
    `"dry_run": true` for a dry run)."""
    data: dict[str, Any] = {
        "entity": result.entity,
        "kept": result.kept,
        "removed": list(result.removed),
        "fields": [
            {"field": p.field, "value": render.jsonable(p.value), "from": p.source}
            for p in result.fields
        ],
        "moved": dict(result.moved),
        "record": render.jsonable(result.record),
    }
    if result.dry_run:
        data["dry_run"] = True
    return data


def _count(kind: str, n: int) -> str:
    return f"{n} {SINGULAR.get(kind, kind) if n == 1 else kind}"


def summary(result: Merge) -> str:
    """``Moves 3 activities, 1 deal to account 2; removes accounts 5, 9.`` (past tense once
    done)."""
    moves = ", ".join(_count(k, n) for k, n in result.moved.items() if n) or "nothing"
    removed = ", ".join(str(i) for i in result.removed)
    noun = result.entity if len(result.removed) == 1 else f"{result.entity}s"
    move, remove = ("Moves", "removes") if result.dry_run else ("Moved", "removed")
    return f"{move} {moves} to {result.entity} {result.kept}; {remove} {noun} {removed}."


def print_merge(result: Merge, *, as_json: bool) -> None:
    """The merge as JSON, or a table of field / value / from (fields with a value) and the
    summary line."""
    if as_json:
        render.print_json(merge_json(result))
        return
    rows = []
    for pick in result.fields:
        value = "" if pick.value == {} else render.cell(pick.value)
        source = result.kept if pick.source is None else pick.source
        if value:  # a field no record has is left out
            rows.append([pick.field, value, f"{result.entity} {source}"])
    others = ", ".join(str(i) for i in result.removed)
    title = f"{result.entity.capitalize()} {result.kept}: " + (
        f"merge of {others} (dry run)" if result.dry_run else f"merged {others}"
    )
    render.print_table(rows, ["field", "value", "from"], title=title)
    typer.echo(summary(result))
    if result.dry_run:
        note("dry run: nothing was changed")
