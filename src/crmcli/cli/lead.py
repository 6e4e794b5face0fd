"""`crm lead …`: capture, qualify and convert leads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmcli.cli import imports, render
from crmcli.cli.activity import activities_table, activity_json
from crmcli.cli.common import (
    CsvOpt,
    JsonOpt,
    LeadRef,
    QuietOpt,
    ReverseOpt,
    TagFilterOpt,
    TagOpt,
    UntagOpt,
    YesOpt,
    act_on,
    confirm_delete,
    date_option,
    db,
    delete_confirmed,
    expand_refs,
    lead_argument,
    lead_reference,
    limit_option,
    many_argument,
    money_option,
    note,
    reference_option,
    sort_option,
    sub_app,
)
from crmcli.cli.merge import DryRunOpt
from crmcli.domain.models import LeadStatus
from crmcli.i18n import _, ngettext

if TYPE_CHECKING:
    from crmcli.domain.models import Activity, Lead
    from crmcli.services.leads import Conversion

app = sub_app("Leads: people or companies a conversation has started with.")

LEAD_COLUMNS = [
    "id",
    "name",
    "email",
    "phone",
    "company",
    "title",
    "source",
    "status",
    "budget",
    "timeline",
    "owner",
    "contact_id",
    "account_id",
    "opportunity_id",
    "tags",
]

Budget = Annotated[Decimal | None, money_option("What the buyer can spend.")]
Timeline = Annotated[date | None, date_option("The date by which the buyer means to decide.")]
Email = Annotated[str | None, typer.Option(help="E-mail address (unique among leads).")]
Phone = Annotated[str | None, typer.Option(help="Phone number, kept as text.")]
Company = Annotated[str | None, typer.Option(help="The company the person works for.")]
Title = Annotated[str | None, typer.Option(help="Job title.")]
Source = Annotated[str | None, typer.Option(help="Where the lead came from (trade show, web…).")]
Owner = Annotated[str | None, typer.Option(help="Who works this lead (default: CRM_OWNER or you).")]
Notes = Annotated[str | None, typer.Option(help="Free text.")]
LeadId = Annotated[LeadRef, lead_argument("The lead's id or e-mail.")]
LeadIds = Annotated[
    list[LeadRef],
    many_argument(
        lead_reference, "The leads' ids or e-mails (- reads them from stdin).", "ID|EMAIL"
    ),
]


def show_lead(
    lead: Lead,
    *,
    as_json: bool,
    quiet: bool,
    title: str | None = None,
    activities: list[Activity] | None = None,
) -> None:
    """Print one lead (and its activities, when given) in the chosen form."""
    if quiet:
        render.print_ids([lead.id])
    elif as_json:
        data = render.jsonable(lead)
        if activities is not None:
            data["activities"] = [activity_json(a) for a in activities]
        render.print_json(data)
    else:
        pairs = [(c, render.human_cell(getattr(lead, c))) for c in LEAD_COLUMNS]
        pairs += [
            ("notes", lead.notes or ""),
            ("disqualify_reason", lead.disqualify_reason or ""),
            ("created_at", render.human_moment(lead.created_at)),
        ]
        pairs += [(f"extra: {k}", v) for k, v in lead.extras.items()]
        render.print_record(pairs, title=title)
        if activities:
            from crmcli.services.activities import local_now

            activities_table(activities, local_now(), title=_("Activities"))


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The person's or company's name.", metavar="NAME")],
    email: Email = None,
    phone: Phone = None,
    company: Company = None,
    title: Title = None,
    source: Source = None,
    budget: Budget = None,
    timeline: Timeline = None,
    owner: Owner = None,
    notes: Notes = None,
    tag: TagOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Record a new lead (status new).

    \b
    Example: crm lead add "Maria Souza" --company Açaí --email maria@acai.com.br
    """
    from crmcli.services.leads import add_lead

    lead = add_lead(
        db(ctx),
        name,
        email=email,
        phone=phone,
        company=company,
        title=title,
        source=source,
        budget=budget,
        timeline=timeline,
        owner=owner,
        notes=notes,
        tags=tag or (),
    )
    show_lead(lead, as_json=as_json, quiet=quiet, title=_("Lead {id} added").format(id=lead.id))


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[LeadStatus | None, typer.Option(help="Only leads in this status.")] = None,
    source: Annotated[str | None, typer.Option(help="Only leads from this source.")] = None,
    search: Annotated[
        str | None,
        typer.Option(help="Text in the name, e-mail, company, phone, tags or notes (literal)."),
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Only leads of this owner.")] = None,
    tag: TagFilterOpt = None,
    all_: Annotated[
        bool,
        typer.Option("--all", help="Include archived leads (and show every row on a terminal)."),
    ] = False,
    limit: Annotated[int | None, limit_option("At most this many leads.")] = None,
    sort: Annotated[str | None, sort_option("lead")] = None,
    reverse: ReverseOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """List leads (archived ones only with --all or --status archived).

    \b
    Example: crm lead list --status qualified --search acai
    """
    from crmcli.services.leads import list_leads

    leads = list_leads(
        db(ctx),
        status=status,
        source=source,
        search=search,
        owner=owner,
        include_archived=all_,
        tags=tag or (),
        limit=limit,
        sort=sort,
        reverse=reverse,
    )
    if not render.print_list(leads, LEAD_COLUMNS, as_json=as_json, as_csv=as_csv, quiet=quiet):
        rows = [
            [
                str(x.id),
                x.name,
                x.company or "",
                x.email or "",
                x.status.value,
                x.source or "",
                render.human_money(x.budget),
                render.human_date(x.timeline),
                x.owner or "",
            ]
            for x in leads
        ]
        headers = [
            _("id"),
            _("name"),
            _("company"),
            _("email"),
            _("status"),
            _("source"),
            _("budget"),
            _("timeline"),
            _("owner"),
        ]
        render.print_table(
            rows,
            headers,
            right=[0, 6],
            optional=[8, 5, 7, 3],
            screenful=limit is None and not all_,
        )


@app.command("show")
def show(ctx: typer.Context, lead_id: LeadId, as_json: JsonOpt = False) -> None:
    """Show one lead and its activities."""
    from crmcli.services.activities import show_lead_with_activities

    shown = show_lead_with_activities(db(ctx), lead_id)
    show_lead(shown.lead, as_json=as_json, quiet=False, activities=shown.activities)


@app.command("edit")
def edit(
    ctx: typer.Context,
    lead_id: LeadId,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    email: Email = None,
    phone: Phone = None,
    company: Company = None,
    title: Title = None,
    source: Source = None,
    budget: Budget = None,
    timeline: Timeline = None,
    owner: Owner = None,
    notes: Notes = None,
    tag: TagOpt = None,
    untag: UntagOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Change a lead's details (an empty text value clears that field).

    With no detail options, on a terminal: opens the lead as a form in $VISUAL or $EDITOR.
    """
    from crmcli.cli import editing
    from crmcli.services.leads import edit_lead

    fields: dict[str, Any] = {
        "name": name,
        "email": email,
        "phone": phone,
        "company": company,
        "title": title,
        "source": source,
        "budget": budget,
        "timeline": timeline,
        "owner": owner,
        "notes": notes,
    }
    if editing.wanted(*fields.values(), *(tag or ()), *(untag or ())):
        from crmcli.services.editing import lead_editing

        form = lead_editing(db(ctx), lead_id)
        edited = editing.edit_form(
            form, lambda changed: edit_lead(db(ctx), form.record_id, **changed)
        )
        if edited is None:
            return
        lead = edited
    else:
        lead = edit_lead(db(ctx), lead_id, tag=tag or (), untag=untag or (), **fields)
    show_lead(lead, as_json=as_json, quiet=quiet, title=_("Lead {id} updated").format(id=lead.id))


@app.command("contact")
def contact(
    ctx: typer.Context, lead_ids: LeadIds, as_json: JsonOpt = False, quiet: QuietOpt = False
) -> None:
    """Mark new leads as contacted (several at once: all or none)."""
    from crmcli.services.leads import mark_contacted, mark_contacted_many

    act_on(
        expand_refs(lead_ids, lead_reference),
        lambda ref: mark_contacted(db(ctx), ref),
        lambda refs: mark_contacted_many(db(ctx), refs),
        show_lead,
        _contacted,
        as_json=as_json,
        quiet=quiet,
    )


def _contacted(lead: Lead) -> str:
    return _("Lead {id} contacted").format(id=lead.id)


@app.command("qualify")
def qualify(
    ctx: typer.Context,
    lead_ids: LeadIds,
    budget: Budget = None,
    timeline: Timeline = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Mark leads qualified: each needs both a budget and a timeline (all or none).

    \b
    Example: crm lead qualify 7 --budget 15000 --timeline 2026-09-30
    """
    from crmcli.services.leads import qualify_lead, qualify_leads

    act_on(
        expand_refs(lead_ids, lead_reference),
        lambda ref: qualify_lead(db(ctx), ref, budget=budget, timeline=timeline),
        lambda refs: qualify_leads(db(ctx), refs, budget=budget, timeline=timeline),
        show_lead,
        _qualified,
        as_json=as_json,
        quiet=quiet,
    )


def _qualified(lead: Lead) -> str:
    return _("Lead {id} qualified").format(id=lead.id)


@app.command("disqualify")
def disqualify(
    ctx: typer.Context,
    lead_ids: LeadIds,
    reason: Annotated[str, typer.Option(help="Why the lead is not a fit.")],
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Mark leads disqualified, with a reason (several at once: all or none)."""
    from crmcli.services.leads import disqualify_lead, disqualify_leads

    act_on(
        expand_refs(lead_ids, lead_reference),
        lambda ref: disqualify_lead(db(ctx), ref, reason),
        lambda refs: disqualify_leads(db(ctx), refs, reason),
        show_lead,
        _disqualified,
        as_json=as_json,
        quiet=quiet,
    )


def _disqualified(lead: Lead) -> str:
    return _("Lead {id} disqualified").format(id=lead.id)


@app.command("archive")
def archive(
    ctx: typer.Context, lead_ids: LeadIds, as_json: JsonOpt = False, quiet: QuietOpt = False
) -> None:
    """Hide leads from default lists (not deleted; several at once: all or none).

    \b
    Example: crm lead archive 6 7 9
    """
    from crmcli.services.leads import archive_lead, archive_leads

    act_on(
        expand_refs(lead_ids, lead_reference),
        lambda ref: archive_lead(db(ctx), ref),
        lambda refs: archive_leads(db(ctx), refs),
        show_lead,
        _archived,
        as_json=as_json,
        quiet=quiet,
    )


def _archived(lead: Lead) -> str:
    return _("Lead {id} archived").format(id=lead.id)


@app.command("reopen")
def reopen(
    ctx: typer.Context, lead_id: LeadId, as_json: JsonOpt = False, quiet: QuietOpt = False
) -> None:
    """Bring a disqualified or archived lead back to new (its history kept)."""
    from crmcli.services.leads import reopen_lead

    lead = reopen_lead(db(ctx), lead_id)
    show_lead(lead, as_json=as_json, quiet=quiet, title=_("Lead {id} reopened").format(id=lead.id))


@app.command("delete")
def delete(
    ctx: typer.Context,
    lead_ids: LeadIds,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete leads for good (asks once on a terminal; scripts pass --yes)."""
    from crmcli.services.leads import delete_lead, delete_leads, get_lead, get_leads

    database = db(ctx)
    refs = expand_refs(lead_ids, lead_reference)
    if len(refs) > 1:
        confirm_delete(yes, lambda: _leads_named(get_leads(database, refs)))
        gone = delete_leads(database, refs)
        if as_json:
            render.print_json([{"id": lead.id, "deleted": True} for lead in gone])
        else:
            for lead in gone:
                note(_("deleted {record}").format(record=_lead_named(lead)))
        return
    lead_id = refs[0]
    delete_confirmed(
        yes=yes,
        as_json=as_json,
        get=lambda: get_lead(database, lead_id),
        remove=lambda: delete_lead(database, lead_id),
        describe=lambda lead: _("lead {id} ({name})").format(id=lead.id, name=lead.name),
    )


def _lead_named(lead: Lead) -> str:
    return _("lead {id} ({name})").format(id=lead.id, name=lead.name)


def _leads_named(leads: list[Lead]) -> str:
    """`3 leads: lead 3 (Ana), lead 4 (Bo), …` for the question before a bulk delete."""
    shown = ", ".join(_lead_named(lead) for lead in leads[:10])
    if len(leads) > 10:
        shown += ", …"
    count = ngettext("{count} lead", "{count} leads", len(leads)).format(count=len(leads))
    return f"{count} ({shown})"


@app.command("merge")
def merge(
    ctx: typer.Context,
    keep: Annotated[
        LeadRef,
        typer.Argument(
            parser=lead_reference,
            metavar="KEEP",
            help="The lead that stays (id or e-mail): its values win.",
            show_default=False,
        ),
    ],
    others: Annotated[
        list[LeadRef],
        typer.Argument(
            parser=lead_reference,
            metavar="OTHER...",
            help="The leads merged into KEEP and removed (ids or e-mails), in the order they"
            " fill what KEEP lacks.",
            show_default=False,
        ),
    ],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Merge duplicate leads into KEEP: its values win, the others fill what it lacks.

    Notes and extras are kept from all (values that cannot stay go to the notes), the others'
    activities move to KEEP and the others are removed: one change set (crm undo). A converted
    lead can only be KEEP.
    """
    from crmcli.cli.merge import print_merge
    from crmcli.services.merge import merge_leads

    print_merge(merge_leads(db(ctx), keep, others, dry_run=dry_run), as_json=as_json)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: imports.FileArg,
    source: Annotated[str | None, typer.Option(help="Tag every row with this source.")] = None,
    mapping: imports.MapOpt = None,
    delimiter: imports.DelimiterOpt = None,
    encoding: imports.EncodingOpt = None,
    on_duplicate: imports.DuplicateOpt = imports.OnDuplicate.SKIP,
    dry_run: imports.DryRunOpt = False,
    strict: imports.StrictOpt = False,
    rejects: imports.RejectsOpt = None,
    as_json: imports.JsonSummaryOpt = False,
) -> None:
    """Import leads from a CSV file (a trade-show export); duplicates by e-mail.

    Exit 0 when every row was good, 3 when some were rejected (the good ones are imported),
    1 with --strict and a bad row (nothing is imported).

    \b
    Example: crm lead import feira.csv --source "Feira 2026" --rejects rejeitados.csv
    """
    imports.run_import(
        ctx,
        "lead",
        file,
        source=source,
        mapping=mapping,
        delimiter=delimiter,
        encoding=encoding,
        on_duplicate=on_duplicate,
        dry_run=dry_run,
        strict=strict,
        rejects=rejects,
        as_json=as_json,
    )


def _conversion_json(result: Conversion) -> dict[str, Any]:
    plan: dict[str, Any] = render.jsonable(result.plan)
    if result.dry_run:
        return {"dry_run": True, **plan}
    data: dict[str, Any] = render.jsonable(result.lead)
    data.update(
        account=render.jsonable(result.account),
        contact=render.jsonable(result.contact),
        opportunity=render.jsonable(result.opportunity),
        plan=plan,
    )
    return data


@app.command("convert")
def convert(
    ctx: typer.Context,
    lead_id: LeadId,
    account: Annotated[
        str | None,
        reference_option("account", "Account name or id (default: the lead's company)."),
    ] = None,
    opportunity: Annotated[str | None, typer.Option(help="Name of the new opportunity.")] = None,
    amount: Annotated[Decimal | None, money_option("Deal amount (default: the budget).")] = None,
    stage: Annotated[
        str | None,
        reference_option("stage", "Starting stage (default: the first).", metavar="STAGE"),
    ] = None,
    no_opportunity: Annotated[
        bool, typer.Option("--no-opportunity", help="Create the contact and account only.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be created or reused; write nothing.")
    ] = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Turn a qualified lead into a contact, an account and an opportunity, in one step.

    \b
    Example: crm lead convert 7 --account "Açaí Ltda" --amount 15000
    """
    from crmcli.services.leads import ConvertOptions, convert_lead

    options = ConvertOptions(account, opportunity, amount, stage, no_opportunity)
    result = convert_lead(db(ctx), lead_id, options, dry_run=dry_run)
    if as_json:
        render.print_json(_conversion_json(result))
        return
    if quiet:
        chosen = result.opportunity or result.contact
        render.print_ids([chosen.id] if chosen else [])
        return
    plan = result.plan
    dry = result.dry_run
    account_id = result.account.id if result.account else plan.account.id
    contact_id = result.contact.id if result.contact else plan.contact.id
    rows = [
        [_("account"), _step(plan.account.action, dry), plan.account.name, _id(account_id)],
        [_("contact"), _step(plan.contact.action, dry), plan.contact.name, _id(contact_id)],
    ]
    if plan.opportunity is not None:
        opp = plan.opportunity
        opp_id = _id(result.opportunity.id if result.opportunity else None)
        details = _("{name} · {amount} · {stage} ({probability}%) · close {close}").format(
            name=opp.name,
            amount=render.human_money(opp.amount),
            stage=opp.stage,
            probability=opp.probability,
            close=render.human_date(opp.expected_close) or "-",
        )
        rows.append([_("opportunity"), _step("create", dry), details, opp_id])
    title = (
        _("Lead {id}: conversion plan (dry run)") if dry else _("Lead {id}: converted")
    ).format(id=result.lead.id)
    headers = [_("record"), _("action"), _("name"), _("id")]
    render.print_table(rows, headers, title=title)


def _step(action: str, dry_run: bool) -> str:
    """What a conversion does (or would do) with one record: `action` is create or reuse."""
    if dry_run:
        return _("would create") if action == "create" else _("would reuse")
    return _("created") if action == "create" else _("reused")


def _id(value: int | None) -> str:
    return "" if value is None else str(value)
