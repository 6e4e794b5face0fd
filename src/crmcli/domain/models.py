"""Immutable domain records: leads, accounts, contacts, stages, opportunities.

Field names are the JSON keys of the contract, so rendering needs no mapping. Money is
`Decimal`, dates are `date`, timestamps are naive UTC `datetime`.
"""

from __future__ import annotations

from dataclasses import field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from crmcli.domain.records import record

_Record = TypeVar("_Record")


def restore(cls: type[_Record], fields: dict[str, Any]) -> _Record:
    """A record of `cls` from every one of its fields as stored (already valid): the values are
    set straight into the new instance, as a frozen dataclass's `__init__` would, without its
    per-field `object.__setattr__` (lists build thousands of records)."""
    record = object.__new__(cls)
    record.__dict__.update(fields)
    return record


class LeadStatus(StrEnum):
    """Where a lead is in qualification."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    CONVERTED = "converted"
    ARCHIVED = "archived"


class ContactType(StrEnum):
    """The relationship a contact has with us."""

    CUSTOMER = "customer"
    PROSPECT = "prospect"
    SUPPLIER = "supplier"
    PARTNER = "partner"
    COLLEAGUE = "colleague"
    OTHER = "other"


class OppStatus(StrEnum):
    """Whether a deal is still being worked or closed."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


@record
class Lead:
    """A person or company a conversation has started with.

    Attributes:
        budget: what the buyer can spend, if known.
        timeline: the date by which the buyer means to decide, if known.
        extras: columns of an imported file that matched no field, kept verbatim.
        contact_id, account_id, opportunity_id: what the lead became when converted.
    """

    id: int
    name: str
    status: LeadStatus = LeadStatus.NEW
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    title: str | None = None
    source: str | None = None
    budget: Decimal | None = None
    timeline: date | None = None
    owner: str | None = None
    notes: str | None = None
    extras: dict[str, str] = field(default_factory=dict)
    disqualify_reason: str | None = None
    contact_id: int | None = None
    account_id: int | None = None
    opportunity_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    tags: tuple[str, ...] = ()


@record
class Account:
    """A company we sell to (or buy from, or partner with)."""

    id: int
    name: str
    industry: str | None = None
    website: str | None = None
    phone: str | None = None
    notes: str | None = None
    created_at: datetime | None = None
    tags: tuple[str, ...] = ()


@record
class Contact:
    """A person with an ongoing relationship, usually at an account."""

    id: int
    name: str
    type: ContactType = ContactType.PROSPECT
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    account_id: int | None = None
    notes: str | None = None
    created_at: datetime | None = None
    tags: tuple[str, ...] = ()


@record
class Stage:
    """One step of the company's pipeline.

    Attributes:
        position: 1-based place in the pipeline order.
        probability: the default win probability (0-100) of a deal in this stage.
        expected_days: how long a deal is expected to stay here, if the company says.
    """

    id: int
    name: str
    position: int
    probability: int
    expected_days: int | None = None


@record
class HistoryEntry:
    """One stage or status change of an opportunity, kept with its time."""

    stage: str | None
    status: OppStatus
    probability: int
    at: datetime


@record
class Opportunity:
    """One specific sale to one account.

    Attributes:
        stage: the current stage's name (None only for a closed deal whose stage was removed).
        probability_manual: True when the probability was set by hand, not from the stage.
    """

    id: int
    name: str
    account_id: int
    stage_id: int | None
    stage: str | None
    amount: Decimal = Decimal("0.00")
    probability: int = 0
    probability_manual: bool = False
    status: OppStatus = OppStatus.OPEN
    expected_close: date | None = None
    owner: str | None = None
    contact_id: int | None = None
    lost_reason: str | None = None
    competitor: str | None = None
    lead_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    tags: tuple[str, ...] = ()

    @property
    def probability_source(self) -> str:
        """Where the current probability came from: stage, manual, won or lost."""
        if self.status is OppStatus.WON:
            return "won"
        if self.status is OppStatus.LOST:
            return "lost"
        return "manual" if self.probability_manual else "stage"


class ActivityType(StrEnum):
    """What kind of follow-up an activity is."""

    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"
    TASK = "task"
    NOTE = "note"


@record
class Activity:
    """A call, meeting, e-mail, task or note linked to exactly one lead, contact, account or
    opportunity.

    Attributes:
        due: when it is due (naive local time), if ever; `due_has_time` is False for a date.
        done_at: when it was marked done (naive UTC).
        person_id: the contact an activity on a deal (or account) was with, if named.
    """

    id: int
    type: ActivityType
    subject: str
    lead_id: int | None = None
    contact_id: int | None = None
    account_id: int | None = None
    opportunity_id: int | None = None
    due: datetime | None = None
    due_has_time: bool = False
    done: bool = False
    done_at: datetime | None = None
    owner: str | None = None
    notes: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    person_id: int | None = None


@record
class Party:
    """Whom an activity is for, as the agenda shows it: the record it belongs to (`type` is
    lead, contact, account or opp) and the person to talk to there, with their phone and
    e-mail (a deal's: the contact the activity names, else the deal's contact)."""

    type: str
    id: int
    name: str
    person: str | None = None
    phone: str | None = None
    email: str | None = None


@record
class Change:
    """One record a command changed: `entity` (lead, account, …), its id, and `op`."""

    entity: str
    id: int
    op: str


@record
class ChangeSet:
    """What one command changed, as the journal recorded it."""

    id: int
    at: datetime
    actor: str | None
    command: str
    undone: bool
    changes: tuple[Change, ...]
