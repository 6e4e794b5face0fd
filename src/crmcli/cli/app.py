"""The root `crm` command: global options and the noun sub-apps.

Importing this module must stay cheap: no database layer, no Rich tables.
"""

from __future__ import annotations

import importlib
import os
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from crmcli import __version__, i18n, interrupts
from crmcli.cli import streams, translation
from crmcli.cli.common import CrmGroup, say_interrupted, state, usage_error_line

COMMANDS: dict[str, tuple[str, str, str]] = {
    "agenda": (
        "crmcli.cli.activity",
        "agenda",
        "Overdue and today's activities, then open deals with no next step.",
    ),
    "search": (
        "crmcli.cli.search",
        "search",
        "Find leads, contacts, accounts, deals and activities by any word, best matches first.",
    ),
    "forecast": (
        "crmcli.cli.reports",
        "forecast",
        "Open deals by expected-close month or quarter, with overdue deals and won amounts.",
    ),
    "demo": (
        "crmcli.cli.demo",
        "demo",
        "Build a sample pipeline in a separate demo database and print its pipeline report.",
    ),
    "export": (
        "crmcli.cli.export",
        "export_cmd",
        "Export the database: JSON for a backup `crm import` restores, CSV for a spreadsheet.",
    ),
    "import": (
        "crmcli.cli.export",
        "import_cmd",
        "Restore a JSON export into an empty database (all of it or, on any error, nothing).",
    ),
    "lead": (
        "crmcli.cli.lead",
        "app",
        "Leads: people or companies a conversation has started with.",
    ),
    "account": ("crmcli.cli.account", "account_app", "Accounts: the companies you sell to."),
    "contact": (
        "crmcli.cli.account",
        "contact_app",
        "Contacts: people with an ongoing relationship, usually at an account.",
    ),
    "opp": (
        "crmcli.cli.opp",
        "app",
        "Opportunities: specific sales moving through your stages.",
    ),
    "stage": (
        "crmcli.cli.stage",
        "app",
        "Stages: your pipeline, in order, each with a default probability.",
    ),
    "pipeline": ("crmcli.cli.pipeline", "app", "The pipeline: open deals per stage."),
    "activity": (
        "crmcli.cli.activity",
        "app",
        "Activities: calls, meetings, e-mails, tasks and notes, with due dates.",
    ),
    "report": (
        "crmcli.cli.reports",
        "app",
        "Reports: win rate, lead conversion, velocity, stale deals.",
    ),
    "history": (
        "crmcli.cli.history",
        "history",
        "What each command that changed data did, newest first (the journal).",
    ),
    "undo": (
        "crmcli.cli.undo",
        "undo",
        "Revert one whole change set: an import, a conversion, a merge, a delete, an edit.",
    ),
    "duplicates": (
        "crmcli.cli.duplicates",
        "duplicates",
        "Groups of likely duplicates (same e-mail, phone, or name and company), with the merge"
        " command for each.",
    ),
    "db": ("crmcli.cli.db", "app", "The database: path, check, backup, migrate."),
    "completion": (
        "crmcli.cli.completion",
        "completion",
        "Print the shell completion script: commands, options, values, stage names.",
    ),
}
"""Every top-level command: (module, attribute, short help), in `crm --help` order.

A command's module is imported only when that command runs, so `crm lead list` loads the
lead commands and not the other thirteen; `crm --help` loads none (the help texts are here,
and tests/test_startup.py checks they match the modules').
"""


def load_command(name: str) -> Any:
    """The click command of a top-level command, imported on demand."""
    module_name, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(target, typer.Typer):
        single = typer.Typer(
            pretty_exceptions_enable=False, rich_markup_mode=None, add_completion=False
        )
        single.command(name)(target)
        command = typer.main.get_command(single)
    else:
        command = typer.main.get_group(target)  # a group even with one sub-command
    command.name = name
    return command


class RootGroup(CrmGroup):
    """The root `crm` group: sub-commands are loaded lazily from `COMMANDS`."""

    listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            if self.listing:  # help only needs the name and the short help
                listed = TyperCommand(name=cmd_name, help=COMMANDS[cmd_name][2])
                if i18n.portuguese():
                    translation.translate_command(listed)
                return listed
            self.add_command(load_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        """The root context; the language is read again first (help is written while the
        context is made), and a usage error of the root's own options is one line, as a
        sub-command's is."""
        if parent is not None:
            return super().make_context(info_name, args, parent, **extra)
        i18n.reset()
        try:
            return super().make_context(info_name, args, parent, **extra)
        except typer._click.exceptions.NoArgsIsHelpError:
            raise
        except typer._click.exceptions.UsageError as error:
            usage_error_line(error)
            raise typer.Exit(error.exit_code) from None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Typer's, with "Did you mean …?" from every command's name (the commands not
        loaded yet included: Typer only looks at the loaded ones)."""
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as error:
            message = getattr(error, "message", None)
            if args and isinstance(message, str) and "No such command" in message:
                from difflib import get_close_matches

                matches = get_close_matches(args[0], list(COMMANDS))
                if matches:
                    listed = ", ".join(repr(m) for m in matches)
                    error.message = f"{message.rstrip('.')}. Did you mean {listed}?"
            raise

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        """Click's completion of command names, without importing every command's module."""
        self.listing = True
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            self.listing = False

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self.listing = False


translation.install()

app = typer.Typer(
    name="crm",
    help="crmcli: a command-line CRM for leads, accounts, contacts and deals.\n\n"
    "New here? Start with `crm demo`: a sample pipeline in a database of its own.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    cls=RootGroup,
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
    no_hooks: Annotated[
        bool,
        typer.Option("--no-hooks", help="Run no hooks for this command (or CRM_NO_HOOKS=1)."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """crmcli: a command-line CRM for leads, accounts, contacts and deals."""
    settings = state(ctx)  # made by CrmGroup.invoke, with the command line already on it
    settings.db_target = db_target
    settings.debug = debug
    settings.no_hooks = no_hooks


def main() -> None:
    """Console entry point."""
    streams.set_up()  # output the terminal cannot encode: look-alikes, never a traceback
    if "_CRM_COMPLETE" in os.environ:  # the shell asks for completions (crm completion SHELL)
        from typer._completion_classes import completion_init

        completion_init()
    interrupts.install()  # SIGTERM cleans up as Ctrl-C does: one line, exit 143, no temp files
    try:
        app(prog_name="crm")
    except KeyboardInterrupt as exc:  # after the command's own handler, while crm exits
        say_interrupted()
        raise SystemExit(interrupts.exit_code(exc)) from None
    finally:
        interrupts.ignore()  # the command is over: a signal now would only lose the exit code
