"""ORDER BY of the lists from a whitelist: `--sort FIELD` picks one of a repository's own
SQL expressions by name; nothing a user typed is ever put into the SQL.

Every order ends on the table's id (a stable tie-break); `reverse` turns every term round
except the NULL tests, so empty values come last in both directions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crmcli.domain.records import record
from crmcli.store.sql import MAX_ID_64, Dialect


@record
class By:
    """One term of a sort: an SQL expression of the repository's own."""

    expr: str
    null: str | None = None
    """The expression whose NULL rows go last (in both directions); None: never NULL."""
    text: bool = False
    """Compared by code point on every backend (`Dialect.collated`)."""


Sorts = Mapping[str, Sequence[By]]
"""The terms of each sort field (`domain.sorting.SORT_FIELDS`) of one list, before its id."""


def order_by(dialect: Dialect, sorts: Sorts, field: str, *, reverse: bool, tie: str) -> str:
    """`ORDER BY …` for sorting by `field` (a key of `sorts`), then by `tie` (the id column).

    A field that is not in `sorts` is a ValueError (the command line lets none through)."""
    if field not in sorts:
        raise ValueError(f"cannot sort by {field!r}")
    way = " DESC" if reverse else ""
    terms: list[str] = []
    for by in sorts[field]:
        if by.null is not None:
            terms.append(f"{by.null} IS NULL")
        terms.append((dialect.collated(by.expr) if by.text else by.expr) + way)
    terms.append(tie + way)
    return "ORDER BY " + ", ".join(terms)


def case_rank(column: str, values: Sequence[str]) -> str:
    """An expression ranking `column` by the place of its value in `values` (a life-cycle:
    `new, contacted, …`); `values` are the repository's own constants, never a user's."""
    for value in values:
        if not value.replace("_", "").isalnum():
            raise ValueError(f"not a plain word: {value!r}")
    arms = " ".join(f"WHEN '{value}' THEN {rank}" for rank, value in enumerate(values))
    return f"(CASE {column} {arms} ELSE {len(values)} END)"


def limited(rest: str, limit: int | None, params: dict[str, object]) -> str:
    """`rest` (an ORDER BY) with `LIMIT :limit` when a limit is given (its value in `params`;
    beyond 64-bit integers it is every row, on both backends)."""
    if limit is None:
        return rest
    params["limit"] = min(int(limit), MAX_ID_64)
    return f"{rest} LIMIT :limit"
