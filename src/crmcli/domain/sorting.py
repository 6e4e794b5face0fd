"""What each list can be sorted by (`--sort FIELD`): its columns, named as their JSON keys.

The one list of sort fields: the command line offers and checks them (`cli.common.sort_option`),
the repositories say how each is ordered in SQL (a whitelist: no text typed by a user ever
reaches the SQL). Text fields of names sort by their folded key (`values.normalise_name`), a
stage by its place in the pipeline, a status in its life-cycle order; empty values come last
in both directions and equal values keep id order (reversed with `--reverse`).
"""

from __future__ import annotations

SORT_FIELDS: dict[str, tuple[str, ...]] = {
    "lead": (
        "id",
        "name",
        "company",
        "email",
        "status",
        "source",
        "budget",
        "timeline",
        "owner",
        "created_at",
    ),
    "opportunity": (
        "id",
        "name",
        "account",
        "stage",
        "status",
        "amount",
        "probability",
        "close",
        "owner",
        "created_at",
    ),
    "activity": ("id", "due", "type", "subject", "status", "owner", "created_at"),
    "account": ("id", "name", "industry", "created_at"),
    "contact": ("id", "name", "email", "account", "type", "created_at"),
    "stage": ("id", "name", "position", "probability", "expected_days"),
}
"""The fields each list (by entity) can be sorted by, in the order help texts list them."""

SORT_ALIASES: dict[str, dict[str, str]] = {
    "opportunity": {"expected_close": "close", "account_id": "account"},
    "contact": {"account_id": "account"},
    "stage": {"days": "expected_days"},
}
"""Other names of a sort field (the JSON key where it differs from the field's short name)."""

DEFAULT_SORT: dict[str, str] = {
    "lead": "id",
    "opportunity": "id",
    "activity": "due",
    "account": "name",
    "contact": "name",
    "stage": "position",
}
"""The field each list is in when no --sort is given (what --reverse alone reverses)."""


def sort_field(entity: str, text: str) -> str | None:
    """The sort field of `entity`'s list that `text` names (any case, or an alias), or None."""
    word = text.strip().lower()
    if word in SORT_FIELDS[entity]:
        return word
    return SORT_ALIASES.get(entity, {}).get(word)
