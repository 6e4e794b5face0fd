"""`crm db …`: where the database is, integrity checks, backups, schema upgrades."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmcli.cli import render
from crmcli.cli.common import JsonOpt, db, note, state, sub_app
from crmcli.i18n import _

app = sub_app("The database: path, check, backup, migrate.")


@app.command("path")
def path(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Print where the database is (a password in a URL is hidden)."""
    from crmcli.services.database import redact, resolve_target, sqlite_path

    target = resolve_target(state(ctx).db_target)
    file = sqlite_path(target)
    shown = str(file) if file is not None else redact(target)
    if as_json:
        render.print_json({"path": shown, "exists": bool(file and file.exists())})
    else:
        print(shown)


@app.command("check")
def check(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Check the database, and report plainly.

    SQLite: its integrity and foreign-key checks. PostgreSQL: every foreign key's rows, and
    every constraint validated and enforced (the server checks its own pages).
    """
    from crmcli.errors import StorageError
    from crmcli.services.maintenance import check_database

    result = check_database(db(ctx))
    if as_json:
        render.print_json(result)
    else:
        for line in result.problems or ["ok"]:
            print(line)
        note(
            _("schema {schema}, {leads} leads, {deals} deals; checked: {checked}").format(
                schema=result.schema,
                leads=result.leads,
                deals=result.opportunities,
                checked=result.checked,
            )
        )
    if result.problems:
        raise StorageError(
            _("{count} problem(s) found in {path}").format(
                count=len(result.problems), path=result.path
            )
        )


@app.command("backup")
def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the copy.", metavar="FILE")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a consistent copy of the database (safe while it is in use), mode 0600."""
    from crmcli.services.maintenance import backup_database

    result = backup_database(db(ctx), file, force=force)
    if as_json:
        render.print_json(result)
    else:
        note(
            _("backed up to {path} ({size} bytes, verified)").format(
                path=result.path, size=result.bytes
            )
        )


@app.command("migrate")
def migrate(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Bring the schema up to date (taking a backup first); normally automatic."""
    from crmcli.services.maintenance import migrate_database

    applied = migrate_database(db(ctx))
    if as_json:
        render.print_json({"applied": applied})
    elif applied:
        note(_("applied {migrations}").format(migrations=", ".join(applied)))
    else:
        note(_("the schema is up to date"))


@app.command("copy")
def copy(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="PATH_OR_URL",
            help="The new, empty database to fill: a team server URL "
            "(postgresql://user@host/dbname) or a file.",
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Copy this database, every record with its id and history, into an empty one.

    For joining a team: `crm db copy --to postgresql://ana@crm.example/sales` moves your
    personal file into the team's server in one transaction. Your file is left as it was.
    """
    from crmcli.services.copy import copy_database

    result = copy_database(db(ctx), to, notify=note)
    if as_json:
        render.print_json(result)
    else:
        rows = [[entity, str(count)] for entity, count in result.copied.items()]
        render.print_table(rows, [_("copied"), _("rows")], right=[1])
        note(
            _("copied {source} to {target} (currency {currency})").format(
                source=result.source, target=result.target, currency=result.currency
            )
        )


@app.command("init")
def init(
    ctx: typer.Context,
    currency: Annotated[
        str | None,
        typer.Option(
            help="ISO 4217 code (default: from the locale); changes the currency of a database"
            " that stores no amount yet."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the database now (choosing its currency) instead of on first use."""
    from crmcli.services.maintenance import init_database

    info = init_database(state(ctx).db_target, currency=currency, notify=note)
    if as_json:
        render.print_json(info)
    else:
        if info.previous_currency is not None:
            note(
                _("{path}: currency changed from {previous} to {currency}").format(
                    path=info.path, previous=info.previous_currency, currency=info.currency
                )
            )
        note(
            _("{path}: currency {currency}, schema {schema}").format(
                path=info.path, currency=info.currency, schema=info.schema
            )
        )
