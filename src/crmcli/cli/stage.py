"""`crm stage …`: the company's own ordered pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from crmcli.cli import render
from crmcli.cli.common import (
    AllRowsOpt,
    CsvOpt,
    JsonOpt,
    QuietOpt,
    ReverseOpt,
    db,
    limit_option,
    note,
    probability_option,
    probability_parser,
    reference_argument,
    reference_option,
    sort_option,
    sub_app,
)
from crmcli.i18n import _, ngettext

if TYPE_CHECKING:
    from crmcli.domain.models import Stage

app = sub_app("Stages: your pipeline, in order, each with a default probability.")

STAGE_COLUMNS = ["id", "name", "position", "probability", "expected_days"]
Ref = Annotated[str, reference_argument("stage", "Stage id or name (any case).", "STAGE")]
Days = Annotated[
    int | None, typer.Option("--days", help="How many days a deal is expected to stay.")
]


def _print_stages(
    stages: list[Stage], *, as_json: bool, as_csv: bool, quiet: bool, screenful: bool = False
) -> None:
    if not render.print_list(stages, STAGE_COLUMNS, as_json=as_json, as_csv=as_csv, quiet=quiet):
        rows = [
            [str(s.position), s.name, f"{s.probability}%", render.cell(s.expected_days), str(s.id)]
            for s in stages
        ]
        headers = ["#", _("stage"), _("prob."), _("days"), _("id")]
        render.print_table(rows, headers, right=[0, 2, 3, 4], screenful=screenful)


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[int | None, limit_option("At most this many stages.")] = None,
    sort: Annotated[str | None, sort_option("stage")] = None,
    reverse: ReverseOpt = False,
    all_: AllRowsOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """List the stages in pipeline order."""
    from crmcli.services.stages import list_stages

    stages = list_stages(db(ctx), limit=limit, sort=sort, reverse=reverse)
    _print_stages(
        stages,
        as_json=as_json,
        as_csv=as_csv,
        quiet=quiet,
        screenful=limit is None and not all_,
    )


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The stage's name (any language).", metavar="NAME")],
    probability: Annotated[int, probability_option("Default win probability.")],
    after: Annotated[
        str | None, reference_option("stage", "Put it right after this stage.", metavar="STAGE")
    ] = None,
    days: Days = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Add a stage (at the end, or --after another)."""
    from crmcli.services.stages import add_stage

    stage = add_stage(db(ctx), name, probability=probability, after=after, expected_days=days)
    render.print_one(
        stage,
        STAGE_COLUMNS,
        as_json=as_json,
        quiet=quiet,
        title=_("Stage {id} added").format(id=stage.id),
    )


@app.command("rename")
def rename(
    ctx: typer.Context,
    ref: Ref,
    new_name: Annotated[str, typer.Argument(help="The new name.", metavar="NEW_NAME")],
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Rename a stage (its deals and history follow)."""
    from crmcli.services.stages import rename_stage

    stage = rename_stage(db(ctx), ref, new_name)
    render.print_one(
        stage,
        STAGE_COLUMNS,
        as_json=as_json,
        quiet=quiet,
        title=_("Stage {id} renamed").format(id=stage.id),
    )


@app.command("move")
def move(
    ctx: typer.Context,
    ref: Ref,
    after: Annotated[
        str | None, reference_option("stage", "Put it right after this stage.", metavar="STAGE")
    ] = None,
    before: Annotated[
        str | None, reference_option("stage", "Put it right before this stage.", metavar="STAGE")
    ] = None,
    position: Annotated[int | None, typer.Option(help="Put it at this 1-based position.")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Reorder: move a stage --after, --before another, or to a --position."""
    from crmcli.services.stages import move_stage

    stages = move_stage(db(ctx), ref, after=after, before=before, position=position)
    _print_stages(stages, as_json=as_json, as_csv=as_csv, quiet=quiet)


@app.command("set-probability")
def set_probability(
    ctx: typer.Context,
    ref: Ref,
    probability: Annotated[
        int, typer.Argument(parser=probability_parser, metavar="0-100", help="Percent.")
    ],
    update_open: Annotated[
        bool,
        typer.Option("--update-open", help="Also re-set open deals that follow the stage default."),
    ] = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Change a stage's default probability."""
    from crmcli.services.stages import set_stage_probability

    result = set_stage_probability(db(ctx), ref, probability, update_open=update_open)
    if update_open:
        count = result.updated_deals
        note(
            ngettext("updated {count} open deal(s)", "updated {count} open deal(s)", count).format(
                count=count
            )
        )
    stage = result.stage
    render.print_one(
        stage,
        STAGE_COLUMNS,
        as_json=as_json,
        quiet=quiet,
        title=_("Stage {id} updated").format(id=stage.id),
    )


@app.command("remove")
def remove(
    ctx: typer.Context,
    ref: Ref,
    move_to: Annotated[
        str | None,
        reference_option(
            "stage", "Move its deals to this stage first.", "--move-to", metavar="STAGE"
        ),
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Remove a stage (refused while it holds open deals, unless --move-to)."""
    from crmcli.services.stages import remove_stage

    result = remove_stage(db(ctx), ref, move_to=move_to)
    if result.moved_deals:
        count = result.moved_deals
        note(
            ngettext(
                "moved {count} deal(s) out of {stage}",
                "moved {count} deal(s) out of {stage}",
                count,
            ).format(count=count, stage=result.stage.name)
        )
    if quiet:
        render.print_ids([result.stage.id])
    elif as_json:
        render.print_json({**render.jsonable(result.stage), "removed": True})
    else:
        note(_('removed stage "{stage}"').format(stage=result.stage.name))
