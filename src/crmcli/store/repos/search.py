"""The query of `crm search`: rows whose search key holds every word, per searched table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crmcli.domain.tags import SEARCHED
from crmcli.store.schema import tags_of
from crmcli.store.sql import Conn

MAX_MATCHES = 5000
"""The most rows one table gives a search (they are ranked in Python; a search that matches
more is too vague to read anyway, and says so)."""


class SearchQueries:
    """Finding records by their search keys, over one transaction's connection."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.dialect = conn.dialect

    def matches(self, table: str, words: Sequence[str]) -> list[tuple[int, dict[str, Any]]]:
        """(id, SEARCHED fields) of the rows of `table` whose search key contains every one
        of the folded `words`, by id, at most MAX_MATCHES + 1 of them."""
        fields = SEARCHED[table]
        params: dict[str, Any] = {}
        conditions = []
        for n, word in enumerate(words):
            params[f"w{n}"] = word
            conditions.append(self.dialect.contains("search_key", f"w{n}"))
        sql = (
            f"SELECT id, {', '.join(fields)} FROM {table} WHERE {' AND '.join(conditions)}"
            f" ORDER BY id LIMIT {MAX_MATCHES + 1}"
        )
        found = []
        for row in self.conn.rows(sql, params):
            values = dict(zip(fields, row[1:], strict=True))
            if "tags" in values:
                values["tags"] = tags_of(values["tags"])
            found.append((int(row[0]), values))
        return found
