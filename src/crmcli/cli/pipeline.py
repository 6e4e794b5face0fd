"""`crm pipeline report`: open deals per stage, with bars on a terminal."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from crmcli.cli import render
from crmcli.cli.common import CsvOpt, JsonOpt, date_option, db, note, sub_app
from crmcli.i18n import _

if TYPE_CHECKING:
    from crmcli.reports.pipeline import PipelineReport

app = sub_app("The pipeline: open deals per stage.")

BAR_WIDTH = 24

AsOfOpt = Annotated[
    date | None,
    date_option(
        "As the pipeline stood at the end of this day, rebuilt from the history.", "--as-of"
    ),
]


def pipeline_json(report: PipelineReport) -> dict[str, object]:
    """The contract's JSON shape of the pipeline report."""
    total = render.jsonable(report.total)
    del total["stage"]
    return {
        "stages": render.jsonable(report.stages),
        "total": total,
        "owner": report.owner,
        "currency": report.currency,
    }


def bar(value: float, biggest: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of eighth-blocks, `width` cells for the biggest value."""
    if biggest <= 0 or value <= 0:
        return ""
    eighths = round(value / biggest * width * 8)
    full, part = divmod(max(eighths, 1), 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[part]


def print_pipeline(report: PipelineReport, as_of: date | None = None) -> None:
    """The report as a table, with a bar per stage on a terminal."""
    tty = render.is_terminal()
    biggest = float(max((r.weighted for r in report.stages), default=0))
    rows = [
        [r.stage, str(r.count), render.human_money(r.amount), render.human_money(r.weighted)]
        for r in report.stages
    ]
    currency = report.currency
    headers = [
        _("stage"),
        _("deals"),
        _("amount ({currency})").format(currency=currency) if currency else _("amount"),
        _("weighted ({currency})").format(currency=currency) if currency else _("weighted"),
    ] + ([_("weighted")] if tty else [])
    t = report.total
    footer = [
        _("Total"),
        str(t.count),
        render.human_money(t.amount),
        render.human_money(t.weighted),
    ]
    if tty:  # the bars take what the terminal has left beside the numbers, up to BAR_WIDTH
        widths = [max(len(line[i]) for line in [*rows, footer, headers]) for i in range(4)]
        room = render.terminal_size()[0] - sum(widths) - render.overhead(5)
        room = room if room >= 4 else 0  # too little for a bar: the column is left out
        for r, row in zip(report.stages, rows, strict=True):
            row.append(bar(float(r.weighted), biggest, max(1, min(BAR_WIDTH, room))))
    if report.owner:
        title = _("Pipeline of {owner} (open deals)").format(owner=report.owner)
    else:
        title = _("Pipeline (open deals)")
    if as_of is not None:
        title = _("{title} as of {date}").format(title=title, date=render.human_date(as_of))
    if not tty:
        rows.append(footer)
    render.print_table(
        rows,
        headers,
        title=title,
        right=[1, 2, 3],
        footer=[*footer, ""] if tty else None,
        optional=[4, 2],  # on a narrow terminal: first the bars, then the unweighted amount
    )


@app.command("report")
def report(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option(help="Only deals of this owner.")] = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Open deals per stage in pipeline order: count, amount, weighted amount, and a total.

    \b
    Example: crm pipeline report --owner ana --as-of 31/12/2026
    """
    if as_of is not None:
        report_as_of(ctx, as_of, owner=owner, as_json=as_json, as_csv=as_csv)
        return
    from crmcli.services.reports import pipeline_report

    data = pipeline_report(db(ctx), owner=owner)
    if as_json:
        render.print_json(pipeline_json(data))
    elif as_csv:
        render.print_csv([*data.stages, data.total], ["stage", "count", "amount", "weighted"])
    else:
        print_pipeline(data)


def report_as_of(
    ctx: typer.Context, as_of: date, *, owner: str | None, as_json: bool, as_csv: bool
) -> None:
    """`pipeline report --as-of DATE`: the same output, rebuilt for that day (JSON adds
    `as_of`); what history cannot tell goes to stderr first."""
    from crmcli.services.reports import pipeline_report_as_of

    dated = pipeline_report_as_of(db(ctx), as_of=as_of, owner=owner)
    for line in dated.notes:
        note(line)
    data = dated.report
    if as_json:
        render.print_json({**pipeline_json(data), "as_of": as_of.isoformat()})
    elif as_csv:
        render.print_csv([*data.stages, data.total], ["stage", "count", "amount", "weighted"])
    else:
        print_pipeline(data, as_of)
