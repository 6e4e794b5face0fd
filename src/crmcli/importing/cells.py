"""The one rule of formula-like cells in crm's CSV: neutralised on the way out, restored on the
way in.

A spreadsheet runs a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula, so crm's CSV output (`cli.render.neutralise`) writes such a cell with a leading
``'`` (which a spreadsheet shows as text and does not display). crm's importers take back what
crm wrote: a cell that is ``'`` followed by one of those characters loses exactly that quote
(`unneutralise`); any other leading ``'`` is data and stays. So that every text comes back
exactly, a text that already is quotes before such a character (``'=x``) gets one more quote on
the way out (``''=x``), and loses only that one on the way in.
Pure standard library (imported by the CLI's renderer: no cost at start-up).
"""

from __future__ import annotations

__all__ = ["FORMULA_STARTS", "QUOTE", "neutralise", "unneutralise"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula."""

QUOTE = "'"
"""What `neutralise` puts before such a cell (and `unneutralise` removes)."""

_PROTECTED = frozenset(FORMULA_STARTS)


def _formula_like(text: str) -> bool:
    """True for a text that starts, after any number of ``'``, with a formula character."""
    if text[:1] == QUOTE:
        text = text.lstrip(QUOTE)
    return text[:1] in _PROTECTED


def neutralise(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula: ``=1+1`` -> ``'=1+1``."""
    if text.startswith(FORMULA_STARTS) or (text[:1] == QUOTE and _formula_like(text)):
        return QUOTE + text
    return text


def unneutralise(text: str) -> str:
    """The text `neutralise` was given: ``'+55 11 …`` -> ``+55 11 …``; ``'abc`` stays.

    ``unneutralise(neutralise(t)) == t`` for every text `t`."""
    if text[:1] == QUOTE and _formula_like(text):
        return text[1:]
    return text
