"""`crm demo`: a sample pipeline in its own database, then its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmcli.cli import render
from crmcli.cli.common import JsonOpt, note
from crmcli.i18n import _


def demo(
    path: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Where to build the demo database (default: demo.db in the data dir).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build a sample pipeline in a separate demo database and print its pipeline report."""
    from crmcli.cli.pipeline import pipeline_json, print_pipeline
    from crmcli.services.database import demo_target
    from crmcli.services.demo import build_demo
    from crmcli.services.reports import pipeline_report

    target = path or Path(demo_target())
    database = build_demo(target)
    report = pipeline_report(database)
    if as_json:
        render.print_json(pipeline_json(report))
    else:
        print_pipeline(report)
    note(_("demo database: {file}  (explore it: crm --db {file} opp list)").format(file=target))
