"""`crm search`: find leads, contacts, accounts, deals and activities by any word."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from crmcli.cli import render
from crmcli.cli.common import CsvOpt, JsonOpt, QuietOpt, db, note
from crmcli.i18n import _, ngettext

COLUMNS = ("type", "id", "name", "snippet")
"""The JSON keys and CSV columns of a hit."""


class Kind(StrEnum):
    LEAD = "lead"
    CONTACT = "contact"
    ACCOUNT = "account"
    OPP = "opp"
    ACTIVITY = "activity"


def search(
    ctx: typer.Context,
    words: Annotated[list[str], typer.Argument(help="The words to look for.", metavar="WORD...")],
    type_: Annotated[
        list[Kind] | None,
        typer.Option("--type", help="Only records of this kind (repeatable)."),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=0, help="At most this many records (0: all of them).")
    ] = 20,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Find leads, contacts, accounts, deals and activities by any word, best matches first.

    Looks in names, e-mails, phones, companies, tags, notes and activity subjects; case and
    accents are ignored, and every word must match. A name that is the search comes first,
    then matches in names, then in e-mails and phones, then elsewhere.

    \b
    Example: crm search maria acai --type lead
    """
    from crmcli.services.search import search as find

    found = find(
        db(ctx), " ".join(words), kinds=[k.value for k in type_ or ()], limit=limit or None
    )
    hits = [{c: getattr(h, c) for c in COLUMNS} for h in found.hits]
    if quiet:
        for h in found.hits:
            typer.echo(f"{h.type} {h.id}")
    elif as_json:
        render.print_json(hits)
    elif as_csv:
        render.print_csv(hits, COLUMNS)
    elif not hits:
        typer.echo(_("Nothing matches."))
    else:
        rows = [[h.type, str(h.id), h.name, h.snippet] for h in found.hits]
        headers = [_("type"), _("id"), _("name"), _("where it matched")]
        render.print_table(rows, headers, right=[1])
    more = found.total - len(found.hits)
    if more > 0:
        note(
            ngettext(
                "{count} more match: add --limit 0 to see every one",
                "{count} more matches: add --limit 0 to see every one",
                more,
            ).format(count=more)
        )
