"""The deletes that take other records along (`account delete`, `contact delete`,
`opp delete`): what else goes or is unlinked, shown before asking; then the delete itself.

Kept light: services are imported by the commands, Removal only for types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crmcli.cli import render
from crmcli.cli.common import confirm, note, say

if TYPE_CHECKING:
    from crmcli.services.accounts import Removal

Remove = Callable[[str, bool, "Removal | None"], "Removal"]
"""A delete use case bound to its database and options: (ref, dry_run, expected) -> Removal."""


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def named(removal: Removal) -> str:
    """The deleted record in a message: `account 3 "Acme"`."""
    return f'{removal.entity} {removal.record.id} "{render.shown(removal.record.name)}"'


def summary(removal: Removal, *, done: bool) -> str:
    """One line: `Deletes account 3 "Acme", 2 contacts, 1 deal (4 history rows), 3 activities;
    unlinks 1 converted lead.` (the preview), or the same with `deleted`/`unlinked` (done)."""
    deleted, unlinked = removal.deleted, removal.unlinked
    history = len(deleted["history"])
    rows = f" ({_count(history, 'history row')})" if history else ""
    parts = [named(removal) + (rows if removal.entity == "opportunity" else "")]
    if deleted["contact"]:
        parts.append(_count(len(deleted["contact"]), "contact"))
    if deleted["opportunity"]:
        parts.append(_count(len(deleted["opportunity"]), "deal") + rows)
    if deleted["activity"]:
        parts.append(_count(len(deleted["activity"]), "activity", "activities"))
    links = []
    if unlinked["opportunity"]:
        links.append(_count(len(unlinked["opportunity"]), "deal"))
    leads, converted = len(unlinked["lead"]), removal.converted_leads
    if leads and converted == leads:
        links.append(_count(leads, "converted lead"))
    elif leads:
        links.append(_count(leads, "lead") + (f" ({converted} converted)" if converted else ""))
    verb, unlinks = ("deleted", "unlinked") if done else ("Deletes", "unlinks")
    text = f"{verb} {', '.join(parts)}"
    if links:
        text += f"; {unlinks} {', '.join(links)}"
    return text if done else text + "."


def removal_json(removal: Removal) -> dict[str, Any]:
    """`{"id", "entity", "deleted": true, "record", "removed": {entity: [ids]},
    "unlinked": {entity: [ids]}}`."""
    return {
        "id": removal.record.id,
        "entity": removal.entity,
        "deleted": True,
        "record": render.jsonable(removal.record),
        "removed": {entity: list(ids) for entity, ids in removal.deleted.items()},
        "unlinked": {entity: list(ids) for entity, ids in removal.unlinked.items()},
    }


def delete_previewed(ref: str, *, yes: bool, as_json: bool, remove: Remove) -> None:
    """Ask on a terminal (off one `--yes` is required), after printing what else goes or is
    unlinked (a dry run of the delete itself); then delete exactly what was shown (the record
    the preview found, refused if anything else would go now) and say what went."""
    previews: list[Removal] = []

    def question() -> str:
        preview = remove(ref, True, None)
        previews.append(preview)
        say(summary(preview, done=False))
        return f"Delete {named(preview)} for good?"

    confirm(yes, "delete", question)
    expected = previews[0] if previews else None
    done = remove(str(expected.record.id) if expected else ref, False, expected)
    if as_json:
        render.print_json(removal_json(done))
    else:
        note(summary(done, done=True))
