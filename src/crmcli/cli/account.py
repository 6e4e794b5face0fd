"""`crm account …` and `crm contact …`: companies and the people at them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmcli.cli import render
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
    announce_created_account,
    db,
    limit_option,
    reference_argument,
    reference_option,
    sort_option,
    sub_app,
)
from crmcli.cli.merge import DryRunOpt, keep_argument, others_argument
from crmcli.domain.models import ContactType
from crmcli.i18n import _

if TYPE_CHECKING:
    from crmcli.domain.models import Activity, Opportunity, Party

account_app = sub_app("Accounts: the companies you sell to.")
contact_app = sub_app("Contacts: people with an ongoing relationship, usually at an account.")

ACCOUNT_COLUMNS = ["id", "name", "industry", "website", "phone", "notes", "created_at", "tags"]
CONTACT_COLUMNS = ["id", "name", "type", "email", "phone", "title", "account_id", "notes", "tags"]

Ref = Annotated[str, reference_argument("account", "An id or an unambiguous name.")]
Industry = Annotated[str | None, typer.Option(help="What the company does.")]
Website = Annotated[str | None, typer.Option(help="Web address.")]
Phone = Annotated[str | None, typer.Option(help="Phone number, kept as text.")]
Notes = Annotated[str | None, typer.Option(help="Free text.")]
Email = Annotated[str | None, typer.Option(help="E-mail address (unique among contacts).")]
Title = Annotated[str | None, typer.Option(help="Job title.")]
AccountRef = Annotated[
    str | None, reference_option("account", "Account id or name (created when the name is new).")
]
ContactRef = Annotated[
    str, reference_argument("contact", "An id, e-mail or unambiguous name.", "REF")
]
TypeOpt = Annotated[ContactType | None, typer.Option("--type", help="Relationship type.")]


@account_app.command("add")
def account_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The company's name.", metavar="NAME")],
    industry: Industry = None,
    website: Website = None,
    phone: Phone = None,
    notes: Notes = None,
    tag: TagOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Record a company (refused if one with the same normalised name exists).

    \b
    Example: crm account add "Açaí Comércio" --industry Alimentos --phone "(11) 3456-7890"
    """
    from crmcli.services.accounts import add_account

    account = add_account(
        db(ctx),
        name,
        industry=industry,
        website=website,
        phone=phone,
        notes=notes,
        tags=tag or (),
    )
    render.print_one(
        account,
        ACCOUNT_COLUMNS,
        as_json=as_json,
        quiet=quiet,
        title=_("Account {id} added").format(id=account.id),
    )


