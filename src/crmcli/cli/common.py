"""What every command shares: global state, option types, error handling, stderr notes.

Kept light: nothing here imports the database layer or Rich at import time.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import typer
from typer.core import TyperGroup

from crmcli import clock, i18n, interrupts
from crmcli.cli import translation
from crmcli.domain import values
from crmcli.domain.sorting import SORT_FIELDS, sort_field
from crmcli.errors import CrmError, UsageError
from crmcli.i18n import N_, _

if TYPE_CHECKING:
    from pathlib import Path

    from crmcli.domain.models import Account
    from crmcli.services.database import Database

T = TypeVar("T")


@dataclass
class State:
    """Global options of one invocation."""

    db_target: str | None = None
    debug: bool = False
    no_hooks: bool = False
    """`--no-hooks`: this invocation runs no hooks (docs/hooks.md)."""
    command: str | None = None
    """The command line as typed after `crm`, without the global options (`--db` may hold a
    password): `lead convert 7 --dry-run`. The journal records it with each change."""
    _db: Database | None = field(default=None, repr=False)

    def db(self) -> Database:
        """The database this invocation uses (opened on first use)."""
        if self._db is None:
            from crmcli.services.common import default_owner
            from crmcli.services.database import open_database, redact, resolve_target

            target = resolve_target(self.db_target)
            _SECRETS.extend(_url_secrets(target))  # before anything can quote it
            # a URL among the words (`db copy --to postgresql://ana:pw@…`) is kept without
            # its password, as everything else crm writes
            command = redact(self.command) if self.command is not None else None
            self._db = open_database(
                target,
                notify=note,
                actor=default_owner(),
                command=command,
                hooks=not self.no_hooks,
            )
        return self._db

    def close(self) -> None:
        """Release the database's connections."""
        if self._db is not None:
            self._db.dispose()
            self._db = None


def state(ctx: typer.Context) -> State:
    """The State of the root command."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def db(ctx: typer.Context) -> Database:
    """The database of this invocation."""
    return state(ctx).db()


def note(message: str) -> None:
    """A message for the person at the terminal: stderr, never stdout (see `say`).

    Control characters are escaped: a note can quote a stored name written before names were
    cleaned (an escape sequence must not drive the terminal).
    """
    say(f"crm: {message if message.isprintable() else _one_line(message)}")


_stderr_gone = False


def say(line: str) -> None:
    """One line on stderr, best effort: a diagnostic that cannot be written (stderr closed,
    `crm lead import f.csv 2>&1 | head -1`) is dropped, with every later one, and never
    undoes the user's data by raising inside a transaction."""
    global _stderr_gone
    if _stderr_gone:
        return
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # EPIPE, EIO, a closed stream
        _stderr_gone = True
        with suppress(OSError, ValueError):  # so the final flush at exit cannot fail either
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stderr.fileno())


def _one_line(text: str) -> str:
    """A message on one short line: control characters escaped, huge echoed values cut."""
    words = []
    for word in str(text).split():
        if not word.isprintable():  # ESC [ … would drive the terminal
            word = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in word)
        words.append(word if len(word) <= 240 else word[:239] + "…")  # a path still fits
    line = " ".join(words)
    return line if len(line) <= 1000 else line[:999] + "…"


def say_interrupted() -> None:
    """The one line an interrupted command says: whether its change was saved."""
    if interrupts.saved():
        say(_("crm: interrupted after the change was saved (it is in the database)"))
    else:
        say(_("crm: interrupted: nothing was written"))


