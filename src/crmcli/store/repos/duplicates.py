"""Likely duplicates: the records of one kind that share a stored key (`crm duplicates`).

One statement per kind: for each key column (`email_key`, `phone_key`, `match_key`, and for
contacts `match_key` with `account_id`) the keys held more than once (GROUP BY … HAVING
COUNT(*) > 1 over its index), joined back to the records holding them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crmcli.store.uow import UnitOfWork

TABLES = {"lead": "lead", "contact": "contact", "account": "account"}
"""The table of each kind `crm duplicates` looks at."""

_KEYS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "lead": (("email", ("email_key",)), ("phone", ("phone_key",)), ("name", ("match_key",))),
    "contact": (
        ("email", ("email_key",)),
        ("phone", ("phone_key",)),
        ("name", ("match_key", "account_id")),
    ),
    "account": (("phone", ("phone_key",)), ("name", ("match_key",))),
}
"""Per kind: (reason, the key columns records must share). Account names are unique by
`name_key`, and accounts have no e-mail; their `match_key` also ignores legal forms."""


def _shared(table: str, reason: str, columns: tuple[str, ...]) -> str:
    """The SELECT of (reason, key, second key, id, name) of the records sharing `columns`."""
    listed = ", ".join(columns)
    present = " AND ".join(f"{c} IS NOT NULL" for c in columns)
    joined = " AND ".join(f"t.{c} = d.{c}" for c in columns)
    second = f"t.{columns[1]}" if len(columns) > 1 else "CAST(NULL AS INTEGER)"
    return (
        f"SELECT '{reason}' AS reason, t.{columns[0]} AS k, {second} AS k2, t.id, t.name"
        f" FROM {table} t JOIN (SELECT {listed} FROM {table} WHERE {present}"
        f" GROUP BY {listed} HAVING COUNT(*) > 1) d ON {joined}"
    )


class DuplicateQueries:
    """The shared keys of leads, contacts and accounts, read in one transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.conn = uow.conn

    def matches(self, entity: str) -> list[tuple[str, object, int, str]]:
        """(reason, key, id, name) of every `entity` record that shares a key with another;
        the key of a contact's name is (name key, account id)."""
        table = TABLES[entity]
        sql = " UNION ALL ".join(_shared(table, r, c) for r, c in _KEYS[entity])
        return [
            (str(reason), key if second is None else (key, second), int(row_id), str(name))
            for reason, key, second, row_id, name in self.conn.rows(sql)
        ]
