"""SQLModel tables: the schema the latest migration produces (a test keeps them in step).

Money columns hold integer cents (exact in SQL on every backend); `*_key` columns hold the
normalised form of a name, e-mail or phone (`schema.derived_keys`) so comparisons never rely
on SQL's ASCII-only `lower()`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class Money(TypeDecorator[Decimal]):
    """A `Decimal` amount stored as integer cents."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_exact())

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


class MetaRow(SQLModel, table=True):
    """Settings of this database (currency, creation time)."""

    __tablename__ = "crm_meta"
    key: str = Field(primary_key=True)
    value: str


class MigrationRow(SQLModel, table=True):
    """One applied schema migration."""

    __tablename__ = "crm_migrations"
    name: str = Field(primary_key=True)
    applied_at: datetime = Field(sa_type=DateTime)


class AccountRow(SQLModel, table=True):
    __tablename__ = "account"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_key: str = Field(unique=True)
    industry: str | None = None
    website: str | None = None
    phone: str | None = None
    notes: str | None = None
    created_at: datetime = Field(sa_type=DateTime)
    phone_key: str | None = Field(default=None, index=True)
    match_key: str | None = Field(default=None, index=True)
    tags: list[str] | None = Field(default=None, sa_type=JSON)
    tags_key: str | None = None
    search_key: str | None = None


class ContactRow(SQLModel, table=True):
    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_match_key", "match_key", "account_id"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_key: str = Field(index=True)
    email: str | None = None
    email_key: str | None = Field(default=None, unique=True)
    phone: str | None = None
    title: str | None = None
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    type: str = "prospect"
    notes: str | None = None
    created_at: datetime = Field(sa_type=DateTime)
    phone_key: str | None = Field(default=None, index=True)
    match_key: str | None = None
    tags: list[str] | None = Field(default=None, sa_type=JSON)
    tags_key: str | None = None
    search_key: str | None = None


