"""`crm forecast` and `crm report …`: what the pipeline is likely to bring, and how it performs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmcli import i18n
from crmcli.cli import render
from crmcli.cli.common import AllRowsOpt, CsvOpt, JsonOpt, date_option, db, note, sub_app
from crmcli.cli.pipeline import AsOfOpt, bar
from crmcli.domain.rules import DEFAULT_STALE_DAYS, MAX_STALE_DAYS, NO_GROUP
from crmcli.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from crmcli.reports.analytics import (
        ConversionReport,
        StaleDeal,
        StaleReport,
        VelocityReport,
        WinRateReport,
        WinRateRow,
    )
    from crmcli.reports.forecast import ForecastReport

app = sub_app("Reports: win rate, lead conversion, velocity, stale deals.")


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


class Grouping(StrEnum):
    OWNER = "owner"
    SOURCE = "source"


OwnerOpt = Annotated[str | None, typer.Option(help="Only deals of this owner.")]


def tenths(value: Decimal | None) -> str | None:
    """A rate or a number of days for JSON/CSV: a decimal string with one place, or null."""
    return None if value is None else f"{value:.1f}"


_PT_NUMBER = str.maketrans(",.", ".,")


def _human_tenths(value: Decimal | None, unit: str = "") -> str:
    """A rate or a number of days for people, one decimal: `1,234.5` in English, `1.234,5` in
    Portuguese; a dash when there is none."""
    if value is None:
        return "—"
    text = f"{value:,.1f}"
    return (text.translate(_PT_NUMBER) if i18n.portuguese() else text) + unit


def _group_shown(name: str) -> str:
    """A group of a report (an owner, a source) as a table shows it: "(none)" translated."""
    return _("(none)") if name == NO_GROUP else name


def _record(row: Any, tenth_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = render.jsonable(row)
    for name in tenth_fields:
        data[name] = tenths(getattr(row, name))
    return data


def _currency(code: str | None) -> str:
    return f" ({code})" if code else ""


# -- forecast ------------------------------------------------------------------------------

FORECAST_COLUMNS = ["period", "count", "amount", "weighted", "won"]

FORECAST_TITLES = {
    ("month", False): N_("Forecast by month, {first} to {last}"),
    ("month", True): N_("Forecast by month of {owner}, {first} to {last}"),
    ("quarter", False): N_("Forecast by quarter, {first} to {last}"),
    ("quarter", True): N_("Forecast by quarter of {owner}, {first} to {last}"),
}
"""The forecast's title, by period kind and whether an owner was asked for."""


def forecast_json(report: ForecastReport) -> dict[str, object]:
    """The contract's JSON shape of the forecast (plus the horizon, later deals and a total)."""
    total = render.jsonable(report.total)
    del total["period"]
    return {
        "by": report.by,
        "months": report.months,
        "start": render.jsonable(report.start),
        "end": render.jsonable(report.end),
        "periods": render.jsonable(report.periods),
        "overdue": render.jsonable(report.overdue),
        "later": render.jsonable(report.later),
        "no_close_date": render.jsonable(report.no_close_date),
        "total": total,
        "owner": report.owner,
        "currency": report.currency,
    }


def _forecast_csv_rows(report: ForecastReport) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [render.jsonable(r) for r in report.periods]
    for label, bucket in (
        ("overdue", report.overdue),
        ("later", report.later),
        ("no_close_date", report.no_close_date),
    ):
        rows.append({"period": label, **render.jsonable(bucket), "won": None})
    rows.append({**render.jsonable(report.total), "period": "total"})
    return rows


def print_forecast(report: ForecastReport, as_of: date | None = None) -> None:
    """The forecast as a table, with a bar of the weighted amount per period on a terminal."""
    tty = render.is_terminal()
    money = render.human_money
    biggest = float(max((r.weighted for r in report.periods), default=0))
    rows = []
    for r in report.periods:
        row = [r.period, str(r.count), money(r.amount), money(r.weighted), money(r.won)]
        rows.append([*row, bar(float(r.weighted), biggest)] if tty else row)
    end = report.periods[-1].period if report.periods else ""
    for label, bucket in (
        (_("overdue"), report.overdue),
        (_("after {period}").format(period=end), report.later),
        (_("no close date"), report.no_close_date),
    ):
        row = [label, str(bucket.count), money(bucket.amount), money(bucket.weighted), ""]
        rows.append([*row, ""] if tty else row)
    cur = _currency(report.currency)
    headers = [_("period"), _("deals"), _("amount") + cur, _("weighted") + cur, _("won") + cur]
    t = report.total
    footer = [_("Total"), str(t.count), money(t.amount), money(t.weighted), money(t.won)]
    if not tty:
        rows.append(footer)
    first = report.periods[0].period if report.periods else ""
    template = FORECAST_TITLES[(report.by, bool(report.owner))]
    title = _(template).format(owner=report.owner, first=first, last=end)
    if as_of is not None:
        title += _(", as of {date}").format(date=render.human_date(as_of))
    render.print_table(
        rows,
        [*headers, _("weighted")] if tty else headers,
        title=title,
        right=[1, 2, 3, 4],
        footer=[*footer, ""] if tty else None,
    )


