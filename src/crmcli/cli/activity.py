"""`crm activity …` and `crm agenda`: follow-ups that keep critical steps from being forgotten."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmcli.cli import render
from crmcli.cli.common import (
    AllRowsOpt,
    CsvOpt,
    JsonOpt,
    LeadRef,
    QuietOpt,
    ReverseOpt,
    YesOpt,
    act_on,
    activity_type_parser,
    confirm_delete,
    db,
    delete_confirmed,
    expand_refs,
    id_argument,
    id_parser,
    lead_option,
    limit_option,
    many_argument,
    note,
    reference_option,
    sort_option,
    sub_app,
)
from crmcli.cli.completion import activity_types
from crmcli.domain.models import ActivityType
from crmcli.domain.rules import ACTIVITY_LINKS, activity_bucket, link_of
from crmcli.errors import CrmError
from crmcli.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from crmcli.domain.models import Activity, Opportunity, Party
    from crmcli.services.activities import Due

_activity_id = id_parser("activity")
"""An activity's id as typed (ASCII digits), read as the command line is."""

app = sub_app("Activities: calls, meetings, e-mails, tasks and notes, with due dates.")

ACTIVITY_COLUMNS = [
    "id",
    "type",
    "subject",
    "due",
    "done",
    "lead_id",
    "contact_id",
    "account_id",
    "opportunity_id",
    "due_has_time",
    "done_at",
    "owner",
    "notes",
    "created_at",
    "updated_at",
    "person_id",
]
"""JSON keys of an activity, in order (also the CSV columns)."""

ActivityId = Annotated[int, id_argument("activity", "The activity's id.")]
ActivityIds = Annotated[
    list[int],
    many_argument(_activity_id, "The activities' ids (- reads them from stdin).", "ID"),
]
LeadLink = Annotated[LeadRef | None, lead_option("A lead's id or e-mail.", "--lead")]
ContactLink = Annotated[
    str | None,
    reference_option(
        "contact",
        "A contact's id, e-mail or name (with --opp or --account: the person it is with).",
        "--contact",
        metavar="REF",
    ),
]
AccountLink = Annotated[
    str | None, reference_option("account", "An account's id or name.", "--account", metavar="REF")
]
OppLink = Annotated[
    str | None,
    reference_option("opportunity", "An opportunity's id or name.", "--opp", metavar="REF"),
]
"""The record an activity belongs to (`add`, `log`): exactly one, or a contact beside a deal
or an account."""
Subject = Annotated[str | None, typer.Option(help="What to do or what happened.")]
DueOpt = Annotated[
    str | None,
    typer.Option(
        metavar="WHEN",
        help="When it is due: a date (2026-12-15, 15/12/2026, today, tomorrow, +3d), "
        "optionally with a time (tomorrow 09:00, 2026-12-15T14:30), or HH:MM for today.",
    ),
]
Owner = Annotated[
    str | None, typer.Option(help="Whose activity it is (default: CRM_OWNER or you).")
]
Notes = Annotated[str | None, typer.Option(help="Free text.")]
TypeOpt = typer.Option(
    "--type",
    parser=activity_type_parser,
    shell_complete=activity_types,
    metavar="TYPE",
    help="call, meeting, email, task or note (also ligação, reunião, e-mail, tarefa, nota).",
)
OwnerFilter = Annotated[str | None, typer.Option("--owner", help="Only this owner's.")]

STATUS_WORDS = {
    "done": N_("done"),
    "overdue": N_("overdue"),
    "today": N_("today"),
    "upcoming": N_("upcoming"),
    "pending": N_("pending"),
}
"""An activity's status (`status_text`) as a table shows it, translated where shown."""


# -- rendering ---------------------------------------------------------------------------------


def due_text(activity: Activity, *, sep: str = "T") -> str | None:
    """The due moment as ISO local time: YYYY-MM-DD, or YYYY-MM-DDTHH:MM when it has a time."""
    if activity.due is None:
        return None
    if activity.due_has_time:
        return activity.due.isoformat(sep, "minutes")
    return activity.due.date().isoformat()


