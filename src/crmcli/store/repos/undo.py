"""Undo: one change set walked back in reverse, recorded as a change set of its own.

Each recorded change is reversed in the opposite order it happened: an insert is deleted
(a bulk run of ids at once), an update gets its before-values back, a delete is inserted
again with its id and every stored value. Refused, before anything is written or with all
of it rolled back: a change set already undone, or itself an undo; a later change set (not
undone) that touched one of the same records; a record the undo would delete that something
else refers to now. See docs/design.md, "Undo".
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmcli.errors import NotFound, ValidationError
from crmcli.i18n import N_, _
from crmcli.store.repos.journal import ENTITY_TABLES, REFERENCES
from crmcli.store.schema import COLUMNS, load_value, to_row
from crmcli.store.sql import IntegrityProblem, in_list

if TYPE_CHECKING:
    from crmcli.store.uow import UnitOfWork


@dataclass(frozen=True)
class Target:
    """The change set an undo reverts."""

    id: int
    command: str
    actor: str | None
    at: Any


@dataclass(frozen=True)
class _Change:
    """One recorded change; its values kept as the journal's JSON text (decoded only when a
    reversal needs them: the before-values of an update or a delete)."""

    entity: str
    op: str
    first: int
    last: int
    before_text: str | None
    after_text: str | None

    def before(self) -> dict[str, Any]:
        assert self.before_text is not None, f"{self.op} of {self.entity} without values"
        return dict(json.loads(self.before_text))


class UndoRepository:
    """Reverting change sets, inside one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.conn = uow.conn

    # -- what to undo -------------------------------------------------------------------------

    def target(self, set_id: int | None) -> Target:
        """The change set to undo: `set_id`, or the newest that is neither undone nor an undo.
        NotFound or ValidationError when it cannot be undone at all."""
        conn = self.conn
        if set_id is None:
            found = conn.scalar(
                "SELECT cs.id FROM change_set AS cs WHERE cs.undone_by IS NULL AND NOT EXISTS"
                " (SELECT 1 FROM change_set AS u WHERE u.undone_by = cs.id)"
                " ORDER BY cs.id DESC LIMIT 1"
            )
            if found is None:
                raise NotFound(_("nothing to undo: no change recorded that is not undone already"))
            set_id = int(found)
        head = conn.one(
            "SELECT id, at, actor, command, undone_by FROM change_set WHERE id = :id",
            {"id": set_id},
        )
        if head is None:
            raise NotFound(_("no change set with id {id}").format(id=set_id))
        if head["undone_by"] is not None:
            raise ValidationError(
                _("change set {id} was already undone by change set {by}").format(
                    id=set_id, by=head["undone_by"]
                )
            )
        undid = conn.scalar("SELECT id FROM change_set WHERE undone_by = :id", {"id": set_id})
        if undid is not None:
            raise ValidationError(
                _(
                    "change set {id} is itself the undo of change set {undid}: it cannot be"
                    " undone (run the command again instead)"
                ).format(id=set_id, undid=undid)
            )
        return Target(
            id=set_id,
            command=head["command"],
            actor=head["actor"],
            at=load_value("ts", head["at"]),
        )

    def _changes(self, set_id: int) -> list[_Change]:
        rows = self.conn.rows(
            "SELECT entity, op, record_id, last_id, before_values, after_values FROM change"
            " WHERE change_set_id = :s ORDER BY id",
            {"s": set_id},
        )
        return [
            _Change(
                entity=str(entity),
                op=str(op),
                first=int(first),
                last=int(last if last is not None else first),
                before_text=before,
                after_text=after,
            )
            for entity, op, first, last, before, after in rows
        ]

    def check_later(self, target: Target, changes: Sequence[_Change] | None = None) -> None:
        """ValidationError naming the first later change set (neither undone nor an undo)
        that touched one of the records `target` changed (`changes`: its changes, if read).

        Set-based: the records of `target` become sorted, merged id intervals per entity, the
        later changes of those entities are read in one query (by change set, through its
        index), and each is looked up among the intervals by bisection. A join of the two
        sides in SQL would walk the record index once per change of `target`, quadratic in
        an undo of many one-record changes (an import with --on-duplicate update)."""
        mine = _intervals(self._changes(target.id) if changes is None else changes)
        if not mine:
            return
        conn = self.conn
        live = {
            int(i)
            for (i,) in conn.rows(
                "SELECT id FROM change_set WHERE id > :s AND undone_by IS NULL AND id NOT IN"
                " (SELECT undone_by FROM change_set WHERE undone_by IS NOT NULL)",
                {"s": target.id},
            )
        }
        if not live:
            return
        marks: dict[str, Any] = {"s": target.id}
        entities = in_list("e", sorted(mine), marks)
        for set_id, entity, first, last in conn.rows(
            "SELECT change_set_id, entity, record_id, COALESCE(last_id, record_id) FROM change"
            f" WHERE change_set_id > :s AND entity IN ({entities}) ORDER BY change_set_id, id",
            marks,
        ):
            if int(set_id) not in live:
                continue
            starts, ends = mine[str(entity)]
            at = bisect_right(starts, int(last)) - 1
            if at < 0 or ends[at] < int(first):
                continue
            record_id = max(int(first), starts[at])
            raise ValidationError(
                _(
                    "change set {id} cannot be undone: change set {later} ({command}) changed"
                    " {record} after it; undo that one first"
                ).format(
                    id=target.id,
                    later=set_id,
                    command=self._command(int(set_id)),
                    record=_named(str(entity), record_id),
                )
            )

    def _command(self, set_id: int) -> str:
        command = self.conn.scalar("SELECT command FROM change_set WHERE id = :id", {"id": set_id})
        return f"crm {command}" if command else _("a command")

    # -- reverting ----------------------------------------------------------------------------

    def revert(self, target: Target) -> None:
        """Reverse every change of `target`, newest first, journaling each reversal; the new
        change set marks `target` undone when it is written.

        A run of inserts of one entity (the id ranges of a bulk import, in any number) is
        removed together: one reference check per referring entity and one DELETE per
        `RANGES_PER_STATEMENT` merged id ranges, never one statement per row."""
        changes = self._changes(target.id)
        self.check_later(target, changes)
        journal = self.uow.journal
        journal.undoes = target.id
        pending = list(reversed(changes))
        at = 0
        while at < len(pending):
            change = pending[at]
            table = ENTITY_TABLES[change.entity]
            if change.op == "insert":
                end = at + 1
                while end < len(pending) and (pending[end].op, pending[end].entity) == (
                    "insert",
                    change.entity,
                ):
                    end += 1
                self._remove_inserted(target, pending[at:end])
                at = end
                continue
            at += 1
            row = self._stored_form(table, change.before())
            if change.op == "update":
                sets = ", ".join(f"{c} = :{c}" for c in row)
                self._guarded(
                    target,
                    change,
                    f"UPDATE {table} SET {sets} WHERE id = :id_",
                    {**row, "id_": change.first},
                )
                journal.record_text(
                    change.entity, change.first, "update", change.after_text, change.before_text
                )
            else:  # delete: put the row back as it was stored, with its id
                columns = list(row)
                self._guarded(
                    target,
                    change,
                    f"INSERT INTO {table} ({', '.join(columns)})"
                    f" VALUES ({', '.join(':' + c for c in columns)})",
                    row,
                )
                journal.record_text(change.entity, change.first, "insert", None, change.before_text)

    def _remove_inserted(self, target: Target, run: Sequence[_Change]) -> None:
        """Delete the records of a run of insert changes of one entity (consecutive in the
        reverse walk), after checking nothing left behind refers to them; journal each."""
        entity = run[0].entity
        merged = _merged((c.first, c.last) for c in run)
        for chunk in _chunks(merged):
            self._check_unreferenced(target, entity, chunk)
        table = ENTITY_TABLES[entity]
        for chunk in _chunks(merged):
            where, params = _id_ranges("id", chunk)
            self.conn.run(f"DELETE FROM {table} WHERE {where}", params)
        journal = self.uow.journal
        for change in run:
            if change.after_text is None:
                journal.record_bulk(entity, "delete", range(change.first, change.last + 1))
            else:
                journal.record_text(entity, change.first, "delete", change.after_text, None)

    def _stored_form(self, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Journaled storage values (JSON text of either backend) as this backend stores them."""
        kinds = COLUMNS[table]
        known = {c: load_value(kinds[c], v) for c, v in values.items() if c in kinds}
        return to_row(self.conn.dialect, table, known)

    def _guarded(
        self, target: Target, change: _Change, sql: str, params: Mapping[str, Any]
    ) -> None:
        try:
            self.conn.run(sql, params)
        except IntegrityProblem as problem:
            raise ValidationError(
                _(
                    "change set {id} cannot be undone: putting back {record} clashes with the"
                    " data now ({problem})"
                ).format(id=target.id, record=_named(change.entity, change.first), problem=problem)
            ) from None

    def _check_unreferenced(
        self, target: Target, entity: str, ranges: Sequence[tuple[int, int]]
    ) -> None:
        """ValidationError when a record in `ranges` (ids of `entity` the undo removes) is
        referred to by something the undo does not remove (it was made or linked later):
        one query per referring entity for all the ranges."""
        for child_entity, column in REFERENCES.get(entity, ()):
            where, params = _id_ranges(column, ranges)
            found = self.conn.rows(
                f"SELECT id, {column} FROM {ENTITY_TABLES[child_entity]} WHERE {where}"
                " ORDER BY id LIMIT 1",
                params,
            )
            if not found:
                continue
            child, parent = found[0]
            by = self.conn.scalar(
                "SELECT MAX(change_set_id) FROM change WHERE entity = :e"
                " AND record_id <= :i AND COALESCE(last_id, record_id) >= :i",
                {"e": child_entity, "i": int(child)},
            )
            if by:
                text = _(
                    "change set {id} cannot be undone: {record}, changed by change set {by}"
                    " ({command}) refers to {parent} it made; undo or delete that first"
                )
            else:
                text = _(
                    "change set {id} cannot be undone: {record} refers to {parent} it made;"
                    " undo or delete that first"
                )
            raise ValidationError(
                text.format(
                    id=target.id,
                    record=_named(child_entity, int(child)),
                    by=by,
                    command=self._command(int(by)) if by else "",
                    parent=_named(entity, int(parent)),
                )
            )


RANGES_PER_STATEMENT = 400
"""How many id ranges one DELETE or reference check names (two parameters each: within
SQLite's and PostgreSQL's limits, and short enough to plan quickly)."""


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, overlapping or adjacent id ranges joined: [(5, 9), (1, 4), (12, 12)] ->
    [(1, 9), (12, 12)]."""
    found: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if found and first <= found[-1][1] + 1:
            found[-1] = (found[-1][0], max(found[-1][1], last))
        else:
            found.append((first, last))
    return found


def _intervals(changes: Iterable[_Change]) -> dict[str, tuple[list[int], list[int]]]:
    """Per entity, the merged id ranges `changes` touched, as (starts, ends) for bisection."""
    by_entity: dict[str, list[tuple[int, int]]] = {}
    for change in changes:
        by_entity.setdefault(change.entity, []).append((change.first, change.last))
    found: dict[str, tuple[list[int], list[int]]] = {}
    for entity, ranges in by_entity.items():
        merged = _merged(ranges)
        found[entity] = ([a for a, _b in merged], [b for _a, b in merged])
    return found


def _chunks(ranges: Sequence[tuple[int, int]]) -> Iterator[Sequence[tuple[int, int]]]:
    for at in range(0, len(ranges), RANGES_PER_STATEMENT):
        yield ranges[at : at + RANGES_PER_STATEMENT]


def _id_ranges(column: str, ranges: Sequence[tuple[int, int]]) -> tuple[str, dict[str, Any]]:
    """`column BETWEEN :a0 AND :b0 OR …` (`= :a0` for a single id), with its parameters."""
    terms: list[str] = []
    params: dict[str, Any] = {}
    for n, (first, last) in enumerate(ranges):
        params[f"a{n}"] = first
        if first == last:
            terms.append(f"{column} = :a{n}")
        else:
            params[f"b{n}"] = last
            terms.append(f"{column} BETWEEN :a{n} AND :b{n}")
    return " OR ".join(terms), params


_NAMED = {
    "lead": N_("lead {id}"),
    "account": N_("account {id}"),
    "contact": N_("contact {id}"),
    "opportunity": N_("opportunity {id}"),
    "activity": N_("activity {id}"),
    "stage": N_("stage {id}"),
    "history": N_("stage history row {id}"),
}
"""A record an undo message names, by the journal's kind of record (translated where said)."""


def _named(entity: str, record_id: int) -> str:
    template = _NAMED.get(entity)
    return f"{entity} {record_id}" if template is None else _(template).format(id=record_id)
