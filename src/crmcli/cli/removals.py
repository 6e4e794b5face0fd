"""The deletes that take other records along (`account delete`, `contact delete`,
`opp delete`): what else goes or is unlinked, shown before asking; then the delete itself.

Kept light: services are imported by the commands, Removal only for types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crmcli.cli import render
from crmcli.cli.common import confirm, note, say
from crmcli.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from crmcli.services.accounts import Removal

Remove = Callable[[str, bool, "Removal | None"], "Removal"]
"""A delete use case bound to its database and options: (ref, dry_run, expected) -> Removal."""


RECORDS = {
    "account": N_('account {id} "{name}"'),
    "contact": N_('contact {id} "{name}"'),
    "opportunity": N_('opportunity {id} "{name}"'),
}
"""A deleted record in a message, by entity."""

QUESTIONS = {
    "account": N_('Delete account {id} "{name}" for good?'),
    "contact": N_('Delete contact {id} "{name}" for good?'),
    "opportunity": N_('Delete opportunity {id} "{name}" for good?'),
}
"""The question asked before a delete, by entity."""


def named(removal: Removal, *, question: bool = False) -> str:
    """The deleted record in a message: `account 3 "Acme"`; with `question`, the question
    asked before deleting it: `Delete account 3 "Acme" for good?`."""
    template = (QUESTIONS if question else RECORDS)[removal.entity]
    return _(template).format(id=removal.record.id, name=render.shown(removal.record.name))


def summary(removal: Removal, *, done: bool) -> str:
    """One line: `Deletes account 3 "Acme", 2 contacts, 1 deal (4 history rows), 3 activities;
    unlinks 1 converted lead.` (the preview), or the same with `deleted`/`unlinked` (done)."""
    deleted, unlinked = removal.deleted, removal.unlinked
    history = len(deleted["history"])
    rows = ""
    if history:
        text = ngettext("{count} history row", "{count} history rows", history)
        rows = f" ({text.format(count=history)})"
    parts = [named(removal) + (rows if removal.entity == "opportunity" else "")]
    if deleted["contact"]:
        n = len(deleted["contact"])
        parts.append(ngettext("{count} contact", "{count} contacts", n).format(count=n))
    if deleted["opportunity"]:
        n = len(deleted["opportunity"])
        parts.append(ngettext("{count} deal", "{count} deals", n).format(count=n) + rows)
    if deleted["activity"]:
        n = len(deleted["activity"])
        parts.append(ngettext("{count} activity", "{count} activities", n).format(count=n))
    links = []
    if unlinked["opportunity"]:
        n = len(unlinked["opportunity"])
        links.append(ngettext("{count} deal", "{count} deals", n).format(count=n))
    leads, converted = len(unlinked["lead"]), removal.converted_leads
    if leads and converted == leads:
        text = ngettext("{count} converted lead", "{count} converted leads", leads)
        links.append(text.format(count=leads))
    elif leads:
        text = ngettext("{count} lead", "{count} leads", leads).format(count=leads)
        if converted:
            of = ngettext("{count} converted", "{count} converted", converted)
            text += f" ({of.format(count=converted)})"
        links.append(text)
    records, others = ", ".join(parts), ", ".join(links)
    if done:
        if links:
            return _("deleted {records}; unlinked {others}").format(records=records, others=others)
        return _("deleted {records}").format(records=records)
    if links:
        return _("Deletes {records}; unlinks {others}.").format(records=records, others=others)
    return _("Deletes {records}.").format(records=records)


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
        return named(preview, question=True)

    confirm(yes, "delete", question)
    expected = previews[0] if previews else None
    done = remove(str(expected.record.id) if expected else ref, False, expected)
    if as_json:
        render.print_json(removal_json(done))
    else:
        note(summary(done, done=True))


RemoveMany = Callable[[list[str], bool, "list[Removal] | None"], "list[Removal]"]
"""A bulk delete use case bound to its database: (refs, dry_run, expected) -> Removals."""

MANY_QUESTIONS: dict[str, Callable[[int], str]] = {
    "account": lambda n: ngettext(
        "Delete {count} account for good?", "Delete {count} accounts for good?", n
    ),
    "contact": lambda n: ngettext(
        "Delete {count} contact for good?", "Delete {count} contacts for good?", n
    ),
    "opportunity": lambda n: ngettext(
        "Delete {count} deal for good?", "Delete {count} deals for good?", n
    ),
}
"""The question asked once before deleting several records, by entity."""


def delete_many_previewed(refs: list[str], *, yes: bool, as_json: bool, remove: RemoveMany) -> None:
    """`delete_previewed` of several records at once (`crm opp delete 4 5 6`): the preview
    of each on stderr, one question for all, then one delete of exactly what was shown
    (all or nothing), one line (or JSON object, in a list) each."""
    previews: list[Removal] = []

    def question() -> str:
        previews.extend(remove(refs, True, None))
        for preview in previews:
            say(summary(preview, done=False))
        return MANY_QUESTIONS[previews[0].entity](len(previews)).format(count=len(previews))

    confirm(yes, "delete", question)
    given = [str(p.record.id) for p in previews] if previews else refs
    done = remove(given, False, previews or None)
    if as_json:
        render.print_json([removal_json(d) for d in done])
    else:
        for d in done:
            note(summary(d, done=True))
