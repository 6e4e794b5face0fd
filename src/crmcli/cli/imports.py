"""What `lead import` and `opp import` share: options, reading the file, the summary, rejects."""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

from crmcli import interrupts
from crmcli.cli import render
from crmcli.cli.common import db, note
from crmcli.errors import CrmError, PartialImport, ValidationError
from crmcli.i18n import _, english_of, ngettext
from crmcli.outfiles import Output, database_files, input_file

if TYPE_CHECKING:
    from crmcli.importing.reader import Table
    from crmcli.services.imports import ImportSummary, RowProblem


class OnDuplicate(StrEnum):
    """What to do with a row whose e-mail (or deal) already exists."""

    SKIP = "skip"
    UPDATE = "update"


FileArg = Annotated[
    str, typer.Argument(help="A CSV file, or - for standard input.", metavar="FILE|-")
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map", metavar="'Header=field'", help="Feed this column to this field (repeatable)."
    ),
]
DelimiterOpt = Annotated[
    str | None, typer.Option(metavar="C", help="Field separator (default: detected).")
]
EncodingOpt = Annotated[
    str | None, typer.Option(metavar="E", help="Text encoding (default: detected).")
]
DuplicateOpt = Annotated[
    OnDuplicate, typer.Option("--on-duplicate", help="skip duplicates, or fill what they lack.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Write nothing; report what an import would do.")
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Import nothing if any row is bad (exit 1).")
]
RejectsOpt = Annotated[
    Path | None,
    typer.Option(metavar="FILE", help="Write rejected rows here as CSV, with a reason column."),
]
JsonSummaryOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


@contextmanager
def _open_input(file: str) -> Iterator[BinaryIO]:
    if file == "-":
        yield sys.stdin.buffer
        return
    try:
        handle = open(file, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ValidationError(
            _("cannot read {file}: {reason}").format(file=file, reason=exc.strerror)
        ) from None
    try:
        yield handle
    finally:
        handle.close()


SHOWN_REJECTS = 20
"""How many rejected rows stderr lists one by one (the summary and --rejects have them all)."""


class _Rejects:
    """Rejected rows: the first `SHOWN_REJECTS` told on stderr (best effort), then one line
    saying how many more; with --rejects, all written as CSV through the guard of every file
    crm writes (`outfiles.Output`: a 0600 temporary file renamed into place once the import is
    over, or discarded), with the source's delimiter and encoding (a BOM if it had one), so
    Excel opens it as it opened the source.

    A rejects file that cannot be written (a full disk) never undoes the import: writing it
    stops, its temporary file goes, and `close` reports the failure after the import.
    """

    def __init__(self, target: Output | None, table: Table) -> None:
        headers = table.headers
        self.count = 0
        self.width = len(headers)
        self.failure: CrmError | None = None
        self._out = target
        if target is not None:
            encoding, errors, first = table.writing()
            out = target.open(encoding=encoding, errors=errors)
            if first:
                out.write(first)
            self._writer = csv.writer(out, delimiter=table.delimiter)
            self._write([*headers, "reason"])

    def _write(self, row: list[str]) -> None:
        if self._out is None or self.failure is not None:
            return
        try:
            self._writer.writerow(row)
        except CrmError as exc:  # Output.write has already removed the temporary file
            self.failure = exc

    def __call__(self, problem: RowProblem) -> None:
        self.count += 1
        line = _("line {line}: {reason}").format(line=problem.line, reason=problem.reason)
        if self.count <= SHOWN_REJECTS:
            note(line)
        cells = [render.neutralise(c) for c in problem.cells]
        # short rows are padded, so the reason sits in the reason column
        cells += [""] * (self.width - len(cells))
        self._write([*cells, english_of(line)])  # a CSV: the same in every language

    def tell_the_rest(self, rejects: Path | None) -> None:
        """One stderr line for the rejected rows not listed there, if any."""
        more = self.count - SHOWN_REJECTS
        if more <= 0:
            return
        if rejects is not None:
            text = ngettext(
                "… {count} more rejected row — see {file}",
                "… {count} more rejected rows — see {file}",
                more,
            )
        else:
            text = ngettext(
                "… {count} more rejected row — list them all with --rejects FILE",
                "… {count} more rejected rows — list them all with --rejects FILE",
                more,
            )
        note(text.format(count=render.human_count(more), file=rejects))

    def close(self, keep: bool) -> None:
        """Give the file its name (`keep`) or remove it; raises what went wrong writing it."""
        out, self._out = self._out, None
        if out is None:
            return
        if not keep or self.failure is not None:
            out.discard()
        else:
            out.finish()
        if keep and self.failure is not None:
            raise self.failure


def _progress_reporter() -> tuple[Any, Any]:
    if not sys.stderr.isatty() or "NO_COLOR" in os.environ:
        return None, lambda _: None
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    def said(read: int) -> str:
        return _("importing: {count} rows read").format(count=render.human_count(read))

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=render.console(stderr=True),
        transient=True,
    )
    task = bar.add_task(said(0), total=None)
    return bar, lambda read: bar.update(task, completed=read, description=said(read))


