"""SQLModel tables. Every row of product data carries `tenant_id`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores UTC; gives back aware datetimes on SQLite too (it forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> Any:
        """On SQLite, what SQLAlchemy's processor and `process_result_value` give, in one
        parse: SQLite keeps the text SQLAlchemy wrote ("2026-12-07 14:11:52.171056", UTC),
        which reads as an aware UTC datetime with its offset added (0.15 µs in all), where the
        two steps took 0.76 (`datetime.replace` alone 0.49): two of them a ticket, twenty a
        list. Text that is not such a time (a date, a time with an offset of its own) goes the
        two steps."""
        steps = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or steps is None:
            return steps
        two_steps = steps

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            try:
                parsed = datetime.fromisoformat(value + "+00:00")
            except (TypeError, ValueError):
                parsed = None
            # "2026-12-07+00:00" reads as midnight, naive: "+" taken for the date's separator.
            if parsed is not None and parsed.tzinfo is UTC:
                return parsed
            return two_steps(value)

        return process


def ts(nullable: bool = False) -> datetime:
    return Field(sa_type=UTCDateTime, nullable=nullable)  # type: ignore[no-any-return]


class Tenant(SQLModel, table=True):
    __tablename__ = "tenants"
    id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = ts()
    # The language of what the bot posts on its own into channels and group chats ("de",
    # "en"); None: the language of the turn that caused it.
    language: str | None = Field(default=None, max_length=8)


class TenantCounter(SQLModel, table=True):
    """Per-tenant sequences (ticket numbers), advanced by one atomic upsert."""

    __tablename__ = "tenant_counters"
    tenant_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(primary_key=True, max_length=32)
    value: int = 0


class UserAccount(SQLModel, table=True):
    __tablename__ = "users"
    # The users with a role (`UserRepository.with_roles`: a tenant's agents and admins), and
    # by name (`everyone`).
    __table_args__ = (
        sa.Index("ix_users_tenant_role_name", "tenant_id", "role", "name"),
        sa.Index("ix_users_tenant_name", "tenant_id", "name", "id"),
    )
    tenant_id: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=200)  # Teams user id (29:...)
    aad_object_id: str | None = Field(default=None, max_length=64, index=True)
    name: str = Field(default="", max_length=200)
    role: str = Field(max_length=16)
    # The language of the user's last message: what the bot sends them later is in it.
    locale: str | None = Field(default=None, max_length=20)
    created_at: datetime = ts()


class ConversationRef(SQLModel, table=True):
    """Where the bot is installed; what proactive messages use. The tenant is stored beside the
    reference because botbuilder drops it when a ConversationReference is serialized."""

    __tablename__ = "conversations"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "conversation_id"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64, index=True)
    conversation_id: str = Field(max_length=400)
    conversation_type: str = Field(max_length=20)  # personal | channel | groupChat
    team_id: str | None = Field(default=None, max_length=400)
    channel_id: str | None = Field(default=None, max_length=400)
    user_id: str | None = Field(default=None, max_length=200)  # the user of a personal chat
    service_url: str = Field(max_length=400)
    reference: str = Field(sa_type=sa.Text)  # ConversationReference as JSON
    active: bool = True
    created_at: datetime = ts()
    updated_at: datetime = ts()


class ProcessedActivity(SQLModel, table=True):
    """Activity ids already handled: Teams may deliver the same activity twice. On SQLite the
    rows are their primary key's b-tree (WITHOUT ROWID, migration 0016): a claim writes one."""

    __tablename__ = "processed_activities"
    __table_args__ = {"sqlite_with_rowid": False}
    tenant_id: str = Field(primary_key=True, max_length=64)
    activity_id: str = Field(primary_key=True, max_length=200)
    processed_at: datetime = ts()