@account_app.command("list")
def account_list(
    ctx: typer.Context,
    search: Annotated[str | None, typer.Option(help="Text in the name (literal).")] = None,
    tag: TagFilterOpt = None,
    limit: Annotated[int | None, limit_option("At most this many accounts.")] = None,
    sort: Annotated[str | None, sort_option("account")] = None,
    reverse: ReverseOpt = False,
    all_: AllRowsOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """List accounts by name."""
    from crmcli.services.accounts import list_accounts

    accounts = list_accounts(
        db(ctx), search=search, tags=tag or (), limit=limit, sort=sort, reverse=reverse
    )
    if not render.print_list(
        accounts, ACCOUNT_COLUMNS, as_json=as_json, as_csv=as_csv, quiet=quiet
    ):
        rows = [[str(a.id), a.name, a.industry or "", a.website or ""] for a in accounts]
        headers = [_("id"), _("name"), _("industry"), _("website")]
        render.print_table(rows, headers, right=[0], screenful=limit is None and not all_)


@account_app.command("show")
def account_show(ctx: typer.Context, ref: Ref, as_json: JsonOpt = False) -> None:
    """Show an account with its contacts and deals."""
    from crmcli.services.accounts import show_account

    detail = show_account(db(ctx), ref)
    if as_json:
        data = render.jsonable(detail.account)
        data["contacts"] = render.jsonable(detail.contacts)
        data["opportunities"] = render.jsonable(detail.opportunities)
        data["activities"] = _activities_json(detail.activities, detail.parties)
        render.print_json(data)
        return
    account = detail.account
    render.print_one(
        account,
        ACCOUNT_COLUMNS,
        as_json=False,
        quiet=False,
        title=_("Account {id}").format(id=account.id),
    )
    contacts = [[str(c.id), c.name, c.type.value, c.email or ""] for c in detail.contacts]
    render.print_table(
        contacts,
        [_("id"), _("name"), _("type"), _("email")],
        title=_("Contacts"),
        right=[0],
    )
    _deals_table(detail.opportunities)
    _activities_table(detail.activities, detail.parties)


def _deals_table(opportunities: Sequence[Opportunity]) -> None:
    from crmcli.cli.opp import opp_row

    deals = [opp_row(o)[:6] for o in opportunities]  # as `opp list`, to the probability
    headers = [_("id"), _("name"), _("stage"), _("status"), _("amount"), _("prob.")]
    render.print_table(deals, headers, title=_("Opportunities"), right=[0, 4, 5])


def _activities_table(activities: Sequence[Activity], parties: Mapping[int, Party]) -> None:
    from crmcli.cli.activity import activities_table
    from crmcli.services.activities import local_now

    if activities:
        activities_table(activities, local_now(), title=_("Activities"), parties=parties)


def _activities_json(
    activities: Sequence[Activity], parties: Mapping[int, Party]
) -> list[dict[str, Any]]:
    from crmcli.cli.activity import activity_json

    return [activity_json(a, parties.get(a.id)) for a in activities]


@account_app.command("edit")
def account_edit(
    ctx: typer.Context,
    ref: Ref,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    industry: Industry = None,
    website: Website = None,
    phone: Phone = None,
    notes: Notes = None,
    tag: TagOpt = None,
    untag: UntagOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Change an account's details.

    With no detail options, on a terminal: opens the account as a form in $VISUAL or $EDITOR.
    """
    from crmcli.cli import editing
    from crmcli.services.accounts import edit_account

    fields: dict[str, Any] = {
        "name": name,
        "industry": industry,
        "website": website,
        "phone": phone,
        "notes": notes,
    }
    if editing.wanted(*fields.values(), *(tag or ()), *(untag or ())):
        from crmcli.services.editing import account_editing

        form = account_editing(db(ctx), ref)
        edited = editing.edit_form(
            form, lambda changed: edit_account(db(ctx), str(form.record_id), **changed)
        )
        if edited is None:
            return
        account = edited
    else:
        account = edit_account(db(ctx), ref, tag=tag or (), untag=untag or (), **fields)
    render.print_one(
        account,
        ACCOUNT_COLUMNS,
        as_json=as_json,
        quiet=quiet,
        title=_("Account {id} updated").format(id=account.id),
    )


@account_app.command("delete")
def account_delete(
    ctx: typer.Context,
    ref: Ref,
    cascade: Annotated[
        bool,
        typer.Option(
            "--cascade",
            help="Also delete the account's contacts and deals (with their activities and"
            " history); without it an account that has any is refused.",
        ),
    ] = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete an account for good, with its activities; leads pointing at it are unlinked.

    Prints what else goes or is unlinked, then asks on a terminal (scripts pass --yes).
    One change set: crm undo puts all of it back.
    """
    from crmcli.cli.removals import delete_previewed
    from crmcli.services.accounts import delete_account

    database = db(ctx)
    delete_previewed(
        ref,
        yes=yes,
        as_json=as_json,
        remove=lambda r, dry, expected: delete_account(
            database, r, cascade=cascade, dry_run=dry, expected=expected
        ),
    )


@contact_app.command("add")
def contact_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The person's name.", metavar="NAME")],
    account: AccountRef = None,
    type_: TypeOpt = None,
    email: Email = None,
    phone: Phone = None,
    title: Title = None,
    notes: Notes = None,
    tag: TagOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Record a person, usually at an account (default type: prospect)."""
    from crmcli.services.accounts import add_contact

    result = add_contact(
        db(ctx),
        name,
        account=account,
        type_=type_,
        email=email,
        phone=phone,
        title=title,
        notes=notes,
        tags=tag or (),
    )
    announce_created_account(result.created_account)
    contact = result.contact
    render.print_one(
        contact,
        CONTACT_COLUMNS,
        as_json=as_json,
        quiet=quiet,
        title=_("Contact {id} added").format(id=contact.id),
    )


@contact_app.command("list")
def contact_list(
    ctx: typer.Context,
    account: Annotated[
        str | None, reference_option("account", "Only contacts of this account.")
    ] = None,
    type_: TypeOpt = None,
    tag: TagFilterOpt = None,
    limit: Annotated[int | None, limit_option("At most this many contacts.")] = None,
    sort: Annotated[str | None, sort_option("contact")] = None,
    reverse: ReverseOpt = False,
    all_: AllRowsOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """List contacts by name."""
    from crmcli.services.accounts import list_contacts

    contacts = list_contacts(
        db(ctx),
        account=account,
        type_=type_.value if type_ else None,
        tags=tag or (),
        limit=limit,
        sort=sort,
        reverse=reverse,
    )
    if not render.print_list(
        contacts, CONTACT_COLUMNS, as_json=as_json, as_csv=as_csv, quiet=quiet
    ):
        rows = [
            [
                str(c.id),
                c.name,
                c.type.value,
                c.email or "",
                c.phone or "",
                render.cell(c.account_id),
            ]
            for c in contacts
        ]
        headers = [_("id"), _("name"), _("type"), _("email"), _("phone"), _("account")]
        render.print_table(rows, headers, right=[0, 5], screenful=limit is None and not all_)


@contact_app.command("show")
def contact_show(
    ctx: typer.Context,
    ref: ContactRef,
    as_json: JsonOpt = False,
) -> None:
    """Show one contact with their deals and activities."""
    from crmcli.services.accounts import show_contact

    detail = show_contact(db(ctx), ref)
    contact = detail.contact
    if as_json:
        data = render.jsonable(contact)
        data["opportunities"] = render.jsonable(detail.opportunities)
        data["activities"] = _activities_json(detail.activities, detail.parties)
        render.print_json(data)
        return
    render.print_one(
        contact,
        CONTACT_COLUMNS,
        as_json=False,
        quiet=False,
        title=_("Contact {id}").format(id=contact.id),
    )
    if detail.opportunities:
        _deals_table(detail.opportunities)
    _activities_table(detail.activities, detail.parties)


@contact_app.command("edit")
def contact_edit(
    ctx: typer.Context,
    ref: ContactRef,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    account: AccountRef = None,
    type_: TypeOpt = None,
    email: Email = None,
    phone: Phone = None,
    title: Title = None,
    notes: Notes = None,
    tag: TagOpt = None,
    untag: UntagOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Change a contact's details, account or relationship type.

    With no detail options, on a terminal: opens the contact as a form in $VISUAL or $EDITOR.
    """
    from crmcli.cli import editing
    from crmcli.services.accounts import edit_contact

    fields: dict[str, Any] = {
        "account": account,
        "type_": type_.value if type_ else None,
        "name": name,
        "email": email,
        "phone": phone,
        "title": title,
        "notes": notes,
    }
    if editing.wanted(*fields.values(), *(tag or ()), *(untag or ())):
        from crmcli.services.editing import contact_editing

        form = contact_editing(db(ctx), ref)
        edited = editing.edit_form(
            form,
            lambda changed: edit_contact(
                db(ctx), str(form.record_id), type_=changed.pop("type", None), **changed
            ),
        )
        if edited is None:
            return
        result = edited
    else:
        result = edit_contact(db(ctx), ref, tag=tag or (), untag=untag or (), **fields)
    announce_created_account(result.created_account)
    contact = result.contact
    render.print_one(
        contact,
        CONTACT_COLUMNS,
        as_json=as_json,
        quiet=quiet,
        title=_("Contact {id} updated").format(id=contact.id),
    )


@contact_app.command("delete")
def contact_delete(
    ctx: typer.Context,
    ref: ContactRef,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete a contact for good, with its activities; deals and leads pointing at it are
    unlinked (they stay).

    Prints what else goes or is unlinked, then asks on a terminal (scripts pass --yes).
    One change set: crm undo puts all of it back.
    """
    from crmcli.cli.removals import delete_previewed
    from crmcli.services.accounts import delete_contact

    database = db(ctx)
    delete_previewed(
        ref,
        yes=yes,
        as_json=as_json,
        remove=lambda r, dry, expected: delete_contact(database, r, dry_run=dry, expected=expected),
    )


@account_app.command("merge")
def account_merge(
    ctx: typer.Context,
    keep: Annotated[str, keep_argument("account")],
    others: Annotated[list[str], others_argument("account")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Merge duplicate accounts into KEEP: its values win, the others fill what it lacks.

    The others' contacts, deals, activities and converted leads move to KEEP, their notes are
    kept, and the others are removed: one change set (crm undo).
    """
    from crmcli.cli.merge import print_merge
    from crmcli.services.merge import merge_accounts

    print_merge(merge_accounts(db(ctx), keep, others, dry_run=dry_run), as_json=as_json)


@contact_app.command("merge")
def contact_merge(
    ctx: typer.Context,
    keep: Annotated[str, keep_argument("contact")],
    others: Annotated[list[str], others_argument("contact")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Merge duplicate contacts into KEEP: its values win, the others fill what it lacks.

    The others' deals, activities and converted leads move to KEEP, their notes are kept (an
    e-mail that cannot stay goes to the notes), and the others are removed: one change set.
    """
    from crmcli.cli.merge import print_merge
    from crmcli.services.merge import merge_contacts

    print_merge(merge_contacts(db(ctx), keep, others, dry_run=dry_run), as_json=as_json)
