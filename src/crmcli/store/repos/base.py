"""What every repository shares: get by id, insert, update and delete one row with its derived
keys and its journal entry, id-or-name resolution, and find-by-name."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from crmcli.domain.tags import tag_key
from crmcli.domain.values import normalise_name, parse_reference
from crmcli.errors import Ambiguous, Duplicate, NotFound, ValidationError
from crmcli.i18n import N_, _
from crmcli.store.schema import derived_keys, from_row, record_loader, row_loader, to_row
from crmcli.store.sql import MAX_ID_64, Conn, IntegrityProblem, escape_like, in_list

if TYPE_CHECKING:
    from crmcli.store.uow import UnitOfWork

R = TypeVar("R", bound=Hashable)

BATCH = 500
"""How many ids one statement of a bulk read or update lists (well within SQLite's and
PostgreSQL's limits on parameters)."""

MAX_CANDIDATES = 8
"""How many records an ambiguous name lists."""

_NOT_FOUND = {
    "lead": N_("no lead with id {id}"),
    "account": N_("no account with id {id}"),
    "contact": N_("no contact with id {id}"),
    "opportunity": N_("no opportunity with id {id}"),
    "activity": N_("no activity with id {id}"),
    "stage": N_("no stage with id {id}"),
    "history row": N_("no history row with id {id}"),
    "stage history row": N_("no stage history row with id {id}"),
}
"""The message of a missing record, per `Repository.kind` (its noun's gender varies)."""

_AMBIGUOUS = {
    "lead": N_('lead "{name}" is ambiguous: {candidates} (use the id)'),
    "account": N_('account "{name}" is ambiguous: {candidates} (use the id)'),
    "contact": N_('contact "{name}" is ambiguous: {candidates} (use the id)'),
    "opportunity": N_('opportunity "{name}" is ambiguous: {candidates} (use the id)'),
    "activity": N_('activity "{name}" is ambiguous: {candidates} (use the id)'),
    "stage": N_('stage "{name}" is ambiguous: {candidates} (use the id)'),
}
"""The message of a name several records match, per `Repository.kind`."""


def _not_found(kind: str, row_id: int) -> NotFound:
    template = _NOT_FOUND.get(kind)
    if template is None:
        return NotFound(f"no {kind} with id {row_id}")
    return NotFound(_(template).format(id=row_id))


PENDING_DEALS = (
    "(SELECT DISTINCT pending.opportunity_id AS id FROM activity AS pending"
    " WHERE pending.done = :no) AS pending"
)
"""The deals with a pending activity (`:no` is False), read from the activities: few, and
put first (`… CROSS JOIN opportunity`, which SQLite keeps in that order) so the deals are
found by primary key rather than every open deal checked against them."""


class Repository:
    """The reads and writes of one table, inside one unit of work."""

    table: str = ""
    kind: str = ""
    """The record's name in messages ("no lead with id 3")."""
    entity: str = ""
    """The record's name in the journal (`lead account contact opportunity activity stage`)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.conn: Conn = uow.conn
        self.dialect = uow.conn.dialect

    # -- reading ------------------------------------------------------------------------------

    def check_id(self, row_id: int) -> None:
        """NotFound for an id no row can have on this backend (PostgreSQL's INTEGER ids stop at
        2**31 - 1), so both backends answer "no … with id N" alike; OverflowError beyond 64
        bits, as SQLite's driver raises (the CLI's one "too large" line)."""
        if row_id > MAX_ID_64:
            raise OverflowError(f"{self.kind} id {row_id} is too large")
        if row_id > self.dialect.max_id:
            raise _not_found(self.kind, row_id)

    def missing(self, row_id: int) -> NotFound:
        """The NotFound of an id no record of this table has (`no lead with id 3`)."""
        return _not_found(self.kind, row_id)

    def _select(self) -> str:
        return f"SELECT * FROM {self.table}"

    def _row(self, row_id: int, *, lock: bool = False) -> dict[str, Any]:
        """The row with this id in domain form, or NotFound; `lock` takes its row lock."""
        self.check_id(row_id)
        suffix = self.dialect.for_update(self.table) if lock else ""
        sql = f"{self._select()} WHERE {self.table}.id = :id{suffix}"
        row = self.conn.one(sql, {"id": row_id})
        if row is None:
            raise _not_found(self.kind, row_id)
        return from_row(self.table, row)

    def _rows(
        self, where: str = "", params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        sql = self._select() + (f" {where}" if where else "")
        names, rows = self.conn.result(sql, params)
        load = row_loader(self.table, names)
        return [load(r) for r in rows]

    def _records(
        self,
        cls: type[R],
        conditions: list[str],
        params: Mapping[str, Any],
        rest: str,
        *,
        sources: tuple[tuple[str, str], ...] = (),
        converters: tuple[tuple[str, Callable[[Any], Any]], ...] = (),
    ) -> list[R]:
        """`_filtered`'s rows as records of `cls`, each built straight from its result tuple
        (`record_loader`): what lists of thousands use."""
        return list(self._each_record(cls, conditions, params, rest, sources, converters))

    def _each_record(
        self,
        cls: type[R],
        conditions: list[str],
        params: Mapping[str, Any],
        rest: str,
        sources: tuple[tuple[str, str], ...] = (),
        converters: tuple[tuple[str, Callable[[Any], Any]], ...] = (),
    ) -> Iterator[R]:
        """`_records`, one at a time as the rows are read: for a list written to a pipe,
        whatever its length."""
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        names, rows = self.conn.stream(f"{self._select()} {where}{rest}", params)
        load = record_loader(self.table, names, cls, sources, converters)
        return map(load, rows)

    def _tagged(
        self, tags: Sequence[str], params: dict[str, Any], column: str = "tags_key"
    ) -> list[str]:
        """The conditions of a `--tag` filter: rows with every one of `tags` (by key)."""
        conditions = []
        for n, tag in enumerate(tags):
            params[f"tag{n}"] = tag_key(tag)
            conditions.append(self.dialect.contains(column, f"tag{n}"))
        return conditions

    def _filtered(
        self, conditions: list[str], params: Mapping[str, Any], rest: str
    ) -> list[dict[str, Any]]:
        """The rows meeting every condition (none: all rows), then `rest` (ORDER BY …)."""
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        return self._rows(where + rest, params)

    def _rows_by_id(self, ids: Sequence[int], *, lock: bool = False) -> dict[int, dict[str, Any]]:
        """The rows with these ids in domain form, by id (an id no row has is left out): one
        query per `BATCH` ids, whatever their number; `lock` takes their row locks. An id
        beyond 64 bits is an OverflowError, as in `check_id`."""
        found: dict[int, dict[str, Any]] = {}
        wanted = []
        for row_id in dict.fromkeys(ids):
            if row_id > MAX_ID_64:
                raise OverflowError(f"{self.kind} id {row_id} is too large")
            if row_id <= self.dialect.max_id:
                wanted.append(row_id)
        suffix = self.dialect.for_update(self.table) if lock else ""
        for start in range(0, len(wanted), BATCH):
            params: dict[str, Any] = {}
            listed = in_list("i", wanted[start : start + BATCH], params)
            for row in self._rows(f"WHERE {self.table}.id IN ({listed}){suffix}", params):
                found[int(row["id"])] = row
        return found

    def _stored_many(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The rows as stored (storage forms), by id: `_stored` for many, batched."""
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), BATCH):
            params: dict[str, Any] = {}
            listed = in_list("i", ids[start : start + BATCH], params)
            names, rows = self.conn.result(
                f"SELECT * FROM {self.table} WHERE id IN ({listed})", params
            )
            for row in rows:
                stored = dict(zip(names, row, strict=True))
                found[int(stored["id"])] = stored
        return found

    def _stored(self, row_id: int) -> dict[str, Any]:
        """The row as stored (storage forms), for the journal's before-values."""
        row = self.conn.one(f"SELECT * FROM {self.table} WHERE id = :id", {"id": row_id})
        return dict(row) if row else {}

    def _resolve(
        self, ref: str, *, exact_only: bool = False, extra_key: str | None = None
    ) -> dict[str, Any] | None:
        """The row an id or unambiguous name refers to; None when nothing matches the name.

        An empty or blank `ref` is a UsageError (`parse_reference`), never a match.
        """
        parsed = parse_reference(ref, self.kind)
        if isinstance(parsed, int):
            return self._row(parsed)
        key = normalise_name(parsed)
        params: dict[str, Any] = {"key": key}
        where = f"{self.table}.name_key = :key"
        if extra_key is not None:
            where += f" OR {self.table}.{extra_key} = :extra"
            params["extra"] = parsed.lower()
        rows = self._rows(f"WHERE {where}", params)
        if not rows and not exact_only:
            params = {"pattern": escape_like(key) + "%", "n": MAX_CANDIDATES + 1}
            rows = self._rows(
                f"WHERE {self.table}.name_key LIKE :pattern ESCAPE '\\' "
                f"ORDER BY {self.table}.id LIMIT :n",
                params,
            )
        if len(rows) > 1:
            listed = "; ".join(f"{r['id']} {r['name']}" for r in rows[:MAX_CANDIDATES])
            template = _AMBIGUOUS.get(self.kind)
            if template is None:
                raise Ambiguous(f'{self.kind} "{parsed}" is ambiguous: {listed} (use the id)')
            raise Ambiguous(_(template).format(name=parsed, candidates=listed))
        return rows[0] if rows else None

    def _by_name(self, name: str) -> dict[str, Any] | None:
        """The row whose name has `name`'s matching key (`normalise_name`), if any.

        For names taken from data (a lead's company, a cell of an imported file, the new name of
        a rename), never for what a user typed as a reference: all-digit text here is a name
        (a company called `1`, `2024` or `3M`), not an id. See docs/design.md, "References vs
        names".
        """
        key = normalise_name(name)
        if not key:
            return None
        found = self._rows(
            f"WHERE {self.table}.name_key = :key ORDER BY {self.table}.id LIMIT 1", {"key": key}
        )
        return found[0] if found else None

    # -- writing ------------------------------------------------------------------------------

    def _refused(self, problem: IntegrityProblem) -> Exception:
        if problem.unique:
            return Duplicate(
                _("{table} would duplicate an existing one: {problem}").format(
                    table=self.table, problem=problem
                )
            )
        return ValidationError(
            _("{table} refused by the database: {problem}").format(
                table=self.table, problem=problem
            )
        )

    def _prepared(self, values: Mapping[str, Any]) -> dict[str, Any]:
        row = dict(values)
        row.update(derived_keys(self.table, row))
        return to_row(self.dialect, self.table, row)

    def _insert_row(self, row: Mapping[str, Any]) -> int:
        columns = list(row)
        sql = (
            f"INSERT INTO {self.table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})"
        )
        try:
            new_id = self.conn.insert(sql, row)
        except IntegrityProblem as problem:
            raise self._refused(problem) from None
        self.uow.journal.record(self.entity, new_id, "insert", None, row)
        return new_id

    def _insert(self, values: Mapping[str, Any]) -> int:
        """Store one row (domain values; derived keys added); its new id."""
        return self._insert_row(self._prepared(values))

    def _insert_unless_taken(self, values: Mapping[str, Any], key: str) -> int | None:
        """Insert a row unless one already holds its unique `key` value: the new id, or None.

        PostgreSQL: INSERT … ON CONFLICT (key) DO NOTHING RETURNING id. A concurrent
        transaction inserting the same key makes this one wait for it, then yield without an
        error (an error would abort the whole transaction). SQLite: writers are already one at
        a time (BEGIN IMMEDIATE), so a look-up before a plain insert is exact.
        """
        row = self._prepared(values)
        if self.dialect.serial_writers:
            taken = self.conn.scalar(
                f"SELECT id FROM {self.table} WHERE {key} = :v LIMIT 1", {"v": row[key]}
            )
            return None if taken is not None else self._insert_row(row)
        columns = list(row)
        sql = (
            f"INSERT INTO {self.table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)}) "
            f"ON CONFLICT ({key}) DO NOTHING RETURNING id"
        )
        new_id = self.conn.scalar(sql, row)
        if new_id is None:
            return None
        self.uow.journal.record(self.entity, int(new_id), "insert", None, row)
        return int(new_id)

    def _update(self, row_id: int, values: Mapping[str, Any]) -> None:
        """Write some columns (domain values) of one row, its derived keys kept in step."""
        if not values:
            return
        before = self._stored(row_id)
        current = from_row(self.table, dict(before))
        changes = dict(values)
        changes.update(derived_keys(self.table, changes, current))
        row = to_row(self.dialect, self.table, changes)
        sets = ", ".join(f"{c} = :{c}" for c in row)
        try:
            self.conn.run(f"UPDATE {self.table} SET {sets} WHERE id = :id_", {**row, "id_": row_id})
        except IntegrityProblem as problem:
            raise self._refused(problem) from None
        self.uow.journal.record(self.entity, row_id, "update", {c: before.get(c) for c in row}, row)

    def _update_many(self, ids: Sequence[int], values: Mapping[str, Any]) -> None:
        """`_update` of the same columns of many rows, batched: one read of what they held,
        one UPDATE per group of rows whose derived keys come out the same (usually one),
        and a journal entry per row, as `_update` records it."""
        if not values or not ids:
            return
        befores = self._stored_many(ids)
        groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
        written: dict[int, dict[str, Any]] = {}
        for row_id in ids:
            changes = dict(values)
            changes.update(
                derived_keys(self.table, changes, from_row(self.table, dict(befores[row_id])))
            )
            row = to_row(self.dialect, self.table, changes)
            written[row_id] = row
            groups.setdefault(repr(sorted(row.items())), (row, []))[1].append(row_id)
        for row, group in groups.values():
            sets = ", ".join(f"{c} = :{c}" for c in row)
            for start in range(0, len(group), BATCH):
                params: dict[str, Any] = dict(row)
                listed = in_list("upd_id_", group[start : start + BATCH], params)
                try:
                    self.conn.run(f"UPDATE {self.table} SET {sets} WHERE id IN ({listed})", params)
                except IntegrityProblem as problem:
                    raise self._refused(problem) from None
        for row_id in ids:
            row = written[row_id]
            before = befores[row_id]
            self.uow.journal.record(
                self.entity, row_id, "update", {c: before.get(c) for c in row}, row
            )

    def _delete(self, row_id: int) -> None:
        """Remove one row for good (its before-values kept in the journal)."""
        before = self._stored(row_id)
        self.conn.run(f"DELETE FROM {self.table} WHERE id = :id", {"id": row_id})
        if before:
            self.uow.journal.record(self.entity, row_id, "delete", before, None)