def run_import(
    ctx: typer.Context,
    kind: str,
    file: str,
    *,
    source: str | None,
    mapping: list[str] | None,
    delimiter: str | None,
    encoding: str | None,
    on_duplicate: OnDuplicate,
    dry_run: bool,
    strict: bool,
    rejects: Path | None,
    as_json: bool,
) -> None:
    """Read FILE, import it as leads or deals, print the summary, exit 0, 1 or 3."""
    from crmcli.importing.reader import open_table
    from crmcli.services.imports import ImportOptions, import_leads, import_opportunities

    options = ImportOptions(source, tuple(mapping or ()), on_duplicate.value, dry_run, strict)
    database = db(ctx)
    target = None  # checked before anything is read or written
    if rejects is not None:
        protect = [*database_files(database.path), *input_file(file)]
        target = Output(rejects, "--rejects", protect=protect)
    failure: CrmError | None = None
    with _open_input(file) as stream:
        table: Table = open_table(
            stream, name="stdin" if file == "-" else file, encoding=encoding, delimiter=delimiter
        )
        if encoding is None and table.encoding not in ("utf-8", "utf-8-sig"):
            note(
                _("{file}: not UTF-8, read as {encoding}").format(
                    file=table.name, encoding=table.encoding
                )
            )
        bar, progress = _progress_reporter()
        run = import_leads if kind == "lead" else import_opportunities
        sink: _Rejects | None = None
        try:
            sink = _Rejects(target, table)
            if bar is not None:
                bar.start()
            summary = run(database, table, options, progress=progress, on_reject=sink)
        except BaseException:
            # Interrupted once the import was committed: its rejects are kept (see interrupts)
            with suppress(CrmError):
                if sink is not None:
                    sink.close(keep=interrupts.saved())
                elif target is not None:
                    target.discard()
            raise
        finally:
            if bar is not None:
                bar.stop()
        sink.tell_the_rest(rejects)
        try:
            sink.close(keep=True)
        except CrmError as exc:
            failure = exc
    if summary.without_email:
        note(
            ngettext(
                "{count} row had no e-mail: matched by name and company, or phone, instead",
                "{count} rows had no e-mail: matched by name and company, or phone, instead",
                summary.without_email,
            ).format(count=render.human_count(summary.without_email))
        )
    _print_summary(summary, as_json, kind)
    if failure is not None:
        if summary.committed:
            raise CrmError(_("{error} (the import itself was saved)").format(error=failure))
        raise CrmError(_("{error} (nothing was imported)").format(error=failure))
    if strict and summary.rejected:
        raise CrmError(  # one English text; the plural forms are for the translation
            ngettext(
                "--strict: {count} bad row(s), nothing was imported",
                "--strict: {count} bad row(s), nothing was imported",
                summary.rejected,
            ).format(count=summary.rejected)
        )
    if summary.rejected:
        raise typer.Exit(PartialImport.exit_code)


def _print_summary(summary: ImportSummary, as_json: bool, kind: str) -> None:
    counts = {
        "read": summary.read,
        "inserted": summary.inserted,
        "updated": summary.updated,
        "skipped": summary.skipped,
        "rejected": summary.rejected,
    }
    if as_json:
        render.print_json(
            {
                **counts,
                "errors": [{"line": e.line, "reason": e.reason} for e in summary.errors],
                "dry_run": summary.dry_run,
                "committed": summary.committed,
                "change_set": summary.change_set,
                "mapping": summary.mapping,
                "unmapped": summary.unmapped,
                "ignored": summary.ignored,
                **({"without_email": summary.without_email} if kind == "lead" else {}),
            }
        )
        return
    leads = kind == "lead"
    if summary.dry_run:
        title = (
            _("Import of leads (dry run: nothing written)")
            if leads
            else _("Import of deals (dry run: nothing written)")
        )
    else:
        title = _("Import of leads") if leads else _("Import of deals")
    headers = [_("read"), _("inserted"), _("updated"), _("skipped"), _("rejected")]
    render.print_table([[str(v) for v in counts.values()]], headers, title=title, right=range(5))
    _print_columns(summary, leads)
    if summary.change_set is not None:
        typer.echo(
            _("Recorded as change set {id} (crm undo {id} reverts it).").format(
                id=summary.change_set
            )
        )


def _shell_word(text: str) -> str:
    """`text` as one word for a POSIX shell, always in single quotes."""
    return "'" + text.replace("'", "'\\''") + "'"


def _quoted(header: str) -> str:
    return f'"{render.shown(header)}"'


def _print_columns(summary: ImportSummary, leads: bool) -> None:
    """Which column fed which field; the columns that fed none, with a ready --map hint."""
    fed = ", ".join(f"{_quoted(header)} → {field}" for header, field in summary.mapping.items())
    typer.echo(_("Columns: {columns}").format(columns=fed or "-"))
    if summary.ignored:
        typer.echo(
            _("Not imported (crm's own columns): {columns}").format(
                columns=", ".join(_quoted(h) for h in summary.ignored)
            )
        )
    if not summary.unmapped:
        return
    listed = ", ".join(_quoted(h) for h in summary.unmapped)
    if leads:
        typer.echo(_("Kept as extras (no field): {columns}").format(columns=listed))
    else:
        typer.echo(_("Not imported (no field): {columns}").format(columns=listed))
    hints = [
        "--map " + _shell_word(render.shown(f"{header}={field or _('FIELD')}"))
        for header, field in summary.suggestions.items()
    ]
    if hints:
        typer.echo(_("To import them into a field: {options}").format(options=" ".join(hints)))