class CrmGroup(TyperGroup):
    """Turns CrmError and usage errors of sub-commands into one line on stderr and an exit code;
    lists its commands with their help in the interface language."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The list of sub-commands, their short help in the interface language (cut to the
        width after translating; everything else of a help page is translated as it is
        written, by `translation.Formatter`)."""
        if i18n.portuguese():
            for name in self.list_commands(ctx):
                command = self.get_command(ctx, name)
                if command is not None:
                    translation.translate_command(command)
        super().format_commands(ctx, formatter)

    def invoke(self, ctx: Any) -> Any:
        if ctx.parent is None:
            interrupts.reset()
            state(ctx).command = typed_command(ctx)
        try:
            return self._invoke(ctx)
        finally:
            if ctx.parent is None:
                state(ctx).close()

    def _invoke(self, ctx: Any) -> Any:
        try:
            try:
                result = super().invoke(ctx)
            except typer.Exit:
                interrupts.checkpoint()  # a signal held back during a commit: now it is said
                raise
            interrupts.checkpoint()
            return result
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (interrupts.Terminated)
            if state(ctx).debug:
                _print_traceback(exc)
            else:
                say_interrupted()
            raise typer.Exit(interrupts.exit_code(exc)) from None
        except CrmError as exc:
            if state(ctx).debug:
                _print_traceback(exc)
            else:
                # several records refused at once (errors.Refused): one line each
                for line in getattr(exc, "lines", None) or [str(exc)]:
                    error_line(_redacted(_one_line(line)))
            raise typer.Exit(exc.exit_code) from None
        except typer.TyperException as exc:
            message = getattr(exc, "format_message", None)
            code = getattr(exc, "exit_code", 1)
            if message is None or code == 0:
                raise
            usage_error_line(exc)
            raise typer.Exit(code) from None
        except OverflowError:
            # An id or count beyond SQLite's 64-bit integers (`lead show 99999999999999999999`)
            if state(ctx).debug:
                raise
            error_line(too_large())
            raise typer.Exit(UsageError.exit_code) from None
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:
            # Whoever read our output went away (`crm agenda | head`): stop quietly, as click
            # does, and point stdout at /dev/null so the final flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except Exception as exc:
            if state(ctx).debug or not _is_database_error(exc):
                # --debug, or a bug: the traceback, with any password in it hidden
                _print_traceback(exc)
                raise typer.Exit(1) from None
            opened = state(ctx)._db
            where = opened.path if opened is not None else None
            text = _database_message(exc, where)
            error_line(_redacted(_one_line(text)))
            raise typer.Exit(1) from None


def error_line(message: str) -> None:
    """`crm: error: <message>` on stderr."""
    say(_("crm: error: {message}").format(message=message))


def usage_error_line(exc: Any) -> None:
    """A usage error of Click's as one line on stderr: `crm lead add: error: … (see --help)`."""
    where = getattr(getattr(exc, "ctx", None), "command_path", "crm")
    text = _one_line(exc.format_message()).replace("Value error, ", "")  # pydantic's prefix
    text = translation.usage_error(text)
    say(_("{command}: error: {message} (see --help)").format(command=where, message=text))


def typed_command(ctx: Any) -> str | None:
    """The command line of the root context `ctx` as typed after `crm`, without the global
    options: `crm --db x.db lead convert 7 --dry-run` gives `lead convert 7 --dry-run`.

    Read before the root group runs: by then it has parsed its own options (`--db`, which may
    hold a password, `--debug`) and stopped at the sub-command's name (no interspersed
    arguments), so the sub-command's name is in `_protected_args` (click's `protected_args`
    before 8.2) and every word after it in `args`. Quoted as a shell would need it.
    """
    named = ctx._protected_args if hasattr(ctx, "_protected_args") else ctx.protected_args
    return shlex.join([*named, *ctx.args]) or None


def too_large() -> str:
    """The message for an id or count beyond 64-bit integers."""
    return _("a number is too large for the database (the largest is {largest})").format(
        largest=2**63 - 1
    )


def _is_database_error(exc: Exception) -> bool:
    module = type(exc).__module__
    return module.startswith(("sqlalchemy", "sqlite3", "psycopg"))


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ran out


