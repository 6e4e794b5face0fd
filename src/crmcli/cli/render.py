"""Rendering: JSON, CSV, plain or Rich tables. Rich is imported only when a table is drawn."""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crmcli import i18n
from crmcli.cli.streams import machine_stdout
from crmcli.i18n import N_, _
from crmcli.importing.cells import FORMULA_STARTS as FORMULA_STARTS
from crmcli.importing.cells import neutralise as neutralise  # the rule imports undo
from crmcli.jsondata import jsonable as jsonable  # cli code calls render.jsonable


def print_json(value: Any) -> None:
    """Exactly one JSON document on stdout: indented for a person at a terminal, compact for
    a pipe (Python's JSON encoder is several times faster without indentation)."""
    indent = 2 if sys.stdout.isatty() else None
    text = json.dumps(jsonable(value), ensure_ascii=False, indent=indent) + "\n"
    with machine_stdout() as out:  # UTF-8 whatever the locale
        out.write(text)


def print_json_streamed(value: Any) -> None:
    """`print_json`, but the iterators in `value` (itself, or the values of a dict) are
    written one item at a time as they are read: piped, the same text as `print_json` with
    lists in their place, in flat memory whatever their length."""
    if sys.stdout.isatty():
        if isinstance(value, Mapping):
            value = {k: list(v) if isinstance(v, Iterator) else v for k, v in value.items()}
        print_json(list(value) if isinstance(value, Iterator) else value)
        return
    encode = json.JSONEncoder(ensure_ascii=False).encode
    with machine_stdout() as out:

        def write(part: Any) -> None:
            if not isinstance(part, Iterator):
                out.write(encode(jsonable(part)))
                return
            out.write("[")
            for n, item in enumerate(part):
                out.write(f"{', ' if n else ''}{encode(jsonable(item))}")
            out.write("]")

        if isinstance(value, Mapping):
            out.write("{")
            for n, (key, part) in enumerate(value.items()):
                out.write(f"{', ' if n else ''}{encode(key)}: ")
                write(part)
            out.write("}")
        else:
            write(value)
        out.write("\n")


def cell(value: Any) -> str:
    """A value as text for a table or CSV cell."""
    if value is None:
        return ""
    data = jsonable(value)
    if isinstance(data, bool):
        return "yes" if data else "no"
    if isinstance(data, list) and all(isinstance(v, str) for v in data):
        return ", ".join(data)  # a record's tags, as an import reads them back
    if isinstance(data, (dict, list)):
        return json.dumps(data, ensure_ascii=False)
    return str(data)


def print_csv(rows: Iterable[Any], columns: Sequence[str]) -> None:
    """CSV on stdout: a header row, then one row per record (formula cells neutralised)."""
    import csv

    with machine_stdout() as out:  # UTF-8 whatever the locale
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            data = jsonable(row)
            writer.writerow([neutralise(cell(data.get(c))) for c in columns])


def human_money(value: Decimal | None) -> str:
    """An amount for people: thousands separated, two decimals; `1,234.56` in English,
    `1.234,56` in Portuguese (as Babel's pt_BR `#,##0.00`: tests/test_display.py)."""
    if value is None:
        return ""
    text = f"{value:,.2f}"
    return text.translate(_PT_NUMBER) if i18n.portuguese() else text


_PT_NUMBER = str.maketrans(",.", ".,")


def human_count(value: int) -> str:
    """A count for people: `12,345` in English, `12.345` in Portuguese."""
    text = f"{value:,}"
    return text.translate(_PT_NUMBER) if i18n.portuguese() else text


def human_date(value: date | None) -> str:
    """A date for people: ISO `2026-12-31` in English, `31/12/2026` in Portuguese."""
    return "" if value is None else date_text()(value)


def date_text() -> Callable[[date], str]:
    """`human_date` for a date that is there, chosen once for a whole table's rows."""
    return _brazilian_date if i18n.portuguese() else date.isoformat


