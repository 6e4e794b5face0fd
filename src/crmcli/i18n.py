"""The interface language: English or Brazilian Portuguese, from the environment.

`CRM_LANG` if set (`pt_BR`, `pt`, `en`), else the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that
is set: Portuguese for `pt…`, English otherwise. The messages are English in the code, marked
with `_()` (or `ngettext`, or `N_` where the text is only named and translated later), and
looked up in the compiled catalog `locale/pt_BR/LC_MESSAGES/crmcli.mo`, made from the `.po`
beside it by `scripts/catalogs.py`. The system's locales are never used: it works on a machine
without any installed.

Imports nothing heavy; English costs one comparison.
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
_catalog: dict[str, Any] | None = None


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


def _load(lang: str) -> dict[str, Any] | None:
    if lang == ENGLISH:
        return None
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        return read_mo(path.read_bytes())
    except (OSError, ValueError):  # an installation without the catalog still speaks English
        return None


def read_mo(data: bytes) -> dict[str, Any]:
    """A compiled gettext catalog as a dict: msgid → msgstr, and singular → (forms…) for the
    plurals. The stdlib's `GNUTranslations` reads the same file in 8 ms (it parses every
    header line of every entry); this takes a fraction of one."""
    import struct

    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
    if order is None:
        raise ValueError("not a gettext catalog")
    count, ids_at, strs_at = struct.unpack(f"{order}3I", data[8:20])
    ids = struct.unpack(f"{order}{2 * count}I", data[ids_at : ids_at + 8 * count])
    strs = struct.unpack(f"{order}{2 * count}I", data[strs_at : strs_at + 8 * count])
    catalog: dict[str, Any] = {}
    for index in range(0, 2 * count, 2):
        key = data[ids[index + 1] : ids[index + 1] + ids[index]].decode()
        value = data[strs[index + 1] : strs[index + 1] + strs[index]].decode()
        if not key:
            continue  # the header
        if "\x00" in key:
            catalog[key.partition("\x00")[0]] = tuple(value.split("\x00"))
        else:
            catalog[key] = value
    return catalog


PLURAL_FORM = {PORTUGUESE: lambda n: int(n > 1)}
"""Which plural form a count takes, per language (the `.po` header says the same)."""


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
    if _catalog is None:
        return message
    found = _catalog.get(message)
    return _message(found if isinstance(found, str) else message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """`singular` or `plural`, as `count` needs it, in the interface language."""
    if _language is None:
        language()
    english = singular if count == 1 else plural
    if _catalog is None:
        return english
    forms = _catalog.get(singular)
    if not isinstance(forms, tuple):
        return _message(english, english)
    index = PLURAL_FORM.get(language(), lambda n: int(n != 1))(count)
    return _message(forms[min(index, len(forms) - 1)], english)


def N_(message: str) -> str:
    """Mark `message` for the catalog without translating it now (translated where shown)."""
    return message
