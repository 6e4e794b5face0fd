"""`crm export` and `crm import`: a full backup as JSON (or one entity as CSV), and its restore."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from crmcli.cli import render
from crmcli.cli.common import JsonOpt, db, note
from crmcli.cli.streams import machine_stdout
from crmcli.errors import UsageError, ValidationError
from crmcli.i18n import N_, _
from crmcli.outfiles import Output, database_files


class ExportFormat(StrEnum):
    """What `crm export` writes."""

    JSON = "json"
    CSV = "csv"


class Entity(StrEnum):
    """What `crm export --entity` can pick."""

    LEADS = "leads"
    ACCOUNTS = "accounts"
    CONTACTS = "contacts"
    OPPORTUNITIES = "opportunities"
    STAGES = "stages"
    ACTIVITIES = "activities"


def encode(value: Any) -> Any:
    """JSON data as `render.jsonable` makes it, but timestamps keep their sub-seconds if any.

    `2026-11-25T12:34:56Z` as everywhere else; `2026-11-25T12:34:56.250000Z` only for a time
    that has a fraction of a second, so a restore gives back exactly what was exported. A local
    wall-clock time (an activity's `due`: `database.is_local_time`) has no `Z`:
    `2026-12-15T09:00:00`.
    """
    if isinstance(value, datetime):
        from crmcli.services.database import is_local_time

        return value.isoformat() if is_local_time(value) else value.isoformat() + "Z"
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encode(v) for v in value]
    return render.jsonable(value)


def _encoded(value: Any) -> Any:
    """What the JSON encoder cannot write itself, as `encode` writes it (its `default`)."""
    if isinstance(value, datetime):
        return encode(value)
    converted = render.jsonable(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON data")
    return converted


def write_document(stream: TextIO | Output, document: dict[str, Any]) -> None:
    """The export document as JSON: its keys one per line, each list (or iterator, written as
    it is read) one record per line (a diff of two exports shows the records that changed).
    Every record is written by the stdlib's C encoder, calling back only for money, dates and
    times (`_encoded`): an indented `json.dumps` of the whole document would use the
    pure-Python encoder, several times slower."""
    record = json.JSONEncoder(ensure_ascii=False, default=_encoded).encode
    stream.write("{")
    for n, (key, value) in enumerate(document.items()):
        stream.write(f"{',' if n else ''}\n  {record(key)}: ")
        if isinstance(value, str | int | dict) or value is None:
            stream.write(record(value))
            continue
        opened = False
        for item in value:
            stream.write(f"{',' if opened else '['}\n    {record(item)}")
            opened = True
        stream.write("\n  ]" if opened else "[]")
    stream.write("\n}\n")


@contextmanager
def _destination(output: Path | None, ctx: typer.Context) -> Iterator[TextIO | Output]:
    """stdout, or FILE through the guard of every file crm writes (`crmcli.outfiles`): never
    the database, a 0600 temporary file renamed into place, a device or FIFO written directly.
    """
    if output is None:
        with machine_stdout() as stream:  # UTF-8 whatever the locale, as FILE is
            yield stream
        return
    target = Output(output, "--output", protect=database_files(db(ctx).path))
    with target:
        yield target


def _csv_cell(value: Any, *, text: bool) -> str:
    shown = render.cell(encode(value))
    return render.neutralise(shown) if text else shown


def export_cmd(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", help="json: one document (a full backup); csv: one entity."),
    ] = ExportFormat.JSON,
    entity: Annotated[
        list[Entity] | None,
        typer.Option(
            "--entity",
            metavar="leads|accounts|contacts|opportunities|stages|activities",
            help="Only this entity (repeat for several in JSON; CSV needs exactly one).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to FILE (mode 0600, replaced atomically) instead of stdout.",
        ),
    ] = None,
) -> None:
    """Export the database: JSON for a backup `crm import` restores, CSV for a spreadsheet."""
    from crmcli.services.export import columns, exported, iter_records, text_columns

    picked = [e.value for e in entity or []]
    if fmt is ExportFormat.CSV:
        if len(set(picked)) != 1:
            raise UsageError(_("--format csv needs exactly one --entity (leads, accounts, …)"))
        name = picked[0]
        header = columns(name)
        text = text_columns(name)
        with _destination(output, ctx) as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(header)
            for record in iter_records(db(ctx), name):
                writer.writerow([_csv_cell(record.get(c), text=c in text) for c in header])
    else:
        with (
            _destination(output, ctx) as stream,  # the target is checked before any work
            exported(db(ctx), picked or None) as document,
        ):
            write_document(stream, document)
    if output is not None:
        note(_("exported to {file}").format(file=output))


def _stdin_or(source: str) -> str:
    """How a message names the file read: "stdin" for `-`."""
    return "stdin" if source == "-" else source


RESTORED = {
    "stages": N_("stages"),
    "accounts": N_("accounts"),
    "contacts": N_("contacts"),
    "leads": N_("leads"),
    "opportunities": N_("opportunities"),
    "history": N_("history"),
    "activities": N_("activities"),
}
"""The restored entities as `crm import`'s table names them (its `--json` keeps the keys)."""


def _read(source: str) -> str:
    name = _stdin_or(source)
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise ValidationError(
            _("cannot read {file}: {reason}").format(file=name, reason=exc.strerror or exc)
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            _("{file} is not UTF-8 text (is it a `crm export` file?)").format(file=name)
        ) from None


def import_cmd(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(metavar="FILE|-", help="A JSON export (`crm export`), or - for stdin.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Restore a JSON export into an empty database (all of it or, on any error, nothing)."""
    from decimal import Decimal

    from crmcli.services.export import import_data

    text = _read(source)
    try:
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            _("{file} is not JSON: {reason} at line {line} column {column}").format(
                file=_stdin_or(source), reason=exc.msg, line=exc.lineno, column=exc.colno
            )
        ) from None
    counts = import_data(db(ctx), document)
    if as_json:
        render.print_json(counts)
    else:
        rows = [[_(RESTORED.get(entity, entity)), str(count)] for entity, count in counts.items()]
        render.print_table(rows, [_("restored"), _("rows")], right=[1])