def activity_json(activity: Activity, party: Party | None = None) -> dict[str, Any]:
    """An activity as JSON data: `due` in local time without a Z, timestamps in UTC with one;
    with its `party`, a `"for"` object: the record's type, id and name, and the person to
    talk to with their phone and e-mail."""
    data: dict[str, Any] = render.jsonable(activity)
    data["due"] = due_text(activity)
    shown = {key: data[key] for key in ACTIVITY_COLUMNS}
    if party is not None:
        shown["for"] = render.jsonable(party)
    return shown


def due_shown(activity: Activity, day_text: Callable[[date], str] | None = None) -> str:
    """The due moment for people: `human_date`, then HH:MM when it has a time (local time, as
    stored: no time zone to convert). `day_text`: `render.date_text()`, chosen once."""
    if activity.due is None:
        return ""
    due = activity.due
    day = (day_text or render.date_text())(due.date())
    return f"{day} {due.hour:02d}:{due.minute:02d}" if activity.due_has_time else day


def status_shown(status: str) -> str:
    """A status of `status_text` in the interface language."""
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def link_text(activity: Activity) -> str:
    """What the activity belongs to, as `opp 3`, `lead 2`…"""
    kind, record_id = link_of(activity)
    return f"{kind} {record_id}"


def party_text(activity: Activity, party: Party | None) -> str:
    """Whom the activity is for: `opp 3: Site novo · Pedro` (the reference first, so a narrow
    column keeps it); `opp 3` without its party."""
    if party is None:
        return link_text(activity)
    who = party.name
    if party.person and party.person != party.name:
        who = f"{who} · {party.person}"
    return f"{party.type} {party.id}: {who}"


def status_text(activity: Activity, now: datetime) -> str:
    """done, overdue, today, upcoming, or pending (no due date)."""
    if activity.done:
        return "done"
    return activity_bucket(activity, now) or "pending"


def activities_table(
    activities: Sequence[Activity],
    now: datetime,
    *,
    title: str | None = None,
    status: str | None = None,
    screenful: bool = False,
    parties: Mapping[int, Party] | None = None,
) -> None:
    """Activities as a table: id, type, subject, due, status, whom they are for (by name,
    with the phone, else the e-mail, to reach them, when `parties` are given), owner.

    `status` is every row's when the caller knows it (the agenda's overdue and today);
    overdue rows are red on a terminal, today's yellow, done ones dim; with `screenful`, a
    long list on a terminal stops at a screenful (render.print_table)."""
    statuses = [status or status_text(a, now) for a in activities]
    words = {s: status_shown(s) for s in set(statuses)}
    day_text = render.date_text()
    known = parties or {}
    rows = []
    for a, state in zip(activities, statuses, strict=True):
        party = known.get(a.id)
        rows.append(
            [
                str(a.id),
                a.type.value,
                a.subject,
                due_shown(a, day_text),
                words[state],
                party_text(a, party),
                (party.phone or party.email or "") if party else "",
                a.owner or "",
            ]
        )
    headers = [
        _("id"),
        _("type"),
        _("subject"),
        _("due"),
        _("status"),
        _("for"),
        _("phone or e-mail"),
        _("owner"),
    ]
    optional = [7, 1, 6]
    if parties is None:  # no phones nor e-mails to show
        rows = [r[:6] + r[7:] for r in rows]
        headers = headers[:6] + headers[7:]
        optional = [6, 1]
    styles = [_STATUS_STYLES.get(s) for s in statuses] if render.colour() else None
    render.print_table(
        rows,
        headers,
        title=title,
        right=[0],
        optional=optional,
        styles=styles,
        screenful=screenful,
    )


_STATUS_STYLES = {"overdue": "red", "today": "yellow", "done": "dim"}
"""The colour of an activity's row on a terminal (unless NO_COLOR)."""


