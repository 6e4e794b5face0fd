"""`crm opp …`: opportunities moving through the pipeline."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmcli.cli import imports, render
from crmcli.cli.activity import activities_table, activity_json
from crmcli.cli.common import (
    AllRowsOpt,
    CsvOpt,
    JsonOpt,
    QuietOpt,
    ReverseOpt,
    TagFilterOpt,
    TagOpt,
    UntagOpt,
    YesOpt,
    act_on,
    announce_created_account,
    date_option,
    db,
    expand_refs,
    limit_option,
    many_argument,
    money_option,
    probability_option,
    reference_argument,
    reference_option,
    reference_parser,
    sort_option,
    sub_app,
)
from crmcli.domain.models import OppStatus
from crmcli.i18n import N_, _

if TYPE_CHECKING:
    from crmcli.domain.models import Activity, HistoryEntry, Opportunity

app = sub_app("Opportunities: specific sales moving through your stages.")

OPP_COLUMNS = [
    "id",
    "name",
    "account_id",
    "contact_id",
    "amount",
    "probability",
    "stage",
    "status",
    "expected_close",
    "owner",
    "tags",
]

Ref = Annotated[str, reference_argument("opportunity", "An id or an unambiguous name.")]
_opp_reference = reference_parser("opportunity")
Refs = Annotated[
    list[str],
    many_argument(_opp_reference, "Ids or unambiguous names (- reads them from stdin).", "ID|NAME"),
]


Amount = Annotated[Decimal | None, money_option("Expected amount.")]
Probability = Annotated[int | None, probability_option("Win probability (set by hand).")]
Close = Annotated[date | None, date_option("Expected close date.", "--close")]
Owner = Annotated[str | None, typer.Option(help="Who works the deal (default: CRM_OWNER or you).")]
Contact = Annotated[str | None, typer.Option(help="Contact id, e-mail or name.")]


_SOURCES = {
    "stage": N_("{percent}% (stage default ({stage}))"),
    "manual": N_("{percent}% (set by hand)"),
    "won": N_("{percent}% (won)"),
    "lost": N_("{percent}% (lost)"),
}
"""The probability of a deal with where it came from, by `Opportunity.probability_source`."""


def _probability_text(opp: Opportunity) -> str:
    return _(_SOURCES[opp.probability_source]).format(percent=opp.probability, stage=opp.stage)


def show_opp(
    opp: Opportunity,
    *,
    as_json: bool,
    quiet: bool,
    title: str,
    history: list[HistoryEntry] | None = None,
    activities: list[Activity] | None = None,
) -> None:
    """Print one opportunity (and its history and activities) in the chosen form."""
    if quiet:
        render.print_ids([opp.id])
        return
    if as_json:
        data = render.jsonable(opp)
        if history is not None:
            data["history"] = render.jsonable(history)
        if activities is not None:
            data["activities"] = [activity_json(a) for a in activities]
        render.print_json(data)
        return
    pairs = [(c, render.human_cell(getattr(opp, c))) for c in OPP_COLUMNS]
    pairs[4] = ("amount", render.human_money(opp.amount))
    pairs[5] = ("probability", _probability_text(opp))
    pairs += [
        ("lost_reason", opp.lost_reason or ""),
        ("competitor", opp.competitor or ""),
        ("lead_id", render.cell(opp.lead_id)),
    ]
    render.print_record(pairs, title=title)
    if history is not None:
        rows = [
            [render.cell(h.at), h.stage or "", h.status.value, f"{h.probability}%"] for h in history
        ]
        headers = [_("at (UTC)"), _("stage"), _("status"), _("prob.")]
        render.print_table(rows, headers, title=_("History"))
    if activities:
        from crmcli.services.activities import local_now

        activities_table(activities, local_now(), title=_("Activities"))


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="A name a stranger would understand.", metavar="NAME")
    ],
    account: Annotated[
        str, reference_option("account", "Account id or name (created when the name is new).")
    ],
    contact: Contact = None,
    amount: Amount = None,
    probability: Probability = None,
    stage: Annotated[
        str | None, reference_option("stage", "Stage (default: the first).", metavar="STAGE")
    ] = None,
    close: Close = None,
    owner: Owner = None,
    tag: TagOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Open a deal with an account.

    \b
    Example: crm opp add "Site novo" --account Açaí --amount "R$ 12.000,00" --close 31/12
    """
    from crmcli.services.opportunities import add_opportunity

    result = add_opportunity(
        db(ctx),
        name,
        account=account,
        contact=contact,
        amount=amount,
        probability=probability,
        stage=stage,
        close=close,
        owner=owner,
        tags=tag or (),
    )
    announce_created_account(result.created_account)
    opp = result.opportunity
    show_opp(opp, as_json=as_json, quiet=quiet, title=_("Opportunity {id} added").format(id=opp.id))