def _database_message(exc: BaseException, path: Path | None = None) -> str:
    """What follows `crm: error: ` for a driver's error: its own first line, once, after
    `database: ` (SQLAlchemy's `(sqlite3.OperationalError) …` wrapper and background link
    dropped), a lock that could not be had said as SQLite says it, a full disk under the
    SQLite file `path` named as such.

    Promised (docs/reliability.md): `crm: error: database: database is locked`.
    """
    driver = getattr(exc, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
    inner: BaseException = driver if isinstance(driver, BaseException) else exc
    if path is not None:
        from crmcli.services.database import full_disk

        full = full_disk(path, inner)
        if full is not None:
            return str(full)
    text = str(inner).strip()
    first = text.splitlines()[0].strip() if text else type(inner).__name__
    if getattr(inner, "sqlstate", None) == LOCK_NOT_AVAILABLE:
        first = _(
            "database is locked ({message}: another connection held the lock past lock_timeout)"
        ).format(message=first)
    elif type(inner).__name__ == "ConnectionTimeout":
        first = _("cannot connect to the server: {message} (connect_timeout)").format(message=first)
    return _("database: {message}").format(message=first)


def _redacted(text: str) -> str:
    from crmcli.services.database import redact

    text = redact(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


_SECRETS: list[str] = []
"""The password of the database URL in use, and its pieces, hidden from every error we print.

A driver that misreads a URL (an unescaped `@` in the password) quotes a piece of it as the
host name: `failed to resolve host 'w0rd@db.example'`; `redact` cannot see that it is one.
"""


def _url_secrets(target: str) -> list[str]:
    from urllib.parse import parse_qs, unquote

    _scheme, sep, rest = target.partition("://")
    if not sep:
        return []
    userinfo = rest.rpartition("@")[0]
    found = [userinfo.partition(":")[2]] if ":" in userinfo else []
    found += parse_qs(rest.partition("?")[2]).get("password", [])
    pieces = []
    for secret in found:
        for form in {secret, unquote(secret)}:
            pieces += [form, *(p for p in form.split("@") if len(p) >= 3)]
    return [p for p in pieces if p]


def _print_traceback(exc: BaseException) -> None:
    """The traceback of `exc` on stderr, as Python prints it, but with passwords hidden.

    Database drivers and SQLAlchemy can quote the connection URL in their messages.
    """
    import traceback

    text = "".join(traceback.format_exception(exc))
    print(_redacted(text), end="", file=sys.stderr)


_REFUSALS = {
    "delete": N_("refusing to delete without --yes when not on a terminal"),
    "undo": N_("refusing to undo without --yes when not on a terminal"),
}
"""The refusal of `confirm` off a terminal, whole, for each action the commands name."""


def confirm(yes: bool, action: str, question: Callable[[], str]) -> None:
    """Ask `question()` on a terminal (no: exit 1); off a terminal `--yes` is required to
    `action` (exit 2). `question` is called only when asking.

    `action` is a verb in English (`delete`, `undo`: the refusal is then said whole in the
    interface language, see `_REFUSALS`) or, for any other, already in that language."""
    if yes:
        return
    if not sys.stdin.isatty():
        refusal = _REFUSALS.get(action)
        if refusal is not None:
            raise UsageError(_(refusal))
        raise UsageError(
            _("refusing to {action} without --yes when not on a terminal").format(action=action)
        )
    if not ask(question()):
        raise typer.Exit(1)


def ask(question: str) -> bool:
    """Ask a yes/no question on stderr; the answer on stdin in either language (`y`, `yes`,
    `s`, `sim` / `n`, `no`, `não`, or just Enter for no). Anything else asks again; the end
    of the input is a no."""
    while True:
        sys.stderr.write(_("{question} [y/N]: ").format(question=question))
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            sys.stderr.write("\n")
            return False
        answer = values.parse_answer(line)
        if answer is not None:
            return answer
        sys.stderr.write(_("Answer y (yes, s, sim) or n (no, não).") + "\n")


def confirm_delete(yes: bool, describe: Callable[[], str]) -> None:
    """`confirm` a delete; `describe` names the record ("lead 3 (Ana)")."""
    confirm(yes, "delete", lambda: _("Delete {record} for good?").format(record=describe()))


class _Record(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=_Record)


def delete_confirmed(
    *,
    yes: bool,
    as_json: bool,
    get: Callable[[], R],
    remove: Callable[[], R],
    describe: Callable[[R], str],
) -> None:
    """The `delete` commands: ask (see `confirm_delete`), delete, then say what went.

    `get` fetches the record only to name it in the question; `describe` names a record
    ("lead 3 (Ana)"); JSON output is `{"id": …, "deleted": true}`.
    """
    confirm_delete(yes, lambda: describe(get()))
    record = remove()
    if as_json:
        from crmcli.cli import render

        render.print_json({"id": record.id, "deleted": True})
    else:
        note(_("deleted {record}").format(record=describe(record)))


def announce_created_account(created: Account | None) -> None:
    """Tell stderr that naming an unknown account created it (`opp add`, `contact add`...)."""
    if created is not None:
        note(_('created account {id} "{name}"').format(id=created.id, name=created.name))


def sub_app(help_text: str) -> typer.Typer:
    """A noun's sub-app with the shared settings."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        cls=CrmGroup,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )


def _bad(parse: Callable[[str], T]) -> Callable[[str], T]:
    def parser(text: str) -> T:
        try:
            return parse(text)
        except CrmError as exc:
            raise typer.BadParameter(str(exc)) from None

    return parser


money_parser = _bad(values.typed_amount)


def date_parser(text: str) -> date:
    """A date option (`--timeline tomorrow`, `--close +30d`): relative forms count from the
    command's own date (`clock.today()`, pinned by CRM_NOW), the one its records are stamped
    with, never from the wall clock. A bad CRM_NOW is its own error, not this option's."""
    today = clock.today()
    try:
        return values.parse_date(text, today=today)
    except CrmError as exc:
        raise typer.BadParameter(str(exc)) from None


probability_parser = _bad(values.parse_probability)
activity_type_parser = _bad(values.parse_activity_type)


def _reference(kind: str, *, ids_only: bool = False) -> Callable[[str], Any]:
    """The parser of an argument or option naming a record of `kind` (values.parse_reference).

    An empty or blank reference raises UsageError while the command line is parsed: exit 2 and
    one line (`crm: error: opportunity: an empty reference (give an id or a name)`), before any
    database is opened. Names are passed on as typed; id-only references become ints.
    """

    def parse(text: str) -> Any:
        parsed = values.parse_reference(text, kind, ids_only=ids_only)
        return parsed if ids_only else text

    return parse


def reference_argument(kind: str, help_text: str, metavar: str = "ID|NAME") -> Any:
    """A positional argument naming a record of `kind` by id or name (never blank)."""
    return typer.Argument(
        parser=_reference(kind), metavar=metavar, help=help_text, shell_complete=_completer(kind)
    )


def reference_option(kind: str, help_text: str, *names: str, metavar: str = "ID|NAME") -> Any:
    """An option naming a record of `kind` by id or name (never blank)."""
    return typer.Option(
        *names,
        parser=_reference(kind),
        metavar=metavar,
        help=help_text,
        shell_complete=_completer(kind),
    )


def _completer(kind: str) -> Any:
    """The shell completion of a reference to a record of `kind` (stage names; else none)."""
    if kind != "stage":
        return None
    from crmcli.cli.completion import stage_names

    return stage_names


def id_argument(kind: str, help_text: str) -> Any:
    """A positional argument naming a record of `kind` by id only (ASCII digits)."""
    return typer.Argument(parser=_reference(kind, ids_only=True), metavar="ID", help=help_text)


if TYPE_CHECKING:
    LeadRef = int | str
    """A lead named on the command line: its id, or its e-mail (normalised)."""
else:
    LeadRef = object  # what Typer is shown: it takes no Union, the parser decides


def lead_reference(text: str) -> int | str:
    """A lead as typed: its id (an int) or its e-mail, normalised (`values.parse_lead_reference`;
    anything else is a UsageError, exit 2, before any database is opened). Resolved by the
    services (`uow.leads.find`)."""
    return values.parse_lead_reference(text)


def lead_argument(help_text: str) -> Any:
    """A positional argument naming a lead by id or e-mail."""
    return typer.Argument(parser=lead_reference, metavar="ID|EMAIL", help=help_text)


def lead_option(help_text: str, *names: str) -> Any:
    """An option naming a lead by id or e-mail."""
    return typer.Option(*names, parser=lead_reference, metavar="ID|EMAIL", help=help_text)


def many_argument(parse: Callable[[str], Any], help_text: str, metavar: str) -> Any:
    """The refs of a per-record action (`crm lead archive 6 7 9`): one or more, each read by
    `parse`, or `-` to read them from stdin (see `expand_refs`)."""

    def parser(text: str) -> Any:
        return STDIN if text == "-" else parse(text)

    return typer.Argument(parser=parser, metavar=f"{metavar}...|-", help=help_text)


STDIN = "-"
"""The ref `-`: read the refs from stdin, one per line."""


def expand_refs(refs: list[Any], parse: Callable[[str], T]) -> list[T]:
    """`refs` as given, each `-` replaced by the refs on stdin (one per line, blank lines
    ignored, each read by `parse`). Nothing to act on is a UsageError."""
    out: list[Any] = []
    for ref in refs:
        if ref is STDIN or ref == STDIN:
            out += [parse(line) for line in sys.stdin.read().splitlines() if line.strip()]
        else:
            out.append(ref)
    if not out:
        raise UsageError(_("no references on stdin (give one per line)"))
    return out


def act_on(
    refs: Sequence[T],
    one: Callable[[T], R],
    many: Callable[[Sequence[T]], Sequence[R]],
    show: Callable[..., None],
    title: Callable[[R], str],
    *,
    as_json: bool,
    quiet: bool,
    **each: Any,
) -> None:
    """A per-record action on the refs given (`expand_refs`): one ref goes through `one` and
    is shown as a single record always was (`show(record, as_json=…, quiet=…, title=…)`);
    several go through `many` (one transaction) and are printed by `render.print_each`
    (`each`: its `name`/`data`)."""
    from crmcli.cli import render

    if len(refs) > 1:
        records = many(refs)
        render.print_each(records, as_json=as_json, quiet=quiet, title=title, **each)
        return
    record = one(refs[0])
    show(record, as_json=as_json, quiet=quiet, title=title(record))


def reference_parser(kind: str) -> Callable[[str], str]:
    """The parser of a reference to a record of `kind` by id or name (never blank)."""
    parse: Callable[[str], str] = _reference(kind)
    return parse


def id_parser(kind: str) -> Callable[[str], int]:
    """The parser of an id of a record of `kind` (ASCII digits; else a UsageError)."""
    parse: Callable[[str], int] = _reference(kind, ids_only=True)
    return parse


def id_option(kind: str, help_text: str, *names: str) -> Any:
    """An option naming a record of `kind` by id only (ASCII digits)."""
    return typer.Option(
        *names, parser=_reference(kind, ids_only=True), metavar="ID", help=help_text
    )


# -- option types --------------------------------------------------------------------------

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
TagOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", help="Add a tag (repeatable; or several separated by commas)."),
]
UntagOpt = Annotated[list[str] | None, typer.Option("--untag", help="Remove a tag (repeatable).")]
TagFilterOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", help="Only records with this tag (repeatable: with all of them)."),
]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV: a header row, then one row each.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the id.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def money_option(help_text: str, *names: str) -> Any:
    """An option holding an exact amount (1234.56, 1.234,56, R$ 1.234,56 …)."""
    return typer.Option(*names, parser=money_parser, metavar="AMOUNT", help=help_text)


