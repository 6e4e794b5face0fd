"""The interface language: English or Brazilian Portuguese, from the environment.

`CRM_LANG` if set (`pt_BR`, `pt`, `en`), else the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that
is set: Portuguese for `pt…`, English otherwise. The messages are English in the code, marked
with `_()` (or `ngettext`, or `N_` where the text is only named and translated later), and
looked up in the compiled catalog `locale/pt_BR/LC_MESSAGES/crmcli.mo`, made from the `.po`
beside it by `scripts/catalogs.py`. The system's locales are never used: it works on a machine
without any installed.

Imports nothing heavy (`gettext` is imported by Typer anyway); English costs one comparison.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "crmcli"
PORTUGUESE = "pt_BR"
ENGLISH = "en"

_language: str | None = None
_catalog: Any = None


def chosen_language(environ: Any = os.environ) -> str:
    """`pt_BR` or `en`, as the environment asks (see the module's docstring)."""
    for name in ("CRM_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return PORTUGUESE if value.lower().startswith("pt") else ENGLISH
    return ENGLISH


def language() -> str:
    """The language of this invocation (read from the environment once, see `reset`)."""
    global _language, _catalog
    if _language is None:
        _language = chosen_language()
        _catalog = _load(_language)
    return _language


def portuguese() -> bool:
    """True when the interface speaks Portuguese."""
    return language() == PORTUGUESE


def reset() -> None:
    """Read the environment again at the next message (each command of a test run in one
    process, through CliRunner, may set another language)."""
    global _language, _catalog
    _language = None
    _catalog = None


def _load(lang: str) -> Any:
    if lang == ENGLISH:
        return None
    import gettext

    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with path.open("rb") as file:
            return gettext.GNUTranslations(file)
    except OSError:  # an installation without the catalog still speaks (English)
        return None


class Message(str):
    """A message in the interface language that remembers its English: machine output (JSON,
    CSV, an import's rejects file) uses `english_of`, so it never changes with the language.

    `format` fills the English beside the translation (a placeholder's value that is itself a
    Message gives its English), and `str()` of an exception holding one keeps it. Text built
    otherwise (`+`, f-strings, `join`) is plain again: it is the translation everywhere.
    """

    english: str = ""

    def __str__(self) -> str:
        return self

    def format(self, *args: Any, **kwargs: Any) -> str:
        return _message(
            str.format(self, *args, **kwargs),
            str.format(
                self.english,
                *(english_of(a) for a in args),
                **{k: english_of(v) for k, v in kwargs.items()},
            ),
        )


def _message(text: str, english: str) -> Message:
    message = Message(text)
    message.english = english
    return message


def english_of(value: Any) -> Any:
    """The English of a Message; anything else as it is."""
    return value.english if isinstance(value, Message) else value


def _(message: str) -> str:
    """`message` in the interface language (a `Message` when it is not English)."""
    if _language is None:
        language()
    return message if _catalog is None else _message(_catalog.gettext(message), message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """`singular` or `plural`, as `count` needs it, in the interface language."""
    if _language is None:
        language()
    english = singular if count == 1 else plural
    if _catalog is None:
        return english
    return _message(_catalog.ngettext(singular, plural, count), english)


def N_(message: str) -> str:
    """Mark `message` for the catalog without translating it now (translated where shown)."""
    return message