@app.command("list")
def list_(
    ctx: typer.Context,
    stage: Annotated[
        str | None, reference_option("stage", "Only deals in this stage.", metavar="STAGE")
    ] = None,
    status: Annotated[OppStatus | None, typer.Option(help="open, won or lost.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only deals of this owner.")] = None,
    account: Annotated[
        str | None, reference_option("account", "Only deals of this account.")
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(help="Text in the deal's or its account's name (case and accents ignored)."),
    ] = None,
    min_amount: Annotated[
        Decimal | None, money_option("Only deals of at least this amount.", "--min-amount")
    ] = None,
    max_amount: Annotated[
        Decimal | None, money_option("Only deals of at most this amount.", "--max-amount")
    ] = None,
    close_after: Annotated[
        date | None, date_option("Only deals closing on this date or later.", "--close-after")
    ] = None,
    close_before: Annotated[
        date | None, date_option("Only deals closing on this date or earlier.", "--close-before")
    ] = None,
    tag: TagFilterOpt = None,
    limit: Annotated[int | None, limit_option("At most this many deals.")] = None,
    sort: Annotated[str | None, sort_option("opportunity")] = None,
    reverse: ReverseOpt = False,
    all_: AllRowsOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """List opportunities.

    \b
    Example: crm opp list --status open --owner ana --stage Proposta
    Example: crm opp list --search acai --min-amount 10000 --close-before 31/12 --sort amount
    """
    from crmcli.services.opportunities import opportunity_rows

    with opportunity_rows(
        db(ctx),
        stage=stage,
        status=status,
        owner=owner,
        account=account,
        search=search,
        min_amount=min_amount,
        max_amount=max_amount,
        close_after=close_after,
        close_before=close_before,
        tags=tag or (),
        limit=limit,
        sort=sort,
        reverse=reverse,
    ) as opps:  # read as they are written: a list of any length, piped, in flat memory
        if render.print_list(opps(), OPP_COLUMNS, as_json=as_json, as_csv=as_csv, quiet=quiet):
            return
        headers = [
            _("id"),
            _("name"),
            _("stage"),
            _("status"),
            _("amount"),
            _("prob."),
            _("close"),
            _("owner"),
        ]
        render.print_rows(
            map(opp_row, opps()),
            headers,
            right=[0, 4, 5],
            optional=[7, 5, 3],
            styles=(lambda: [_OPP_STYLES.get(o.status.value) for o in opps()])
            if render.colour()
            else None,
            screenful=limit is None and not all_,
        )


def opp_row(o: Opportunity) -> list[str]:
    """A deal as `opp list` shows it (id, name, stage, status, amount, prob., close, owner)."""
    return [
        str(o.id),
        o.name,
        o.stage or "",
        o.status.value,
        render.human_money(o.amount),
        f"{o.probability}%",
        render.human_date(o.expected_close),
        o.owner or "",
    ]


_OPP_STYLES = {"won": "green", "lost": "dim"}
"""The colour of a closed deal's row on a terminal (unless NO_COLOR)."""


@app.command("show")
def show(ctx: typer.Context, ref: Ref, as_json: JsonOpt = False) -> None:
    """Show a deal with its stage history, its activities and where its probability came from."""
    from crmcli.services.activities import show_opportunity_with_activities

    shown = show_opportunity_with_activities(db(ctx), ref)
    detail = shown.detail
    opp = detail.opportunity
    show_opp(
        opp,
        as_json=as_json,
        quiet=False,
        title=_("Opportunity {id}").format(id=opp.id),
        history=detail.history,
        activities=shown.activities,
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Ref,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    account: Annotated[
        str | None, reference_option("account", "Move the deal to another account.")
    ] = None,
    contact: Contact = None,
    amount: Amount = None,
    probability: Probability = None,
    close: Close = None,
    owner: Owner = None,
    tag: TagOpt = None,
    untag: UntagOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Change a deal's details (use `opp advance` to change its stage).

    With no detail options, on a terminal: opens the deal as a form in $VISUAL or $EDITOR.
    """
    from crmcli.cli import editing
    from crmcli.services.opportunities import edit_opportunity

    fields: dict[str, Any] = {
        "name": name,
        "account": account,
        "contact": contact,
        "amount": amount,
        "probability": probability,
        "close": close,
        "owner": owner,
    }
    if editing.wanted(*fields.values(), *(tag or ()), *(untag or ())):
        from crmcli.services.editing import opp_editing

        form = opp_editing(db(ctx), ref)
        edited = editing.edit_form(
            form, lambda changed: edit_opportunity(db(ctx), str(form.record_id), **changed)
        )
        if edited is None:
            return
        result = edited
    else:
        result = edit_opportunity(db(ctx), ref, tag=tag or (), untag=untag or (), **fields)
    announce_created_account(result.created_account)
    opp = result.opportunity
    show_opp(
        opp, as_json=as_json, quiet=quiet, title=_("Opportunity {id} updated").format(id=opp.id)
    )


@app.command("advance")
def advance(
    ctx: typer.Context,
    refs: Refs,
    to: Annotated[
        str | None,
        reference_option("stage", "Move to this stage instead.", "--to", metavar="STAGE"),
    ] = None,
    probability: Annotated[
        int | None, probability_option("Probability to set (default: the stage's).")
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Move deals to their next stage (or --to any stage; several at once: all or none).

    \b
    Example: crm opp advance 7 --to Negociação --probability 70
    """
    from crmcli.services.opportunities import advance_opportunities, advance_opportunity

    act_on(
        expand_refs(refs, _opp_reference),
        lambda ref: advance_opportunity(db(ctx), ref, to=to, probability=probability),
        lambda given: advance_opportunities(db(ctx), given, to=to, probability=probability),
        show_opp,
        _advanced,
        as_json=as_json,
        quiet=quiet,
    )


def _advanced(opp: Opportunity) -> str:
    return _("Opportunity {id} now in {stage} ({percent}%)").format(
        id=opp.id, stage=opp.stage, percent=opp.probability
    )


@app.command("win")
def win(
    ctx: typer.Context,
    refs: Refs,
    amount: Annotated[Decimal | None, money_option("The final amount.")] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Close deals as won (probability 100; several at once: all or none)."""
    from crmcli.services.opportunities import win_opportunities, win_opportunity

    act_on(
        expand_refs(refs, _opp_reference),
        lambda ref: win_opportunity(db(ctx), ref, amount=amount),
        lambda given: win_opportunities(db(ctx), given, amount=amount),
        show_opp,
        _won,
        as_json=as_json,
        quiet=quiet,
    )


def _won(opp: Opportunity) -> str:
    return _("Opportunity {id} won").format(id=opp.id)


@app.command("lose")
def lose(
    ctx: typer.Context,
    refs: Refs,
    reason: Annotated[str, typer.Option(help="Why the deal was lost.")],
    competitor: Annotated[str | None, typer.Option(help="Who won it instead.")] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Close deals as lost (probability 0), with a reason (several at once: all or none)."""
    from crmcli.services.opportunities import lose_opportunities, lose_opportunity

    act_on(
        expand_refs(refs, _opp_reference),
        lambda ref: lose_opportunity(db(ctx), ref, reason=reason, competitor=competitor),
        lambda given: lose_opportunities(db(ctx), given, reason=reason, competitor=competitor),
        show_opp,
        _lost,
        as_json=as_json,
        quiet=quiet,
    )


def _lost(opp: Opportunity) -> str:
    return _("Opportunity {id} lost").format(id=opp.id)


@app.command("reopen")
def reopen(ctx: typer.Context, ref: Ref, as_json: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Reopen a won or lost deal at its stage's default probability."""
    from crmcli.services.opportunities import reopen_opportunity

    opp = reopen_opportunity(db(ctx), ref)
    show_opp(
        opp, as_json=as_json, quiet=quiet, title=_("Opportunity {id} reopened").format(id=opp.id)
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    refs: Refs,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete a deal for good, with its stage history and activities; leads converted into it
    are unlinked (they stay converted).

    Prints what else goes or is unlinked, then asks on a terminal (scripts pass --yes).
    One change set: crm undo puts all of it back.
    """
    from crmcli.cli.removals import delete_many_previewed, delete_previewed
    from crmcli.services.opportunities import delete_opportunities, delete_opportunity

    database = db(ctx)
    given = expand_refs(refs, _opp_reference)
    if len(given) > 1:
        delete_many_previewed(
            given,
            yes=yes,
            as_json=as_json,
            remove=lambda r, dry, expected: delete_opportunities(
                database, r, dry_run=dry, expected=expected
            ),
        )
        return
    ref = given[0]
    delete_previewed(
        ref,
        yes=yes,
        as_json=as_json,
        remove=lambda r, dry, expected: delete_opportunity(
            database, r, dry_run=dry, expected=expected
        ),
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: imports.FileArg,
    mapping: imports.MapOpt = None,
    delimiter: imports.DelimiterOpt = None,
    encoding: imports.EncodingOpt = None,
    on_duplicate: imports.DuplicateOpt = imports.OnDuplicate.SKIP,
    dry_run: imports.DryRunOpt = False,
    strict: imports.StrictOpt = False,
    rejects: imports.RejectsOpt = None,
    as_json: imports.JsonSummaryOpt = False,
) -> None:
    """Import deals kept in a spreadsheet until now (name, account, amount, stage, close…).

    Accounts are created when new; a deal with the same name at the same account is a duplicate.
    Exit codes as for `crm lead import`.
    """
    imports.run_import(
        ctx,
        "opp",
        file,
        source=None,
        mapping=mapping,
        delimiter=delimiter,
        encoding=encoding,
        on_duplicate=on_duplicate,
        dry_run=dry_run,
        strict=strict,
        rejects=rejects,
        as_json=as_json,
    )