def show_activity(activity: Activity, *, as_json: bool, quiet: bool, title: str) -> None:
    """Print one activity in the chosen form."""
    if quiet:
        render.print_ids([activity.id])
        return
    if as_json:
        render.print_json(activity_json(activity))
        return
    from crmcli.services.activities import local_now

    pairs = [
        ("id", str(activity.id)),
        ("type", activity.type.value),
        ("subject", activity.subject),
        ("due", due_shown(activity)),
        ("status", status_shown(status_text(activity, local_now()))),
        *((attr, render.cell(getattr(activity, attr))) for attr in ACTIVITY_LINKS.values()),
        ("person_id", render.cell(activity.person_id)),
        ("owner", activity.owner or ""),
        ("notes", activity.notes or ""),
        ("done_at", render.human_moment(activity.done_at)),
        ("created_at", render.human_moment(activity.created_at)),
    ]
    render.print_record(pairs, title=title)


def _due(ctx: typer.Context, text: str | None) -> Due | None:
    """`--due` parsed now (relative to CRM_NOW when set); a bad value is a usage error."""
    if text is None or not text.strip():
        return None
    from crmcli.services.activities import local_now, parse_due

    now = local_now()  # a bad CRM_NOW is its own error, not --due's
    try:
        return parse_due(text, now=now)
    except CrmError as exc:
        raise typer.BadParameter(str(exc), ctx=ctx, param_hint="'--due'") from None


# -- commands ----------------------------------------------------------------------------------


@app.command("add")
def add(
    ctx: typer.Context,
    subject: Annotated[str, typer.Argument(help="What to do or what happened.", metavar="SUBJECT")],
    type_: Annotated[ActivityType, TypeOpt],
    lead: LeadLink = None,
    contact: ContactLink = None,
    account: AccountLink = None,
    opp: OppLink = None,
    due: DueOpt = None,
    owner: Owner = None,
    notes: Notes = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Record an activity on exactly one lead, contact, account or opportunity (with --opp or
    --account, --contact names the person it is with). A note is recorded as done.

    \b
    Example: crm activity add "Ligar para a Maria" --type ligação --due amanhã --opp 3
    """
    from crmcli.services.activities import add_activity

    activity = add_activity(
        db(ctx),
        subject,
        type_=type_,
        lead=lead,
        contact=contact,
        account=account,
        opp=opp,
        due=_due(ctx, due),
        owner=owner,
        notes=notes,
    )
    show_activity(
        activity,
        as_json=as_json,
        quiet=quiet,
        title=_("Activity {id} added").format(id=activity.id),
    )


@app.command("log")
def log(
    ctx: typer.Context,
    subject: Annotated[str, typer.Argument(help="What happened.", metavar="SUBJECT")],
    type_: Annotated[ActivityType, TypeOpt],
    lead: LeadLink = None,
    contact: ContactLink = None,
    account: AccountLink = None,
    opp: OppLink = None,
    at: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN",
            help="When it happened, as --due takes it (yesterday 15:00, 14:30, 05/12/2026); "
            "default: now.",
        ),
    ] = None,
    owner: Owner = None,
    notes: Notes = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Record an activity that already happened (done, at --at or now): a call made, a meeting
    held, a note.

    \b
    Example: crm activity log "Falou com o Pedro: sem verba até março" --type ligação --opp 3
    """
    from crmcli.services.activities import log_activity

    activity = log_activity(
        db(ctx),
        subject,
        type_=type_,
        at=at,
        lead=lead,
        contact=contact,
        account=account,
        opp=opp,
        owner=owner,
        notes=notes,
    )
    show_activity(
        activity,
        as_json=as_json,
        quiet=quiet,
        title=_("Activity {id} logged").format(id=activity.id),
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Due before now (a date-only due: before today).")
    ] = False,
    today: Annotated[bool, typer.Option("--today", help="Due today and not overdue.")] = False,
    upcoming: Annotated[bool, typer.Option("--upcoming", help="Due after today.")] = False,
    for_: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--for",
            metavar="KIND ID",
            help="Only those of one record: KIND is opp, lead, contact or account; "
            "ID an id (or a name, except for leads).",
        ),
    ] = None,
    owner: OwnerFilter = None,
    all_: Annotated[
        bool,
        typer.Option("--all", help="Include done activities (and show every row on a terminal)."),
    ] = False,
    limit: Annotated[int | None, limit_option("At most this many activities.")] = None,
    sort: Annotated[str | None, sort_option("activity")] = None,
    reverse: ReverseOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """List pending activities, soonest due first (--all includes done ones).

    --overdue, --today and --upcoming can be combined (any of them matches).
    """
    from crmcli.services.activities import list_activities, local_now

    chosen = [
        name
        for name, flag in (("overdue", overdue), ("today", today), ("upcoming", upcoming))
        if flag
    ]
    now = local_now()
    listed = list_activities(
        db(ctx),
        buckets=chosen,
        link=for_,
        include_done=all_,
        owner=owner,
        now=now,
        limit=limit,
        sort=sort,
        reverse=reverse,
    )
    activities, parties = listed.activities, listed.parties
    if quiet:
        render.print_ids(a.id for a in activities)
    elif as_json:
        render.print_json([activity_json(a, parties.get(a.id)) for a in activities])
    elif as_csv:
        render.print_csv([activity_json(a) for a in activities], ACTIVITY_COLUMNS)
    else:
        activities_table(activities, now, screenful=limit is None and not all_, parties=parties)


