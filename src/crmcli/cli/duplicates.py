"""`crm duplicates`: groups of likely duplicate leads, contacts or accounts."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmcli.cli import render
from crmcli.cli.common import CsvOpt, JsonOpt, db
from crmcli.i18n import _

if TYPE_CHECKING:
    from crmcli.domain.duplicates import DuplicateGroup

COLUMNS = ("entity", "ids", "reason", "merge")
"""The CSV columns (`ids` space-separated)."""


class Entity(StrEnum):
    LEAD = "lead"
    CONTACT = "contact"
    ACCOUNT = "account"


def group_json(group: DuplicateGroup) -> dict[str, Any]:
    """One group as JSON: the contract's `entity`, `ids`, `reason`, and more."""
    return {
        "entity": group.entity,
        "ids": list(group.ids),
        "reason": group.reason,
        "reasons": list(group.reasons),
        "keep": group.keep,
        "merge": group.merge,
        "names": list(group.names),
    }


def print_groups(groups: Sequence[DuplicateGroup]) -> None:
    """The groups as a table, one row each."""
    rows = [
        [g.entity, " ".join(str(i) for i in g.ids), " | ".join(g.names), g.reason_text(), g.merge]
        for g in groups
    ]
    headers = [_("entity"), _("ids"), _("names"), _("reason"), _("merge with")]
    render.print_table(rows, headers)


def duplicates(
    ctx: typer.Context,
    entity: Annotated[
        Entity | None,
        typer.Option("--entity", help="Only this kind of record (default: all three)."),
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Groups of likely duplicates (same e-mail, phone, or name and company), with the merge
    command for each.

    Leads share a name and company, contacts a name and account, accounts a name without
    legal suffixes (Ltda, S.A., Inc…). Phones match whatever their formatting and country
    code. The oldest record of a group comes first: the one the merge command keeps.
    """
    from crmcli.services.duplicates import find_duplicates

    groups = find_duplicates(db(ctx), entity=entity.value if entity else None)
    if as_json:
        render.print_json([group_json(g) for g in groups])
    elif as_csv:
        rows = [{**group_json(g), "ids": " ".join(str(i) for i in g.ids)} for g in groups]
        render.print_csv(rows, COLUMNS)
    elif not groups:
        typer.echo(_("No likely duplicates."))
    else:
        print_groups(groups)