def date_option(help_text: str, *names: str) -> Any:
    """An option holding a date (YYYY-MM-DD, DD/MM/YYYY, today, +30d …)."""
    return typer.Option(*names, parser=date_parser, metavar="DATE", help=help_text)


def probability_option(help_text: str, *names: str) -> Any:
    """An option holding a probability in percent (0-100)."""
    return typer.Option(*names, parser=probability_parser, metavar="0-100", help=help_text)


# -- list options (`--limit`, `--sort`, `--reverse`) -----------------------------------------


def sort_option(entity: str) -> Any:
    """`--sort FIELD` of `entity`'s list: one of `sorting.SORT_FIELDS[entity]` (any case);
    another word is a usage error (exit 2) naming the allowed ones."""
    fields = SORT_FIELDS[entity]

    def parse(text: str) -> str:
        found = sort_field(entity, text)
        if found is None:
            raise typer.BadParameter(
                _('"{value}" is not one of {choices}').format(
                    value=text.strip(), choices=", ".join(fields)
                )
            )
        return found

    def complete(ctx: Any, param: Any, incomplete: str) -> list[str]:
        return [f for f in fields if f.startswith(incomplete.lower())]

    return typer.Option(
        "--sort",
        parser=parse,
        metavar="FIELD",
        shell_complete=complete,
        help=f"Sort by one of: {', '.join(fields)} (empty values last).",
    )


def limit_option(help_text: str) -> Any:
    """`--limit N` (N ≥ 1): at most N records, the whole of them even on a terminal."""
    return typer.Option("--limit", min=1, metavar="N", help=help_text)


ReverseOpt = Annotated[
    bool, typer.Option("--reverse", help="Reverse the order (empty values stay last).")
]
AllRowsOpt = Annotated[
    bool, typer.Option("--all", help="Show every row, even on a terminal (no screenful).")
]
