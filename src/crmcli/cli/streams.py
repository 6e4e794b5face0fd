"""The one output encoder: what crm writes when the terminal's encoding cannot hold a character.

Two rules, set up once by `main()` and `machine_stdout()`:

- Text for people (tables, notes, errors) follows the terminal's encoding. A character it cannot
  hold is printed as its closest one-character look-alike (`ã` → `a` under ASCII, `–` → `-`),
  else `?`, so columns stay aligned and a command never fails for a character it could not show.
- JSON and CSV are machine formats: on stdout they are always UTF-8 bytes, whatever the locale,
  exactly the bytes `--output FILE` writes and `crm import` / `lead import` read back. Nothing is
  lost or replaced.

Kept light: nothing here is imported unless output needs it (`codecs` and `io` are loaded anyway).
"""

from __future__ import annotations

import codecs
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

DEGRADE = "crm-degrade"
"""The name of the error handler that prints look-alikes (registered by `set_up`)."""

_LOOK_ALIKES = {
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2026": ".",  # ellipsis: one cell, as on a terminal that has it
    "\u00b7": ".",  # middle dot
    "\u2022": "*",  # bullet
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space
    "\u00df": "s",
    "\u00e6": "a",
    "\u00c6": "A",
    "\u00f8": "o",
    "\u00d8": "O",
    "\u0153": "o",
    "\u0152": "O",
}


def _look_alike(ch: str, encoding: str) -> str:
    """One character `encoding` can hold that reads like `ch`, or "?"."""
    import unicodedata

    candidates = [_LOOK_ALIKES.get(ch, "")]
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    candidates.append(base)
    for candidate in candidates:
        if len(candidate) == 1:
            try:
                candidate.encode(encoding)
            except (UnicodeError, LookupError):
                continue
            return candidate
    return "?"


def _degrade(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(_look_alike(ch, exc.encoding) for ch in text), exc.end


def _is_utf8(encoding: str | None) -> bool:
    try:
        return codecs.lookup(encoding or "").name == "utf-8"
    except LookupError:
        return False


def set_up() -> None:
    """Make stdout and stderr print look-alikes for what their encoding cannot hold.

    Called once by the console entry point before any command runs. A UTF-8 stream is left
    as it is (it can hold every character; its error handler stays Python's).
    """
    codecs.register_error(DEGRADE, _degrade)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and not _is_utf8(stream.encoding):
            stream.reconfigure(errors=DEGRADE)


@contextmanager
def machine_stdout() -> Iterator[TextIO]:
    """stdout for JSON and CSV: UTF-8 whatever the locale, back to the terminal's after."""
    stream = sys.stdout
    if not isinstance(stream, io.TextIOWrapper) or _is_utf8(stream.encoding):
        yield stream
        return
    encoding, errors = stream.encoding, stream.errors
    stream.flush()
    stream.reconfigure(encoding="utf-8", errors="backslashreplace")  # a lone surrogate
    try:
        yield stream
    finally:
        stream.flush()
        stream.reconfigure(encoding=encoding, errors=errors)
