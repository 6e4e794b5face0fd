"""Likely duplicates: the name keys records are grouped by, and the groups themselves.

Pure Python. The stored keys (`match_key` columns, with `phones.phone_key`) are computed by
these functions; a group is the records sharing a key, with the `crm … merge` command that
would join them. docs/design.md ("Duplicates") states the rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from crmcli.domain.records import record
from crmcli.domain.values import normalise_name
from crmcli.i18n import N_, _

__all__ = [
    "ENTITIES",
    "REASONS",
    "DuplicateGroup",
    "company_key",
    "group_duplicates",
    "lead_match_key",
    "person_key",
]

ENTITIES = ("lead", "contact", "account")
"""The kinds of record `crm duplicates` looks at, in the order it lists them."""

REASONS = ("email", "phone", "name")
"""Why records are grouped, in the order a group lists them: the same e-mail key, the same
phone key, the same name key (with the same company for leads, the same account for
contacts)."""

_SAME_EMAIL = N_("same e-mail")
_SAME_PHONE = N_("same phone")
REASON_TEXT = {
    "lead": {"email": _SAME_EMAIL, "phone": _SAME_PHONE, "name": N_("same name and company")},
    "contact": {"email": _SAME_EMAIL, "phone": _SAME_PHONE, "name": N_("same name and account")},
    "account": {"email": _SAME_EMAIL, "phone": _SAME_PHONE, "name": N_("same name")},
}
"""How a table says each reason (English, translated where shown)."""

_APOSTROPHES = frozenset("'’ʼ`´")

LEGAL_SUFFIXES = frozenset(
    {
        ("ltda",),
        ("limitada",),
        ("s", "a"),
        ("sa",),
        ("me",),
        ("epp",),
        ("eireli",),
        ("mei",),
        ("cia",),
        ("inc",),
        ("incorporated",),
        ("llc",),
        ("l", "l", "c"),
        ("ltd",),
        ("limited",),
        ("co",),
        ("corp",),
        ("corporation",),
        ("plc",),
        ("gmbh",),
        ("ag",),
        ("srl",),
        ("sas",),
        ("sarl",),
        ("bv",),
        ("nv",),
        ("spa",),
    }
)
"""Legal-form words, as tokens of `person_key`, that `company_key` drops from the end of a
company's name (``S.A.``, ``S/A`` and ``S A`` all read as ``s a``)."""

_CONNECTORS = frozenset({"e", "and", "y", "et", "und"})
_LONGEST_SUFFIX = max(len(s) for s in LEGAL_SUFFIXES)
_LAST_WORDS = frozenset(s[-1] for s in LEGAL_SUFFIXES)


class _Folding(dict[int, str]):
    """`str.translate` table of `person_key`, filled in one character at a time: a letter or
    digit without its accents, nothing for an apostrophe or a lone accent, else a space."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch in _APOSTROPHES:
            folded = ""
        else:
            kept = [c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)]
            folded = "".join(c if c.isalnum() else " " for c in kept)
        self[code] = folded
        return folded


_FOLD = _Folding()


def person_key(text: str | None) -> str | None:
    """The key names are compared by for duplicates: `normalise_name`, then without accents
    (``João`` reads ``joao``), apostrophes (``D'Ávila`` reads ``davila``) and other punctuation
    (a space); None when nothing is left."""
    if not text:
        return None
    key = normalise_name(text).translate(_FOLD)
    if not key.isascii():
        key = unicodedata.normalize("NFC", key)
    return " ".join(key.split()) or None


@lru_cache(maxsize=4096)  # an import names the same companies again and again
def company_key(text: str | None) -> str | None:
    """A company's `person_key` without legal-form words at its end (`LEGAL_SUFFIXES`):
    ``Construtora Horizonte Ltda`` and ``CONSTRUTORA HORIZONTE S/A`` both read
    ``construtora horizonte``. A name made only of such words keeps them."""
    key = person_key(text)
    if key is None:
        return None
    words = key.split()
    if words[-1] not in _LAST_WORDS:
        return key
    stripped = True
    while stripped:
        stripped = False
        for size in range(min(_LONGEST_SUFFIX, len(words) - 1), 0, -1):
            if tuple(words[-size:]) in LEGAL_SUFFIXES:
                del words[-size:]
                stripped = True
                if len(words) > 1 and words[-1] in _CONNECTORS:
                    del words[-1]  # "Silva e Cia" reads "silva"
                break
    return " ".join(words)


def lead_match_key(name: str | None, company: str | None) -> str | None:
    """A lead's name-and-company key; None without a company (a name alone says too little)."""
    company = company_key(company)
    name = person_key(name)
    if company is None or name is None:
        return None
    return f"{name}\x1f{company}"


@record
class DuplicateGroup:
    """Records of one kind that are likely the same, oldest first, and why."""

    entity: str
    ids: tuple[int, ...]
    reasons: tuple[str, ...]
    names: tuple[str, ...]
    """The records' names, in the order of `ids`."""

    @property
    def keep(self) -> int:
        """The record a merge keeps: the oldest (lowest id)."""
        return self.ids[0]

    @property
    def reason(self) -> str:
        """The reasons as one text: ``email, phone``."""
        return ", ".join(self.reasons)

    @property
    def merge(self) -> str:
        """The command that would join the group: ``crm lead merge KEEP OTHER…``."""
        return f"crm {self.entity} merge {' '.join(str(i) for i in self.ids)}"

    def reason_text(self) -> str:
        """The reasons in words, for a table: ``same e-mail; same phone`` (in the interface
        language)."""
        return "; ".join(_(REASON_TEXT[self.entity][r]) for r in self.reasons)


def group_duplicates(
    entity: str, matches: Iterable[tuple[str, object, int, str]]
) -> list[DuplicateGroup]:
    """The groups of `entity` from (reason, key, id, name) rows: the records sharing one key
    of one reason are a group; groups of the same records are one group listing each reason
    once. Groups come in order of their ids; a key held by one record makes no group."""
    by_key: dict[tuple[str, object], set[int]] = {}
    names: dict[int, str] = {}
    for reason, key, record_id, name in matches:
        by_key.setdefault((reason, key), set()).add(record_id)
        names[record_id] = name
    reasons: dict[tuple[int, ...], set[str]] = {}
    for (reason, _key), ids in by_key.items():
        if len(ids) > 1:
            reasons.setdefault(tuple(sorted(ids)), set()).add(reason)
    return [
        DuplicateGroup(
            entity=entity,
            ids=ids,
            reasons=tuple(r for r in REASONS if r in found),
            names=tuple(names[i] for i in ids),
        )
        for ids, found in sorted(reasons.items())
    ]