class StageRow(SQLModel, table=True):
    __tablename__ = "stage"
    __table_args__ = (
        CheckConstraint("probability BETWEEN 0 AND 100", name="ck_stage_probability"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_key: str = Field(unique=True)
    position: int
    probability: int
    expected_days: int | None = None


class LeadRow(SQLModel, table=True):
    __tablename__ = "lead"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str | None = None
    email_key: str | None = Field(default=None, unique=True)
    phone: str | None = None
    company: str | None = None
    title: str | None = None
    source: str | None = None
    source_key: str | None = Field(default=None, index=True)
    status: str = Field(default="new", index=True)
    budget: Decimal | None = Field(default=None, sa_type=Money)
    timeline: date | None = None
    owner: str | None = None
    owner_key: str | None = Field(default=None, index=True)
    notes: str | None = None
    extras: dict[str, str] | None = Field(default=None, sa_type=JSON)
    disqualify_reason: str | None = None
    search_key: str
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    account_id: int | None = Field(default=None, foreign_key="account.id")
    opportunity_id: int | None = Field(default=None, foreign_key="opportunity.id")
    created_at: datetime = Field(sa_type=DateTime)
    updated_at: datetime = Field(sa_type=DateTime)
    phone_key: str | None = Field(default=None, index=True)
    match_key: str | None = Field(default=None, index=True)
    tags: list[str] | None = Field(default=None, sa_type=JSON)
    tags_key: str | None = None


class OpportunityRow(SQLModel, table=True):
    __tablename__ = "opportunity"
    __table_args__ = (
        CheckConstraint("probability BETWEEN 0 AND 100", name="ck_opportunity_probability"),
        CheckConstraint("amount >= 0", name="ck_opportunity_amount"),
        Index("ix_opportunity_open_stage", "status", "stage_id", "amount", "probability"),
        Index(
            "ix_opportunity_forecast",
            "status",
            "expected_close",
            "amount",
            "probability",
            "owner_key",
        ),
        Index("ix_opportunity_closed", "status", "closed_at", "amount", "owner_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_key: str = Field(index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    stage_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("stage.id", ondelete="SET NULL"), nullable=True),
    )
    amount: Decimal = Field(sa_type=Money)
    probability: int
    probability_manual: bool = False
    status: str = "open"
    expected_close: date | None = None
    owner: str | None = None
    owner_key: str | None = None
    lost_reason: str | None = None
    competitor: str | None = None
    lead_id: int | None = None
    created_at: datetime = Field(sa_type=DateTime)
    updated_at: datetime = Field(sa_type=DateTime)
    closed_at: datetime | None = Field(default=None, sa_type=DateTime)
    tags: list[str] | None = Field(default=None, sa_type=JSON)
    tags_key: str | None = None
    search_key: str | None = None
    last_activity_at: datetime | None = Field(default=None, sa_type=DateTime)
    """Kept by triggers on `activity` (0010): the latest done_at, else created_at."""


class HistoryRow(SQLModel, table=True):
    """Every stage or status change of an opportunity, with its time."""

    __tablename__ = "opportunity_history"
    __table_args__ = (Index("ix_opportunity_history_opp", "opportunity_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False)
    )
    stage_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("stage.id", ondelete="SET NULL"), nullable=True),
    )
    stage_name: str | None = None
    status: str
    probability: int
    at: datetime = Field(sa_type=DateTime)


class StageStayRow(SQLModel, table=True):
    """A completed stay of a deal in a stage, derived from its history by triggers (0009)."""

    __tablename__ = "stage_stay"
    __table_args__ = (
        Index("ix_stage_stay_stage", "stage_id", "seconds"),
        Index("ix_stage_stay_opportunity", "opportunity_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int
    stage_id: int
    seconds: int = Field(sa_type=BigInteger)


_ONE_LINK = (
    "(CASE WHEN lead_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN account_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN opportunity_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def _cascade(target: str) -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=True),
    )


class ActivityRow(SQLModel, table=True):
    """A call, meeting, e-mail, task or note linked to exactly one record."""

    __tablename__ = "activity"
    __table_args__ = (
        CheckConstraint(_ONE_LINK, name="ck_activity_one_link"),
        Index("ix_activity_done_due", "done", "due"),
        Index("ix_activity_opportunity", "opportunity_id", "done"),
        Index("ix_activity_lead", "lead_id"),
        Index("ix_activity_contact", "contact_id"),
        Index("ix_activity_account", "account_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    type: str
    subject: str
    lead_id: int | None = _cascade("lead.id")
    contact_id: int | None = _cascade("contact.id")
    account_id: int | None = _cascade("account.id")
    opportunity_id: int | None = _cascade("opportunity.id")
    due: datetime | None = Field(default=None, sa_type=DateTime)
    due_has_time: bool = False
    done: bool = False
    done_at: datetime | None = Field(default=None, sa_type=DateTime)
    owner: str | None = None
    owner_key: str | None = None
    notes: str | None = None
    created_at: datetime = Field(sa_type=DateTime)
    updated_at: datetime = Field(sa_type=DateTime)
    search_key: str | None = None
    person_id: int | None = Field(default=None, foreign_key="contact.id", index=True)


class ChangeSetRow(SQLModel, table=True):
    """What one command changed (the journal)."""

    __tablename__ = "change_set"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=DateTime)
    actor: str | None = None
    command: str
    undone_by: int | None = Field(default=None, foreign_key="change_set.id")


class ChangeRow(SQLModel, table=True):
    """One record (or run of ids) a change set touched, with its before/after values."""

    __tablename__ = "change"
    __table_args__ = (Index("ix_change_record", "entity", "record_id"),)
    id: int | None = Field(default=None, primary_key=True)
    change_set_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("change_set.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    entity: str
    op: str
    record_id: int = Field(sa_type=BigInteger)
    last_id: int | None = Field(default=None, sa_type=BigInteger)
    before_values: str | None = None
    after_values: str | None = None