def forecast(
    ctx: typer.Context,
    by: Annotated[
        PeriodKind, typer.Option("--by", help="Group by month (YYYY-MM) or quarter (YYYY-Qn).")
    ] = PeriodKind.MONTH,
    months: Annotated[
        int,
        typer.Option(
            "--months",
            min=1,
            metavar="N",
            max=120,
            help="Horizon in months, starting with the current period (rounded up to quarters).",
        ),
    ] = 6,
    owner: OwnerOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Open deals by expected-close month or quarter, with overdue deals and won amounts.

    \b
    Example: crm forecast --by quarter --months 12 --owner ana
    """
    if as_of is not None:
        forecast_as_of(
            ctx, as_of, by=by, months=months, owner=owner, as_json=as_json, as_csv=as_csv
        )
        return
    from crmcli.services.reports import forecast_report

    data = forecast_report(db(ctx), by=by.value, months=months, owner=owner)
    if as_json:
        render.print_json(forecast_json(data))
    elif as_csv:
        render.print_csv(_forecast_csv_rows(data), FORECAST_COLUMNS)
    else:
        print_forecast(data)


def forecast_as_of(
    ctx: typer.Context,
    as_of: date,
    *,
    by: PeriodKind,
    months: int,
    owner: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """`forecast --as-of DATE`: the forecast as if today were that day, rebuilt from the history
    (JSON adds `as_of`); what history cannot tell goes to stderr first."""
    from crmcli.services.reports import forecast_report_as_of

    dated = forecast_report_as_of(db(ctx), as_of=as_of, by=by.value, months=months, owner=owner)
    for line in dated.notes:
        note(line)
    data = dated.report
    if as_json:
        render.print_json({**forecast_json(data), "as_of": as_of.isoformat()})
    elif as_csv:
        render.print_csv(_forecast_csv_rows(data), FORECAST_COLUMNS)
    else:
        print_forecast(data, as_of)


# -- win rate ------------------------------------------------------------------------------

_RATE_FIELDS = ("win_rate", "value_win_rate")
WIN_RATE_COLUMNS = ["group", "won", "lost", "won_amount", "lost_amount", *_RATE_FIELDS]

GROUP_HEADERS = {"owner": N_("owner"), "source": N_("source")}
"""The heading of the win rate's first column, by grouping."""

WIN_RATE_TITLES = {
    ("owner", False): N_("Win rate by owner (won / (won + lost))"),
    ("owner", True): N_("Win rate by owner, closed since {date} (won / (won + lost))"),
    ("source", False): N_("Win rate by source (won / (won + lost))"),
    ("source", True): N_("Win rate by source, closed since {date} (won / (won + lost))"),
}
"""The win rate's title, by grouping and whether a --since date was given."""


def win_rate_json(report: WinRateReport) -> dict[str, object]:
    """Groups and an overall row; rates as one-decimal strings, null when nothing closed."""
    total = _record(report.total, _RATE_FIELDS)
    del total["group"]
    return {
        "by": report.by,
        "since": render.jsonable(report.since),
        "groups": [_record(r, _RATE_FIELDS) for r in report.groups],
        "total": total,
    }


def _win_cells(r: WinRateRow, label: str | None = None) -> list[str]:
    return [
        _group_shown(r.group) if label is None else label,
        str(r.won),
        str(r.lost),
        _human_tenths(r.win_rate, " %"),
        render.human_money(r.won_amount),
        render.human_money(r.lost_amount),
        _human_tenths(r.value_win_rate, " %"),
    ]


def print_win_rate(report: WinRateReport) -> None:
    tty = render.is_terminal()
    rows = []
    for r in report.groups:
        cells = _win_cells(r)
        rows.append([*cells, bar(float(r.win_rate or 0), 100.0)] if tty else cells)
    headers = [
        _(GROUP_HEADERS[report.by]),
        _("won"),
        _("lost"),
        _("win rate"),
        _("won amount"),
        _("lost amount"),
        _("by value"),
    ]
    footer = _win_cells(report.total, _("Total"))
    if not tty:
        rows.append(footer)
    template = WIN_RATE_TITLES[(report.by, report.since is not None)]
    render.print_table(
        rows,
        [*headers, _("win rate")] if tty else headers,
        title=_(template).format(date=render.human_date(report.since)),
        right=[1, 2, 3, 4, 5, 6],
        footer=[*footer, ""] if tty else None,
    )


@app.command("win-rate")
def win_rate(
    ctx: typer.Context,
    by: Annotated[
        Grouping, typer.Option("--by", help="Group by the deal's owner or its lead's source.")
    ] = Grouping.OWNER,
    since: Annotated[
        date | None, date_option("Only deals closed on or after this date.", "--since")
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Won / (won + lost) by count and by value, per owner or lead source and overall.

    \b
    Example: crm report win-rate --by source --since 2026-01-01
    """
    from crmcli.services.reports import win_rate_report

    data = win_rate_report(db(ctx), by=by.value, since=since)
    if as_json:
        render.print_json(win_rate_json(data))
    elif as_csv:
        rows = [_record(r, _RATE_FIELDS) for r in [*data.groups, data.total]]
        render.print_csv(rows, WIN_RATE_COLUMNS)
    else:
        print_win_rate(data)


# -- lead conversion -----------------------------------------------------------------------

CONVERSION_COLUMNS = [
    "source",
    "leads",
    "qualified",
    "disqualified",
    "converted",
    "conversion_rate",
]


def conversion_json(report: ConversionReport) -> dict[str, object]:
    total = _record(report.total, ("conversion_rate",))
    del total["source"]
    return {
        "sources": [_record(r, ("conversion_rate",)) for r in report.sources],
        "total": total,
    }


def print_conversion(report: ConversionReport) -> None:
    tty = render.is_terminal()

    def cells(r: Any, label: str | None = None) -> list[str]:
        return [
            _group_shown(r.source) if label is None else label,
            str(r.leads),
            str(r.qualified),
            str(r.disqualified),
            str(r.converted),
            _human_tenths(r.conversion_rate, " %"),
        ]

    rows = []
    for r in report.sources:
        rows.append([*cells(r), bar(float(r.conversion_rate or 0), 100.0)] if tty else cells(r))
    headers = [
        _("source"),
        _("leads"),
        _("qualified"),
        _("disqualified"),
        _("converted"),
        _("conversion"),
    ]
    footer = cells(report.total, _("Total"))
    if not tty:
        rows.append(footer)
    render.print_table(
        rows,
        [*headers, _("converted")] if tty else headers,
        title=_("Lead conversion by source (converted / leads)"),
        right=[1, 2, 3, 4, 5],
        footer=[*footer, ""] if tty else None,
    )


@app.command("conversion")
def conversion(ctx: typer.Context, as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
    """Leads per source: total, qualified, disqualified, converted, and the conversion rate."""
    from crmcli.services.reports import conversion_report

    data = conversion_report(db(ctx))
    if as_json:
        render.print_json(conversion_json(data))
    elif as_csv:
        rows = [_record(r, ("conversion_rate",)) for r in [*data.sources, data.total]]
        render.print_csv(rows, CONVERSION_COLUMNS)
    else:
        print_conversion(data)


# -- velocity ------------------------------------------------------------------------------

_DAY_FIELDS = ("average_days", "median_days")
VELOCITY_COLUMNS = ["stage", "expected_days", "stays", *_DAY_FIELDS]


def velocity_json(report: VelocityReport) -> dict[str, object]:
    return {
        "stages": [_record(r, _DAY_FIELDS) for r in report.stages],
        "sales_cycle": _record(report.sales_cycle, _DAY_FIELDS),
    }


def print_velocity(report: VelocityReport) -> None:
    tty = render.is_terminal()
    biggest = float(max((r.average_days or 0 for r in report.stages), default=0))
    rows = []
    for r in report.stages:
        cells = [
            r.stage,
            "" if r.expected_days is None else str(r.expected_days),
            str(r.stays),
            _human_tenths(r.average_days),
            _human_tenths(r.median_days),
        ]
        rows.append([*cells, bar(float(r.average_days or 0), biggest)] if tty else cells)
    headers = [_("stage"), _("expected days"), _("stays"), _("average days"), _("median days")]
    render.print_table(
        rows,
        [*headers, _("average")] if tty else headers,
        title=_("Days per stage (completed stays)"),
        right=[1, 2, 3, 4],
    )
    c = report.sales_cycle
    render.print_table(
        [[str(c.won), _human_tenths(c.average_days), _human_tenths(c.median_days)]],
        [_("won deals"), _("average days"), _("median days")],
        title=_("Sales cycle (created → won)"),
        right=[0, 1, 2],
    )


@app.command("velocity")
def velocity(ctx: typer.Context, as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
    """Average and median days deals spend in each stage, and the sales-cycle length."""
    from crmcli.services.reports import velocity_report

    data = velocity_report(db(ctx))
    if as_json:
        render.print_json(velocity_json(data))
    elif as_csv:
        rows = [_record(r, _DAY_FIELDS) for r in data.stages]
        cycle = _record(data.sales_cycle, _DAY_FIELDS)
        rows.append({"stage": "(sales cycle)", "stays": cycle["won"], **cycle})
        render.print_csv(rows, VELOCITY_COLUMNS)
    else:
        print_velocity(data)


# -- stale deals ---------------------------------------------------------------------------

STALE_COLUMNS = [
    "id",
    "name",
    "account",
    "stage",
    "owner",
    "amount",
    "expected_close",
    "last_activity",
    "idle_days",
    "limit_days",
    "reasons",
]


def stale_json(report: StaleReport) -> dict[str, object]:
    return {
        "deals": render.jsonable(report.deals),
        "total": render.jsonable(report.total),
        "days": report.days,
        "owner": report.owner,
        "as_of": render.jsonable(report.as_of),
    }


def _reason_text(deal: StaleDeal, as_of: date) -> str:
    from crmcli.reports.analytics import NO_NEXT_STEP, NO_RECENT_ACTIVITY, PAST_CLOSE_DATE

    texts = []
    for reason in deal.reasons:
        if reason == NO_NEXT_STEP:
            texts.append(_("no next step"))
        elif reason == NO_RECENT_ACTIVITY:
            if deal.last_activity:
                text = _("quiet for {days} d (limit {limit})")
            else:
                text = _("no activity since created {days} d ago (limit {limit})")
            texts.append(text.format(days=deal.idle_days, limit=deal.limit_days))
        elif reason == PAST_CLOSE_DATE and deal.expected_close is not None:
            late = (as_of - deal.expected_close).days
            texts.append(_("close date passed {days} d ago").format(days=late))
    return "; ".join(texts)


def print_stale(report: StaleReport, deals: Iterable[StaleDeal]) -> None:
    """The stale deals' table, each deal written as it comes (`render.print_rows`), the
    report's total in the footer."""
    count = report.total.count
    footer = ["", ngettext("{count} deal", "{count} deals", count).format(count=count), "", ""]
    footer += ["", render.human_money(report.total.amount), "", ""]
    if report.days:
        limit = ngettext("{count} day", "{count} days", report.days).format(count=report.days)
    else:
        limit = _("the stage's expected days, else {days}").format(days=DEFAULT_STALE_DAYS)
    if report.owner:
        title = _("Stale deals of {owner} on {date} (quiet limit: {limit})")
    else:
        title = _("Stale deals on {date} (quiet limit: {limit})")
    headers = [_("id"), _("deal"), _("account"), _("stage"), _("owner"), _("amount")]
    headers += [_("last activity"), _("why")]
    never = _("never")

    def rows() -> Iterator[list[str]]:
        for d in deals:
            last = render.human_date(d.last_activity.date()) if d.last_activity else never
            money = render.human_money(d.amount)
            reasons = _reason_text(d, report.as_of)
            yield [str(d.id), d.name, d.account, d.stage or "", d.owner or "", money, last, reasons]

    render.print_rows(
        rows(),
        headers,
        title=title.format(owner=report.owner, date=render.human_date(report.as_of), limit=limit),
        right=[0, 5],
        footer=footer,
    )


def _stale_csv(deal: StaleDeal) -> dict[str, Any]:
    return {**render.jsonable(deal), "reasons": " ".join(deal.reasons)}


@app.command("stale")
def stale(
    ctx: typer.Context,
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            min=1,
            max=MAX_STALE_DAYS,
            metavar="N",
            help="Quiet for more than N days (default: the stage's expected days, else 14).",
        ),
    ] = None,
    owner: OwnerOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            metavar="N",
            help="Only the N longest idle deals (the total still counts them all; default:"
            " a screenful on a terminal, every one when piped).",
        ),
    ] = None,
    all_: AllRowsOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Forgotten deals: open, with no pending activity, no recent activity, or overdue.

    \b
    Example: crm report stale --limit 20
    """
    from crmcli.services.reports import stale_listing

    room = (
        None if limit is not None or all_ or as_json or as_csv else render.screen_rows(footer=True)
    )
    shown = limit or room  # None: every one, read as it is written (flat memory)
    with stale_listing(db(ctx), days=days, owner=owner, limit=shown) as (head, deals):
        if as_json:
            render.print_json_streamed({**stale_json(head), "deals": deals})
        elif as_csv:
            render.print_csv(map(_stale_csv, deals), STALE_COLUMNS)
        else:
            print_stale(head, deals)
    more = 0 if shown is None else head.total.count - shown
    if more > 0 and room is not None:
        note(
            ngettext(
                "{count} more stale deal: --all lists every one (piped output is never cut)",
                "{count} more stale deals: --all lists every one (piped output is never cut)",
                more,
            ).format(count=render.human_count(more))
        )
    elif more > 0:
        note(
            ngettext(
                "{count} more stale deal: run without --limit to list every one",
                "{count} more stale deals: run without --limit to list every one",
                more,
            ).format(count=render.human_count(more))
        )
