"""What `lead import` and `opp import` share: options, reading the file, the summary, rejects."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

from crmcli.cli import render
from crmcli.cli.common import db, note
from crmcli.errors import CrmError, PartialImport, ValidationError

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
        raise ValidationError(f"cannot read {file}: {exc.strerror}") from None
    try:
        yield handle
    finally:
        handle.close()


class _Rejects:
    """Rejected rows, written as CSV through a temporary file renamed into place at the end."""

    def __init__(self, path: Path | None, headers: list[str]) -> None:
        self.path = path
        self.count = 0
        self._handle: Any = None
        self.width = len(headers)
        if path is not None:
            folder = path.parent if str(path.parent) else Path(".")
            if not folder.is_dir():
                raise ValidationError(f"--rejects: the folder {folder} does not exist")
            fd, self._tmp = tempfile.mkstemp(prefix=".rejects-", dir=folder)
            os.chmod(self._tmp, 0o600)
            self._handle = os.fdopen(fd, "w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._handle)
            self._writer.writerow([*headers, "reason"])

    def __call__(self, problem: RowProblem) -> None:
        self.count += 1
        print(f"crm: line {problem.line}: {problem.reason}", file=sys.stderr)
        if self._handle is not None:
            cells = [render.neutralise(c) for c in problem.cells]
            # short rows are padded, so the reason sits in the reason column
            cells += [""] * (self.width - len(cells))
            self._writer.writerow([*cells, f"line {problem.line}: {problem.reason}"])

    def close(self, keep: bool) -> None:
        if self._handle is None or self.path is None:
            return
        self._handle.close()
        if keep:
            os.replace(self._tmp, self.path)
        else:
            os.unlink(self._tmp)


def _progress_reporter() -> tuple[Any, Any]:
    if not sys.stderr.isatty() or "NO_COLOR" in os.environ:
        return None, lambda _: None
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(
        SpinnerColumn(),
        TextColumn("importing: {task.completed:,} rows read"),
        TimeElapsedColumn(),
        console=render.console(stderr=True),
        transient=True,
    )
    task = bar.add_task("import", total=None)
    return bar, lambda read: bar.update(task, completed=read)


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
    with _open_input(file) as stream:
        table: Table = open_table(
            stream, name="stdin" if file == "-" else file, encoding=encoding, delimiter=delimiter
        )
        if encoding is None and table.encoding not in ("utf-8", "utf-8-sig"):
            note(f"{table.name}: not UTF-8, read as {table.encoding}")
        sink = _Rejects(rejects, table.headers)
        bar, progress = _progress_reporter()
        run = import_leads if kind == "lead" else import_opportunities
        try:
            if bar is not None:
                bar.start()
            summary = run(database, table, options, progress=progress, on_reject=sink)
        except BaseException:
            sink.close(keep=False)
            raise
        finally:
            if bar is not None:
                bar.stop()
        sink.close(keep=True)
    _print_summary(summary, as_json, kind)
    if strict and summary.rejected:
        raise CrmError(f"--strict: {summary.rejected} bad row(s), nothing was imported")
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
            }
        )
        return
    what = "leads" if kind == "lead" else "deals"
    title = f"Import of {what}" + (" (dry run: nothing written)" if summary.dry_run else "")
    render.print_table(
        [[str(v) for v in counts.values()]], list(counts), title=title, right=range(5)
    )
