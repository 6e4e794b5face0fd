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
from crmcli.i18n import _, ngettext

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
    """``3 activities``, ``1 deal``: how many links of one kind moved, in words."""
    if kind == "activities":
        text = ngettext("{count} activity", "{count} activities", n)
    elif kind == "deals":
        text = ngettext("{count} deal", "{count} deals", n)
    elif kind == "contacts":
        text = ngettext("{count} contact", "{count} contacts", n)
    elif kind == "leads":
        text = ngettext("{count} lead", "{count} leads", n)
    else:
        return f"{n} {SINGULAR.get(kind, kind) if n == 1 else kind}"
    return text.format(count=n)


def _summary_template(entity: str, dry_run: bool, removed: int) -> str:
    """The summary line of a merge of `entity`, with `{moves}`, `{keep}` and `{removed}`."""
    if entity == "lead" and dry_run:
        return ngettext(
            "Moves {moves} to lead {keep}; removes lead {removed}.",
            "Moves {moves} to lead {keep}; removes leads {removed}.",
            removed,
        )
    if entity == "lead":
        return ngettext(
            "Moved {moves} to lead {keep}; removed lead {removed}.",
            "Moved {moves} to lead {keep}; removed leads {removed}.",
            removed,
        )
    if entity == "contact" and dry_run:
        return ngettext(
            "Moves {moves} to contact {keep}; removes contact {removed}.",
            "Moves {moves} to contact {keep}; removes contacts {removed}.",
            removed,
        )
    if entity == "contact":
        return ngettext(
            "Moved {moves} to contact {keep}; removed contact {removed}.",
            "Moved {moves} to contact {keep}; removed contacts {removed}.",
            removed,
        )
    if dry_run:
        return ngettext(
            "Moves {moves} to account {keep}; removes account {removed}.",
            "Moves {moves} to account {keep}; removes accounts {removed}.",
            removed,
        )
    return ngettext(
        "Moved {moves} to account {keep}; removed account {removed}.",
        "Moved {moves} to account {keep}; removed accounts {removed}.",
        removed,
    )


def summary(result: Merge) -> str:
    """``Moves 3 activities, 1 deal to account 2; removes accounts 5, 9.`` (past tense once
    done), in the interface language."""
    moves = ", ".join(_count(k, n) for k, n in result.moved.items() if n) or _("nothing")
    removed = ", ".join(str(i) for i in result.removed)
    template = _summary_template(result.entity, result.dry_run, len(result.removed))
    return template.format(moves=moves, keep=result.kept, removed=removed)


def _title(result: Merge) -> str:
    """``Lead 1: merged 2, 3`` (or ``Lead 1: merge of 2, 3 (dry run)``)."""
    entity, dry = result.entity, result.dry_run
    if entity == "lead":
        text = (
            _("Lead {keep}: merge of {others} (dry run)")
            if dry
            else _("Lead {keep}: merged {others}")
        )
    elif entity == "contact":
        text = (
            _("Contact {keep}: merge of {others} (dry run)")
            if dry
            else _("Contact {keep}: merged {others}")
        )
    else:
        text = (
            _("Account {keep}: merge of {others} (dry run)")
            if dry
            else _("Account {keep}: merged {others}")
        )
    return text.format(keep=result.kept, others=", ".join(str(i) for i in result.removed))


def _record(entity: str, record_id: int) -> str:
    """``lead 3``: the record a merged value came from."""
    if entity == "lead":
        return _("lead {id}").format(id=record_id)
    if entity == "contact":
        return _("contact {id}").format(id=record_id)
    return _("account {id}").format(id=record_id)


def print_merge(result: Merge, *, as_json: bool) -> None:
    """The merge as JSON, or a table of field / value / from (fields with a value) and the
    summary line."""
    if as_json:
        render.print_json(merge_json(result))
        return
    rows = []
    for pick in result.fields:
        value = "" if pick.value == {} else render.human_cell(pick.value)
        source = result.kept if pick.source is None else pick.source
        if value:  # a field no record has is left out
            rows.append([pick.field, value, _record(result.entity, source)])
    render.print_table(rows, [_("field"), _("value"), _("from")], title=_title(result))
    typer.echo(summary(result))
    if result.dry_run:
        note(_("dry run: nothing was changed"))