@app.command("show")
def show(ctx: typer.Context, activity_id: ActivityId, as_json: JsonOpt = False) -> None:
    """Show one activity."""
    from crmcli.services.activities import get_activity

    activity = get_activity(db(ctx), activity_id)
    show_activity(
        activity, as_json=as_json, quiet=False, title=_("Activity {id}").format(id=activity.id)
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    activity_id: ActivityId,
    subject: Subject = None,
    type_: Annotated[ActivityType | None, TypeOpt] = None,
    due: DueOpt = None,
    owner: Owner = None,
    notes: Notes = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Change an activity's details (--due '' clears the due date; an empty text clears it)."""
    from crmcli.services.activities import edit_activity

    activity = edit_activity(
        db(ctx),
        activity_id,
        subject=subject,
        type_=type_,
        due=_due(ctx, due),
        clear_due=due is not None and not due.strip(),
        owner=owner,
        notes=notes,
    )
    show_activity(
        activity,
        as_json=as_json,
        quiet=quiet,
        title=_("Activity {id} updated").format(id=activity.id),
    )


@app.command("done")
def done(
    ctx: typer.Context,
    activity_ids: ActivityIds,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Mark activities done (one already done is refused; several at once: all or none)."""
    from crmcli.services.activities import complete_activities, complete_activity

    act_on(
        expand_refs(activity_ids, _activity_id),
        lambda activity_id: complete_activity(db(ctx), activity_id),
        lambda ids: complete_activities(db(ctx), ids),
        show_activity,
        lambda a: _("Activity {id} done").format(id=a.id),
        as_json=as_json,
        quiet=quiet,
        name=lambda a: a.subject,
        data=activity_json,
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    activity_ids: ActivityIds,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete activities for good (asks once on a terminal; scripts pass --yes)."""
    from crmcli.services.activities import (
        delete_activities,
        delete_activity,
        get_activities,
        get_activity,
    )

    database = db(ctx)
    ids = expand_refs(activity_ids, _activity_id)
    if len(ids) > 1:
        confirm_delete(yes, lambda: _activities_named(get_activities(database, ids)))
        gone = delete_activities(database, ids)
        if as_json:
            render.print_json([{"id": a.id, "deleted": True} for a in gone])
        else:
            for a in gone:
                note(_("deleted {record}").format(record=_activity_named(a)))
        return
    activity_id = ids[0]
    delete_confirmed(
        yes=yes,
        as_json=as_json,
        get=lambda: get_activity(database, activity_id),
        remove=lambda: delete_activity(database, activity_id),
        describe=_activity_named,
    )


def _activity_named(activity: Activity) -> str:
    return _("activity {id} ({subject})").format(id=activity.id, subject=activity.subject)


def _activities_named(activities: list[Activity]) -> str:
    """`3 activities (activity 3 (Call), …)` for the question before a bulk delete."""
    shown = ", ".join(_activity_named(a) for a in activities[:10])
    if len(activities) > 10:
        shown += ", …"
    n = len(activities)
    return f"{ngettext('{count} activity', '{count} activities', n).format(count=n)} ({shown})"


def _deals_table(opps: Sequence[Opportunity], title: str) -> None:
    rows = [
        [
            str(o.id),
            o.name,
            o.stage or "",
            render.human_money(o.amount),
            render.human_date(o.expected_close),
            o.owner or "",
        ]
        for o in opps
    ]
    headers = [_("id"), _("name"), _("stage"), _("amount"), _("close"), _("owner")]
    render.print_table(rows, headers, title=title, right=[0, 3])


def shares(sizes: Sequence[int], room: int) -> list[int]:
    """How many of each list's `sizes` rows to show when `room` rows fit in all (at least 3
    each): an equal share each, and what a shorter list does not use goes to the longer ones."""
    shown = [0] * len(sizes)
    left = max(room, 3 * len(sizes))
    for place, index in enumerate(sorted(range(len(sizes)), key=lambda i: sizes[i])):
        shown[index] = min(sizes[index], left // (len(sizes) - place))
        left -= shown[index]
    return shown


AGENDA_DEALS = 20
"""How many deals with no next step the agenda shows when piped (`report stale` lists all)."""


def agenda(
    ctx: typer.Context,
    owner: OwnerFilter = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="At most N rows in each section (default: a screenful on a terminal; piped,"
            " every activity and 20 deals).",
        ),
    ] = None,
    all_: AllRowsOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Overdue and today's activities, then open deals with no next step.

    The first command of the morning. Open deals with no next step are open opportunities
    without a pending activity: give each one (crm activity add … --opp ID --due …).

    \b
    Example: crm agenda --owner ana --limit 5
    """
    from crmcli.services.agenda import agenda as build_agenda

    room = None if all_ or as_json or limit is not None else render.screen_rows(title=False)
    due_limit = limit if limit is not None else room
    deal_limit = None if all_ else limit or room or AGENDA_DEALS
    day = build_agenda(db(ctx), owner=owner, limit=deal_limit, due_limit=due_limit)
    parties = day.parties
    if as_json:
        render.print_json(
            {
                "now": day.now.strftime("%Y-%m-%dT%H:%M"),
                "overdue": [activity_json(a, parties.get(a.id)) for a in day.overdue],
                "today": [activity_json(a, parties.get(a.id)) for a in day.today],
                "no_next_step": render.jsonable(day.no_next_step),
                "no_next_step_total": day.no_next_step_total,
                "overdue_total": day.overdue_total,
                "today_total": day.today_total,
            }
        )
        return
    today = _("Today ({date})").format(date=render.human_date(day.now.date()))
    sections: list[tuple[str, Sequence[Any], int, str]] = [
        (_("Overdue"), day.overdue, day.overdue_total, "overdue"),
        (today, day.today, day.today_total, "today"),
        (_("Open deals with no next step"), day.no_next_step, day.no_next_step_total, ""),
    ]
    if room is not None:  # one screenful in all: what a short section leaves goes to the others
        busy = sum(bool(items) for _title, items, _total, _status in sections)
        shown = shares([len(items) for _title, items, _total, _status in sections], room - 6 * busy)
        sections = [
            (t, items[:n], total, st)
            for (t, items, total, st), n in zip(sections, shown, strict=True)
        ]
    for index, (title, items, total, status) in enumerate(sections):
        if index:
            sys.stdout.write("\n")
        if not items:
            sys.stdout.write(_("{title}: nothing").format(title=title) + "\n")
            continue
        if index < 2:
            activities_table(items, day.now, title=title, status=status, parties=parties)
            more = _("… and {count} more (crm agenda --all lists them all)")
        else:
            _deals_table(items, title)
            more = _("… and {count} more (crm report stale lists them all)")
        if total > len(items):
            sys.stdout.write(more.format(count=render.human_count(total - len(items))) + "\n")