def _brazilian_date(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def human_moment(value: datetime | None) -> str:
    """A stored moment (naive UTC) for people, in the local time zone to the minute:
    `2026-12-31 14:05` in English, `31/12/2026 14:05` in Portuguese."""
    if value is None:
        return ""
    local = value.replace(tzinfo=UTC).astimezone() if value.tzinfo is None else value.astimezone()
    return f"{human_date(local.date())} {local.hour:02d}:{local.minute:02d}"


def human_cell(value: Any) -> str:
    """A value as text for a table (CSV and JSON use `cell`): money, dates, moments and yes/no
    in the interface language."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, Decimal):
        return human_money(value)
    if isinstance(value, datetime):
        return human_moment(value)
    if isinstance(value, date):
        return human_date(value)
    return cell(value)


def is_terminal() -> bool:
    """True when stdout is a terminal: boxed tables, bars, a screenful of a long list.
    `NO_COLOR` changes none of that, only the colours (`colour`)."""
    return sys.stdout.isatty()


def colour() -> bool:
    """True when stdout is a terminal and `NO_COLOR` is not set."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def console(stderr: bool = False) -> Any:
    """A Rich console: colour only on a terminal without NO_COLOR, no markup from data."""
    from rich.console import Console

    tty = (sys.stderr if stderr else sys.stdout).isatty()
    return Console(
        stderr=stderr,
        no_color="NO_COLOR" in os.environ or not tty,
        highlight=False,
        markup=False,
        emoji=False,
        width=None if tty else 240,
        soft_wrap=False,
    )


def terminal_size() -> tuple[int, int]:
    """(columns, lines) of the terminal stdout is (COLUMNS and LINES win, as in Rich)."""
    import shutil

    size = shutil.get_terminal_size()
    return size.columns, size.lines


def screen_rows(*, title: bool = True, footer: bool = False) -> int | None:
    """How many rows of a table fit on the terminal beside its title, header, footer and the
    line saying how many more there are (at least 5); None when stdout is not a terminal:
    piped output is never cut."""
    if not is_terminal():
        return None
    return max(terminal_size()[1] - 6 - title - 2 * footer, 5)


CELL_LIMIT = 2_000
"""The most characters of one value a table or record shows (JSON and CSV show everything)."""

_UNSHOWN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
"""Characters a table never writes as they are: controls (C0, DEL, C1: ESC [ … drives the
terminal), format characters (bidi overrides, zero-width), line and paragraph separators."""


def shown(text: str) -> str:
    """`text` as a table cell may put it on a terminal or a pipe: at most `CELL_LIMIT`
    characters (then a note of how many more there are), and every control, format or
    separator character escaped as Python writes it (``\\x1b``, ``\\n``, ``\\u202e``), so a
    value can neither drive the terminal nor fake a line of the output."""
    suffix = ""
    if len(text) > CELL_LIMIT:
        more = human_count(len(text) - CELL_LIMIT)
        suffix = "… " + _("({count} more characters; --json shows all)").format(count=more)
        text = text[:CELL_LIMIT]
    if not text.isprintable():
        text = "".join(
            ch.encode("unicode_escape", "backslashreplace").decode("ascii")
            if unicodedata.category(ch) in _UNSHOWN
            else ch
            for ch in text
        )
    return text + suffix


def _shown_row(row: Sequence[str]) -> Sequence[str]:
    """`shown` for each cell of a row, skipped at once for the usual row: short and printable."""
    joined = "".join(row)
    if len(joined) <= CELL_LIMIT and joined.isprintable():
        return row
    return [shown(text) for text in row]


def print_table(
    rows: Sequence[Sequence[str]],
    headers: Sequence[str],
    *,
    title: str | None = None,
    right: Sequence[int] = (),
    footer: Sequence[str] | None = None,
    optional: Sequence[int] = (),
    styles: Sequence[str | None] | None = None,
    screenful: bool = False,
) -> None:
    """A table on stdout: boxed on a terminal, plain aligned columns when piped.

    Every cell, header, title and footer goes through `shown` (escaped, capped). On a
    terminal: numbers, amounts and dates never wrap or shrink; text columns shrink with an
    ellipsis; the `optional` columns (least valuable first) are left out while the table is
    wider than the terminal; `styles` colours whole rows (unless NO_COLOR); with
    `screenful`, a long list shows what fits and says how many more rows there are. Piped
    output is never cut.
    """
    rows = [_shown_row(row) for row in rows]
    headers = [shown(text) for text in headers]
    title = None if title is None else shown(title)
    footer = None if footer is None else [shown(text) for text in footer]
    tty = is_terminal()
    if not tty:
        plain = plain_table(rows, headers, title=title, right=right, footer=footer)
        if plain is not None:
            sys.stdout.write(plain)
            return
    from rich import box
    from rich.table import Table

    width = terminal_size()[0] if tty else PLAIN_WIDTH
    keep = _columns_that_fit(rows, headers, footer, optional, width) if tty else None
    hidden = 0
    room = screen_rows(title=title is not None) if screenful else None
    if room is not None and len(rows) > room:
        hidden, rows = len(rows) - room, rows[:room]
        styles = None if styles is None else styles[:room]
    table = Table(
        title=title,
        box=box.SIMPLE_HEAD if tty else None,
        show_edge=tty,
        show_footer=footer is not None,
        pad_edge=False,
        header_style="bold" if tty else "",
        title_justify="left",
    )
    columns = [i for i in range(len(headers)) if keep is None or i in keep]
    limits = _widths(rows, headers, footer, columns, width) if tty else {}
    for index in columns:
        table.add_column(
            headers[index],
            justify="right" if index in right else "left",
            footer=footer[index] if footer else "",
            overflow="ellipsis" if tty else "fold",
            no_wrap=tty,
            max_width=limits.get(index),
        )
    paint = styles is not None and colour()
    for number, row in enumerate(rows):
        style = styles[number] if paint and styles is not None else None
        table.add_row(*(row[i] for i in columns), style=style)
    out = console()
    if tty:
        out.print(table)
        if hidden:
            out.print(
                _(
                    "… {count} more rows: piped output is never cut (add `| less` to see them all)"
                ).format(count=human_count(hidden))
            )
        return
    with out.capture() as captured:
        out.print(table)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


_FIXED = frozenset("0123456789 .,:/%+-−R$€£¥#\u00a0")


def _fixed(cells: Sequence[str]) -> bool:
    """True for a column of numbers, amounts, dates, times or ids: it must never be cut."""
    return all(not text or set(text) <= _FIXED for text in cells)


def _natural(
    rows: Sequence[Sequence[str]], headers: Sequence[str], footer: Sequence[str] | None
) -> list[int]:
    lines = [headers, *rows, *([footer] if footer else [])]
    return [max(len(line[i]) for line in lines) for i in range(len(headers))]


def overhead(count: int) -> int:
    """The characters a boxed table of `count` columns adds: padding, separators, edges."""
    return 3 * count + 1


def _columns_that_fit(
    rows: Sequence[Sequence[str]],
    headers: Sequence[str],
    footer: Sequence[str] | None,
    optional: Sequence[int],
    width: int,
) -> set[int]:
    """The columns to draw in `width`: all, less the `optional` ones (in order) while even
    the narrowest table (numbers whole, text cut to `TEXT_MIN` characters) is wider than
    the terminal."""
    natural = _natural(rows, headers, footer)
    narrowest = [
        n if _fixed([row[i] for row in rows]) else min(n, TEXT_MIN) for i, n in enumerate(natural)
    ]
    keep = set(range(len(headers)))
    for index in optional:
        if sum(narrowest[i] for i in keep) + overhead(len(keep)) <= width:
            break
        keep.discard(index)
    return keep


TEXT_MIN = 10
"""The fewest characters a text column is cut to before a column is left out instead."""


def _widths(
    rows: Sequence[Sequence[str]],
    headers: Sequence[str],
    footer: Sequence[str] | None,
    columns: Sequence[int],
    width: int,
) -> dict[int, int]:
    """The widest each text column may be so the table fits `width`: numbers, amounts,
    dates and ids keep their full width; the text columns share what is left: a column
    narrower than an equal share keeps its width, the others split the rest (at least 4
    characters each, when even that does not fit)."""
    natural = _natural(rows, headers, footer)
    fixed = [i for i in columns if _fixed([row[i] for row in rows])]
    room = width - overhead(len(columns)) - sum(natural[i] for i in fixed)
    todo = sorted((i for i in columns if i not in fixed), key=lambda i: natural[i])
    limits: dict[int, int] = {}
    while todo:
        share = room // len(todo)
        if natural[todo[0]] <= share:
            room -= natural[todo.pop(0)]
            continue
        limits.update(dict.fromkeys(todo, max(4, share)))
        break
    return limits


PLAIN_WIDTH = 240
"""The width of piped output (the Rich console's width when stdout is not a terminal)."""


def _simple(text: str) -> bool:
    """True when every character of `text` takes exactly one cell and no control codes."""
    if text != text.strip():
        return False  # Rich trims the padding of justified cells; leave those to it
    if text.isascii():
        return text.isprintable()
    return all(
        ch.isprintable()
        and not unicodedata.combining(ch)
        and unicodedata.east_asian_width(ch) not in "WF"
        and unicodedata.category(ch) not in ("Mn", "Me", "Cf")
        for ch in text
    )


def print_rows(
    rows: Iterable[Sequence[str]],
    headers: Sequence[str],
    *,
    title: str | None = None,
    right: Sequence[int] = (),
    footer: Sequence[str] | None = None,
    optional: Sequence[int] = (),
    styles: Callable[[], Sequence[str | None]] | None = None,
    screenful: bool = False,
) -> None:
    """`print_table` for a list of any length, its rows read once as they come. Piped, they
    are never held: each row goes to a temporary file as its cells' widths are measured, then
    is written from there with the widths of the whole column; memory stays flat whatever the
    length (unless only Rich can lay the text out: then as `print_table`). On a terminal, as
    `print_table` (`styles`, called there, colour the rows)."""
    if is_terminal():
        print_table(
            list(rows),
            headers,
            title=title,
            right=right,
            footer=footer,
            optional=optional,
            styles=None if styles is None else styles(),
            screenful=screenful,
        )
        return
    import tempfile

    head = [shown(text) for text in headers]
    last = None if footer is None else [shown(text) for text in footer]
    caption = None if title is None else shown(title)
    widths = [len(text) for text in head]
    simple = _simple_column(head) and (last is None or _simple_column(last))
    encode, decode = json.JSONEncoder(ensure_ascii=False).encode, json.JSONDecoder().decode
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as spool:
        found = iter(rows)
        for row in found:
            spool.write(encode(row) + "\n")  # one line: JSON escapes any newline in a cell
            cells = _shown_row(row)
            if not _simple_column(cells):
                simple = False
                break
            widths = [max(w, len(c)) for w, c in zip(widths, cells, strict=True)]
        if last is not None:
            widths = [max(w, len(c)) for w, c in zip(widths, last, strict=True)]
        spool.seek(0)
        lay = _plain_layout(widths, right, caption) if simple else None
        if lay is None:  # Rich lays it out: every row in memory
            held = [decode(line) for line in spool]
            print_table([*held, *found], headers, title=title, right=right, footer=footer)
            return
        write = sys.stdout.write
        if caption is not None:
            write(caption + "\n")
        write(lay(head))
        for line in spool:
            write(lay(_shown_row(decode(line))))
        if last is not None:
            write(lay(last))


def _plain_layout(
    widths: Sequence[int], right: Sequence[int], title: str | None
) -> Callable[[Sequence[str]], str] | None:
    """How a piped table writes one line of cells, given its columns' widths (the numbers in
    `right` aligned right); None when the table or its title does not fit in `PLAIN_WIDTH`."""
    total = sum(widths) + 2 * (len(widths) - 1)
    if total > PLAIN_WIDTH or (title is not None and (len(title) > total or not _simple(title))):
        return None
    layout = "  ".join(
        f"{{:{'>' if index in right else '<'}{width}}}" for index, width in enumerate(widths)
    )
    return lambda cells: layout.format(*cells).rstrip() + "\n"


def plain_table(
    rows: Sequence[Sequence[str]],
    headers: Sequence[str],
    *,
    title: str | None = None,
    right: Sequence[int] = (),
    footer: Sequence[str] | None = None,
) -> str | None:
    """The piped form of a table, as Rich draws it without a box, or None when only Rich can
    lay it out (wide or combining characters, control codes, wider than the page).

    Drawn by hand because importing Rich's table costs more than a small listing itself.
    """
    lines = [tuple(headers), *(tuple(r) for r in rows)]
    if footer is not None:
        lines.append(tuple(footer))
    widths = []
    for column in zip(*lines, strict=True):
        if not _simple_column(column):
            return None
        widths.append(max(map(len, column)))
    lay = _plain_layout(widths, right, title)
    if lay is None:
        return None
    out = [title + "\n"] if title is not None else []
    out.extend(map(lay, lines))
    return "".join(out)


def _simple_column(column: Sequence[str]) -> bool:
    """`_simple` for every text of a column, in a few passes over all of it when it is ASCII."""
    flat = "".join(column)
    if not flat.isascii():
        return all(_simple(text) for text in column)
    if not flat.isprintable():
        return False
    joined = "\x00".join(column)  # no cell holds a NUL now: it marks where each one starts
    return (
        not joined.startswith(" ")
        and not joined.endswith(" ")
        and "\x00 " not in joined
        and " \x00" not in joined
    )


FIELD_LABELS = (
    N_("id"), N_("name"), N_("company"), N_("email"), N_("phone"), N_("title"), N_("source"),
    N_("status"), N_("budget"), N_("timeline"), N_("owner"), N_("notes"), N_("created_at"),
    N_("updated_at"), N_("industry"), N_("website"), N_("type"), N_("account_id"),
    N_("contact_id"), N_("lead_id"), N_("opportunity_id"), N_("amount"), N_("probability"),
    N_("stage"), N_("expected_close"), N_("subject"), N_("due"), N_("due_has_time"),
    N_("done"), N_("done_at"), N_("position"), N_("expected_days"), N_("tags"),
    N_("person_id"),
)  # fmt: skip
"""The field names a record's `field  value` table shows, translated as labels there (JSON and
CSV keep the names)."""


def print_record(pairs: Sequence[tuple[str, str]], *, title: str | None = None) -> None:
    """One record as `field  value` lines (the field's label in the interface language);
    empty values are left out."""
    rows = [(_(k) if k in _LABELLED else k, v) for k, v in pairs if v]
    print_table(rows, [_("field"), _("value")], title=title)


_LABELLED = frozenset(FIELD_LABELS)


def print_one(
    record: Any, columns: Sequence[str], *, as_json: bool, quiet: bool, title: str
) -> None:
    """One record as its id (-q), JSON, or `field  value` lines of `columns`."""
    if quiet:
        print_ids([record.id])
    elif as_json:
        print_json(record)
    else:
        print_record([(c, human_cell(getattr(record, c))) for c in columns], title=title)


def print_each(
    records: Sequence[Any],
    *,
    as_json: bool,
    quiet: bool,
    title: Callable[[Any], str],
    name: Callable[[Any], str] = lambda r: str(r.name),
    data: Callable[[Any], Any] = jsonable,
) -> None:
    """The records a bulk action changed: one `title: name` line each, a JSON list (each
    record as `data` makes it), or their ids (-q)."""
    if quiet:
        print_ids(r.id for r in records)
    elif as_json:
        print_json([data(r) for r in records])
    else:
        for r in records:
            line = _("{what}: {name}").format(what=title(r), name=shown(name(r)))
            sys.stdout.write(line + "\n")


def print_list(
    records: Iterable[Any], columns: Sequence[str], *, as_json: bool, as_csv: bool, quiet: bool
) -> bool:
    """Print `records` as ids (-q), JSON or CSV when one was asked for, each record as it
    comes; False means: draw the command's own table."""
    if quiet:
        print_ids(r.id for r in records)
    elif as_json:
        print_json_streamed(iter(records))
    elif as_csv:
        print_csv(records, columns)
    else:
        return False
    return True


def print_ids(ids: Iterable[int]) -> None:
    """Ids one per line (for -q)."""
    for value in ids:
        sys.stdout.write(f"{value}\n")
