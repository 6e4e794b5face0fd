"""The root `crm` command: global options and the noun sub-apps.

Importing this module must stay cheap: no database layer, no Rich tables.
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli import __version__
from crmcli.cli import account, activity, db, demo, export, lead, opp, pipeline, reports, stage
from crmcli.cli.common import CrmGroup, State

app = typer.Typer(
    name="crm",
    help="crmcli: a command-line CRM for leads, accounts, contacts and deals.",
    no_args_is_help=True,
    cls=CrmGroup,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"crm {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db_target: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="CRM_DB",
            metavar="PATH_OR_URL",
            help="Database file or URL (default: crm.db in your data folder).",
            show_envvar=True,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """crmcli: a command-line CRM for leads, accounts, contacts and deals."""
    ctx.obj = State(db_target=db_target, debug=debug)


app.add_typer(lead.app, name="lead")
app.add_typer(account.account_app, name="account")
app.add_typer(account.contact_app, name="contact")
app.add_typer(opp.app, name="opp")
app.add_typer(stage.app, name="stage")
app.add_typer(pipeline.app, name="pipeline")
app.add_typer(activity.app, name="activity")
app.command("agenda")(activity.agenda)
app.command("forecast")(reports.forecast)
app.add_typer(reports.app, name="report")
app.add_typer(db.app, name="db")
app.command("demo")(demo.demo)
app.command("export")(export.export_cmd)
app.command("import")(export.import_cmd)


def main() -> None:
    """Console entry point."""
    app(prog_name="crm")
