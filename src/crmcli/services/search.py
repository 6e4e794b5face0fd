"""`crm search`: records of every kind found by words, best first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from crmcli.domain.records import record
from crmcli.domain.search import KINDS, Hit, rank_hit, ranked
from crmcli.domain.tags import search_words
from crmcli.errors import ValidationError
from crmcli.i18n import _

if TYPE_CHECKING:
    from crmcli.store.db import Database


@record
class Found:
    """The best `hits` of a search and how many records matched in all."""

    hits: list[Hit]
    total: int


def search(db: Database, text: str, *, kinds: Sequence[str] = (), limit: int | None = 20) -> Found:
    """Records whose names, e-mails, phones, companies, tags, notes or subjects hold every
    word of `text` (case and accents ignored), best first, at most `limit` (None: all)."""
    words = search_words(text)
    if not words:
        raise ValidationError(_("search: give at least one word to look for"))
    hits: list[Hit] = []
    with db.read() as uow:
        for kind in kinds or KINDS:
            for record_id, fields in uow.search.matches(KINDS[kind], words):
                hits.append(rank_hit(kind, record_id, fields, words))
    best = ranked(hits)
    return Found(best if limit is None else best[:limit], len(hits))