class TicketRow(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.Index("ix_tickets_tenant_updated", "tenant_id", "updated_at"),
        sa.Index("ix_tickets_tenant_requester_updated", "tenant_id", "requester_id", "updated_at"),
        sa.Index("ix_tickets_tenant_assignee_updated", "tenant_id", "assignee_id", "updated_at"),
        # Only the tickets with a due date (migration 0017): a person's reminders.
        sa.Index(
            "ix_tickets_tenant_assignee_due",
            "tenant_id",
            "assignee_id",
            "due",
            sqlite_where=sa.text("due IS NOT NULL"),
            postgresql_where=sa.text("due IS NOT NULL"),
        ),
        # The help desk's open and closed queues, counted (migration 0014).
        sa.Index("ix_tickets_tenant_status", "tenant_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    number: int
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    priority: str = Field(max_length=16)
    category: str = Field(default="", max_length=60)
    status: str = Field(max_length=16)
    requester_id: str = Field(max_length=200)
    requester_name: str = Field(default="", max_length=200)
    assignee_id: str | None = Field(default=None, max_length=200)
    assignee_name: str | None = Field(default=None, max_length=200)
    due: date | None = None
    conversation_id: str | None = Field(default=None, max_length=400)
    created_at: datetime = ts()
    updated_at: datetime = ts()


class ChecklistTemplateRow(SQLModel, table=True):
    """A checklist template: its items as JSON ([{"text": ..., "required": ...}]), copied into
    each checklist started from it, so editing a template never changes a running checklist."""

    __tablename__ = "checklist_templates"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.Index("ix_checklist_templates_tenant_title", "tenant_id", "archived", "title"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    number: int
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    items: str = Field(sa_type=sa.Text)
    archived: bool = False
    author_id: str = Field(max_length=200)
    author_name: str = Field(default="", max_length=200)
    created_at: datetime = ts()
    updated_at: datetime = ts()


class ChecklistRow(SQLModel, table=True):
    __tablename__ = "checklists"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.Index("ix_checklists_tenant_updated", "tenant_id", "updated_at"),
        sa.Index("ix_checklists_tenant_assignee_due", "tenant_id", "assignee_id", "due"),
        # The open, overdue and review queues, counted (migration 0015).
        sa.Index("ix_checklists_tenant_status_due", "tenant_id", "status", "due"),
        # A person's list, one walk per role (migration 0018, `person_page`).
        sa.Index("ix_checklists_tenant_starter_updated", "tenant_id", "starter_id", "updated_at"),
        sa.Index("ix_checklists_tenant_assignee_updated", "tenant_id", "assignee_id", "updated_at"),
        sa.Index("ix_checklists_tenant_reviewer_updated", "tenant_id", "reviewer_id", "updated_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    number: int
    title: str = Field(max_length=200)
    template_number: int | None = None
    status: str = Field(max_length=16)
    starter_id: str = Field(max_length=200)
    starter_name: str = Field(default="", max_length=200)
    assignee_id: str | None = Field(default=None, max_length=200)
    assignee_name: str | None = Field(default=None, max_length=200)
    reviewer_id: str | None = Field(default=None, max_length=200)
    reviewer_name: str | None = Field(default=None, max_length=200)
    due: date | None = None
    conversation_id: str | None = Field(default=None, max_length=400)
    created_at: datetime = ts()
    updated_at: datetime = ts()


class ChecklistItemRow(SQLModel, table=True):
    __tablename__ = "checklist_items"
    __table_args__ = (sa.UniqueConstraint("checklist_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    checklist_id: int = Field(foreign_key="checklists.id")
    position: int
    text: str = Field(max_length=300)
    required: bool = False
    checked_by_id: str | None = Field(default=None, max_length=200)
    checked_by_name: str | None = Field(default=None, max_length=200)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    note: str = Field(default="", max_length=300)


class ReminderRow(SQLModel, table=True):
    """A reminder digest already sent: each person once per (UTC) day."""

    __tablename__ = "reminders"
    tenant_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    created_at: datetime = ts()


class AccountRow(SQLModel, table=True):
    """A customer company of the CRM; `name_key` is the name as names are compared."""

    __tablename__ = "crm_accounts"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.UniqueConstraint("tenant_id", "name_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    number: int
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    domain: str = Field(default="", max_length=253)
    notes: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = ts()
    updated_at: datetime = ts()


class ContactRow(SQLModel, table=True):
    __tablename__ = "crm_contacts"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.Index("ix_crm_contacts_tenant_name", "tenant_id", "name_key"),
        sa.Index("ix_crm_contacts_tenant_account", "tenant_id", "account_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    number: int
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=40)
    job_role: str = Field(default="", max_length=100)
    account_id: int | None = Field(default=None, foreign_key="crm_accounts.id")
    created_at: datetime = ts()
    updated_at: datetime = ts()


class OpportunityRow(SQLModel, table=True):
    """A deal. `own_probability` is the one a user set (None: the stage's default);
    `last_open_stage` is where reopening goes back to."""

    __tablename__ = "crm_opportunities"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.Index("ix_crm_opportunities_tenant_updated", "tenant_id", "updated_at"),
        sa.Index("ix_crm_opportunities_tenant_owner", "tenant_id", "owner_id", "updated_at"),
        sa.Index("ix_crm_opportunities_tenant_stage", "tenant_id", "stage", "updated_at"),
        sa.Index("ix_crm_opportunities_tenant_account", "tenant_id", "account_id"),
        sa.Index("ix_crm_opportunities_tenant_contact", "tenant_id", "contact_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    number: int
    name: str = Field(max_length=200)
    account_id: int | None = Field(default=None, foreign_key="crm_accounts.id")
    contact_id: int | None = Field(default=None, foreign_key="crm_contacts.id")
    amount: Decimal = Field(sa_type=sa.Numeric(14, 2))
    currency: str = Field(max_length=3)
    stage: str = Field(max_length=16)
    own_probability: int | None = None
    last_open_stage: str = Field(max_length=16)
    close_date: date | None = None
    closed_on: date | None = None
    owner_id: str = Field(max_length=200)
    owner_name: str = Field(default="", max_length=200)
    next_step: str = Field(default="", max_length=400)
    lost_reason: str | None = Field(default=None, max_length=400)
    conversation_id: str | None = Field(default=None, max_length=400)
    created_at: datetime = ts()
    updated_at: datetime = ts()


class ItemCommentRow(SQLModel, table=True):
    """A comment on an item of any app (a ticket, a checklist, an opportunity)."""

    __tablename__ = "item_comments"
    __table_args__ = (sa.Index("ix_item_comments_item", "tenant_id", "app", "item_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    app: str = Field(max_length=32)
    item_id: int
    author_id: str = Field(max_length=200)
    author_name: str = Field(default="", max_length=200)
    text: str = Field(sa_type=sa.Text)
    created_at: datetime = ts()


class ItemEventRow(SQLModel, table=True):
    """One line of an item's history: who changed which field from what to what, and when."""

    __tablename__ = "item_events"
    __table_args__ = (sa.Index("ix_item_events_item", "tenant_id", "app", "item_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    app: str = Field(max_length=32)
    item_id: int
    actor_id: str = Field(max_length=200)
    actor_name: str = Field(default="", max_length=200)
    field: str = Field(max_length=32)
    old: str | None = Field(default=None, max_length=400)
    new: str | None = Field(default=None, max_length=400)
    created_at: datetime = ts()


class SubscriptionRow(SQLModel, table=True):
    """One subscription per tenant. A tenant that never bought anything is on free."""

    __tablename__ = "subscriptions"
    tenant_id: str = Field(primary_key=True, max_length=64)
    plan_id: str = Field(max_length=64)
    term: str = Field(max_length=16)
    anchor: date  # the billing periods renew on this day
    purchased_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    status: str = Field(default="active", max_length=16)  # active | suspended
    source: str = Field(default="bot", max_length=16)  # bot | marketplace
    # A change that takes effect at 00:00 UTC of `scheduled_on` (a renewal date): a downgrade
    # this period's usage does not fit, or free at the end of a term that is not renewed.
    scheduled_plan_id: str | None = Field(default=None, max_length=64)
    scheduled_on: date | None = None
    updated_at: datetime = ts()


class PlanSegmentRow(SQLModel, table=True):
    """The plan history, each segment with the billing anchor and term in force. `end` is
    exclusive: a plan changed during a day ends the day after (it was in force that day too);
    a scheduled change at midnight ends it on the day itself."""

    __tablename__ = "plan_segments"
    __table_args__ = (sa.Index("ix_plan_segments_tenant_start", "tenant_id", "start"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    plan_id: str = Field(max_length=64)
    start: date
    end: date | None = None
    anchor: date
    term: str = Field(max_length=16)
    # Part of a purchase cancelled within its window: charged and refunded, no quota.
    voided: bool = False
    created_at: datetime = ts()


class QuotaUsageRow(SQLModel, table=True):
    """Items created per app and billing period, next to the period's (prorated) limit, so that
    check and count are one conditional UPDATE."""

    __tablename__ = "quota_usage"
    tenant_id: str = Field(primary_key=True, max_length=64)
    app: str = Field(primary_key=True, max_length=32)
    period_start: date = Field(primary_key=True)
    used: int = 0
    quota_limit: int


class RefundRow(SQLModel, table=True):
    __tablename__ = "refunds"
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64, index=True)
    # The period of the charge it refunds: its era (anchor, term) and its first day.
    anchor: date | None = None
    term: str | None = Field(default=None, max_length=16)
    period_start: date
    amount: Decimal = Field(sa_type=sa.Numeric(12, 2))
    currency: str = Field(default="EUR", max_length=3)
    reason: str = Field(default="cancellation", max_length=32)
    created_at: datetime = ts()


class QuotaNoticeRow(SQLModel, table=True):
    """A threshold notice already given: each (tenant, app, period, threshold, limit) once."""

    __tablename__ = "quota_notices"
    tenant_id: str = Field(primary_key=True, max_length=64)
    app: str = Field(primary_key=True, max_length=32)
    period_start: date = Field(primary_key=True)
    threshold: int = Field(primary_key=True)
    quota_limit: int = Field(primary_key=True)
    created_at: datetime = ts()


class OutboxRow(SQLModel, table=True):
    """A proactive message waiting to be delivered; written in the same transaction as the
    change that causes it, delivered by the proactive sender."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    conversation_ref_id: int = Field(foreign_key="conversations.id")
    # Set to post into a channel thread (`<channel>;messageid=<root>`) instead of the channel.
    thread_conversation_id: str | None = Field(default=None, max_length=400)
    # Set to open a personal chat with this user first, through the conversation's service:
    # an admin the bot knows from a team but has never chatted with.
    recipient_id: str | None = Field(default=None, max_length=200)
    kind: str = Field(max_length=32)
    payload: str = Field(sa_type=sa.Text)
    locale: str | None = Field(default=None, max_length=20)
    status: str = Field(default="pending", max_length=12)  # pending | sending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = ts()
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    claimed_by: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, max_length=400)
    created_at: datetime = ts()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
