"""Click's and Typer's own words in the interface language: help, headings, usage errors.

Typer's vendored Click writes plain English literals, so its words are translated where they
come out: help texts, option lists and headings in `Formatter`, the short help of the commands
a group lists in place (`translate_command`: it is cut to the width before it is written),
usage errors by matching the
English message against the templates below (`usage_error`). Typer's own `gettext` calls stay
English (its "Did you mean" is appended to them in English) and are translated on the way out
like Click's.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from typer._click.formatting import HelpFormatter

from crmcli import i18n
from crmcli.i18n import N_, _

HELP_TEXTS = (
    N_("Usage: "),
    N_("Show this message and exit."),
    N_("Options"),
    N_("Commands"),
    N_("Arguments"),
    N_("default: {default}"),
    N_("env var: {var}"),
    N_("required"),
    N_("(dynamic)"),
    N_("[OPTIONS]"),
    N_("COMMAND [ARGS]..."),
)
"""Words of the help pages that Click writes itself or Typer looks up with `gettext`."""

USAGE_ERRORS = (
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Invalid value for {hint}: {message}"),
    N_("Invalid value: {message}"),
    N_("Missing argument {hint}."),
    N_("Missing option {hint}."),
    N_("Missing parameter {hint}."),
    N_("No such option: {name}"),
    N_("No such option: {name} (Possible options: {options})"),
    N_("Option {name} does not take a value."),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {count} arguments."),
    N_("Argument {name} takes {count} values."),
    N_("{value} is not a valid integer."),
    N_("{value} is not a valid float."),
    N_("{value} is not a valid boolean. Recognized values: {states}"),
    N_("{value} is not in the range {range}."),
    N_("{value} does not match the formats {formats}."),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("No such command {name}. Did you mean {suggestions}?"),
)
"""The English messages of Click's and Typer's usage errors, as templates."""

_RECURSIVE = frozenset({"message"})
"""Placeholders that hold another message of Click's (`Invalid value for X: <message>`)."""

_PLACEHOLDER = re.compile(r"\{(\w+)(?:![rs])?\}")
_patterns: list[tuple[re.Pattern[str], str]] | None = None


def _compiled() -> list[tuple[re.Pattern[str], str]]:
    global _patterns
    if _patterns is None:
        found = []
        for template in USAGE_ERRORS:
            pieces = _PLACEHOLDER.split(template)
            regex = "".join(
                re.escape(piece) if index % 2 == 0 else f"(?P<{piece}>.+?)"
                for index, piece in enumerate(pieces)
            )
            literal = sum(len(p) for p in pieces[::2])
            found.append((literal, re.compile(rf"\A{regex}\Z", re.DOTALL), template))
        found.sort(key=lambda item: -item[0])  # the most specific template first
        _patterns = [(pattern, template) for _, pattern, template in found]
    return _patterns


def usage_error(message: str) -> str:
    """Click's English usage-error `message` in the interface language."""
    if not i18n.portuguese():
        return message
    for pattern, template in _compiled():
        match = pattern.match(message)
        if match is None:
            continue
        values = {
            name: usage_error(value) if name in _RECURSIVE else value
            for name, value in match.groupdict().items()
        }
        return _PLACEHOLDER.sub("{\\1}", _(template)).format(**values)
    return message


def help_text(text: str | None) -> str | None:
    """A help text as Click shows it (cleaned, cut at a form feed), translated."""
    if not text:
        return text
    return _(inspect.cleandoc(text).partition("\f")[0])


def translate_command(command: Any) -> None:
    """Put `command`'s help and short help in the interface language, in place, for a group's
    list of commands (once per language: the texts are looked up by their English). Its
    options' help is translated by `Formatter` as it is written."""
    lang = i18n.language()
    if getattr(command, "_crm_language", i18n.ENGLISH) == lang:
        return
    if not hasattr(command, "_crm_english"):
        command._crm_english = (command.help, command.short_help)
    help_, short = command._crm_english
    command.help = help_text(help_)
    command.short_help = help_text(short)
    command._crm_language = lang


class Formatter(HelpFormatter):
    """Click's help formatter, with its own words in the interface language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if i18n.portuguese():
            for words in ("[OPTIONS]", "COMMAND [ARGS]..."):
                args = args.replace(words, _(words))
        super().write_usage(prog, args, _("Usage: ") if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(_(heading))

    def write_text(self, text: str) -> None:
        super().write_text(_(text) if i18n.portuguese() else text)

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        if i18n.portuguese():
            rows = [(term, described(text)) for term, text in rows]
        super().write_dl(rows, col_max, col_spacing)


_EXTRAS = re.compile(r"(?s)\A(.*?)(?:  )?\[([^\[\]]*)\]\Z")
_EXTRA = re.compile(r"\A(default|env var): (.*)\Z", re.DOTALL)


def described(text: str) -> str:
    """An option's or command's description in a help list, translated: its help, then
    Typer's `[default: …; env var: …; required]` with each item translated."""
    found = _EXTRAS.match(text)
    if found is None:
        return _(text)
    help_, extras = found.groups()
    items = []
    for item in extras.split("; "):
        named = _EXTRA.match(item)
        if named is None:
            items.append(_(item))
        elif named.group(1) == "default":
            items.append(_("default: {default}").format(default=named.group(2)))
        else:
            items.append(_("env var: {var}").format(var=named.group(2)))
    shown = "[" + "; ".join(items) + "]"
    return f"{_(help_)}  {shown}" if help_ else shown


def install() -> None:
    """Route Click's help formatting through `Formatter`."""
    from typer._click.core import Context

    Context.formatter_class = Formatter
