"""Ranking the matches of `crm search`: which record comes first and what part of it to show.

A record matches when every word of the search is in its search key (`tags.search_key`: its
SEARCHED fields folded). The rank, best first: the whole name is the search; then the fields
the words were found in (a name before an e-mail before a note, SEARCHED's order); then how
many words begin a word of the record rather than sit inside one; then the kind of record
(KINDS' order) and its id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmcli.domain.records import record
from crmcli.domain.tags import SEARCHED, field_text
from crmcli.domain.values import normalise_name

KINDS: dict[str, str] = {
    "lead": "lead",
    "contact": "contact",
    "account": "account",
    "opp": "opportunity",
    "activity": "activity",
}
"""The kinds of record `crm search` finds (the names `--type` and JSON use, as the commands
are named: `crm opp show ID`) and their tables, in the order ties are broken."""

SNIPPET_WIDTH = 60
"""The longest snippet, in characters."""


@record
class Hit:
    """One record found: its kind (`KINDS`), id, name, the text around the match, and rank."""

    type: str
    id: int
    name: str
    snippet: str
    rank: tuple[int, ...]


def rank_hit(kind: str, record_id: int, fields: Mapping[str, Any], words: Sequence[str]) -> Hit:
    """The hit of one matching record (`fields`: its SEARCHED values) for the folded `words`."""
    names = SEARCHED[KINDS[kind]]
    texts = [field_text(fields.get(f)) for f in names]
    folded = [normalise_name(t) for t in texts]
    digits = (
        "".join(ch for ch in texts[names.index("phone")] if ch.isdigit())
        if ("phone" in names)
        else ""
    )
    where: list[int] = []
    inside = 0
    for word in words:
        found = next((i for i, text in enumerate(folded) if word in text), None)
        if found is None and digits and word in digits:
            found = names.index("phone")
        found = len(names) if found is None else found
        where.append(found)
        if found < len(folded) and not _starts_a_word(folded[found], word):
            inside += 1
    exact = 0 if folded[0] == " ".join(words) else 1
    order = list(KINDS).index(kind)
    best_other = min((i for i in where if i > 0), default=None)
    snippet = _excerpt(texts[best_other], folded[best_other], words) if best_other else ""
    if best_other is None:
        snippet = next((t for t in texts[1:] if t), "")
    return Hit(
        kind,
        record_id,
        texts[0],
        _shortened(snippet),
        (exact, sum(where), inside, order, record_id),
    )


def _starts_a_word(text: str, word: str) -> bool:
    at = text.find(word)
    while at >= 0:
        if at == 0 or not text[at - 1].isalnum():
            return True
        at = text.find(word, at + 1)
    return False


def _excerpt(text: str, folded: str, words: Sequence[str]) -> str:
    """The part of `text` around the first word found in it (by position in its folded form,
    when folding kept the length; else from the start)."""
    if len(folded) != len(text) or len(text) <= SNIPPET_WIDTH:
        return text
    at = min((folded.find(w) for w in words if w in folded), default=0)
    start = max(0, min(at - SNIPPET_WIDTH // 3, len(text) - SNIPPET_WIDTH))
    excerpt = text[start : start + SNIPPET_WIDTH]
    return (
        ("…" if start else "")
        + excerpt.strip()
        + ("…" if start + SNIPPET_WIDTH < len(text) else "")
    )


def _shortened(text: str) -> str:
    """One line of at most SNIPPET_WIDTH (+ ellipses) characters."""
    line = " ".join(text.split())
    if len(line) <= SNIPPET_WIDTH + 2:
        return line
    return line[: SNIPPET_WIDTH - 1] + "…"


def ranked(hits: Sequence[Hit]) -> list[Hit]:
    """`hits`, best first."""
    return sorted(hits, key=lambda h: h.rank)
