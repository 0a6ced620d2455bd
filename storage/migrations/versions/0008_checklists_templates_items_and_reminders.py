"""checklists: templates, checklists, their items, and the daily reminders sent

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = storage.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "checklist_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", Text(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", Text(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("author_id", Text(length=200), nullable=False),
        sa.Column("author_name", Text(length=200), nullable=False),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "number"),
    )
    op.create_index(
        "ix_checklist_templates_tenant_title",
        "checklist_templates",
        ["tenant_id", "archived", "title"],
    )
    op.create_table(
        "checklists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", Text(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", Text(length=200), nullable=False),
        sa.Column("template_number", sa.Integer(), nullable=True),
        sa.Column("status", Text(length=16), nullable=False),
        sa.Column("starter_id", Text(length=200), nullable=False),
        sa.Column("starter_name", Text(length=200), nullable=False),
        sa.Column("assignee_id", Text(length=200), nullable=True),
        sa.Column("assignee_name", Text(length=200), nullable=True),
        sa.Column("reviewer_id", Text(length=200), nullable=True),
        sa.Column("reviewer_name", Text(length=200), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("conversation_id", Text(length=400), nullable=True),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "number"),
    )
    op.create_index("ix_checklists_tenant_updated", "checklists", ["tenant_id", "updated_at"])
    op.create_index(
        "ix_checklists_tenant_assignee_due", "checklists", ["tenant_id", "assignee_id", "due"]
    )
    op.create_table(
        "checklist_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", Text(length=64), nullable=False),
        sa.Column("checklist_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", Text(length=300), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("checked_by_id", Text(length=200), nullable=True),
        sa.Column("checked_by_name", Text(length=200), nullable=True),
        sa.Column("checked_at", When(timezone=True), nullable=True),
        sa.Column("note", Text(length=300), nullable=False),
        sa.ForeignKeyConstraint(["checklist_id"], ["checklists.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("checklist_id", "position"),
    )
    op.create_table(
        "reminders",
        sa.Column("tenant_id", Text(length=64), nullable=False),
        sa.Column("user_id", Text(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", "day"),
    )
    # Reminders look for tickets due by assignee as well.
    op.create_index(
        "ix_tickets_tenant_assignee_due", "tickets", ["tenant_id", "assignee_id", "due"]
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_tenant_assignee_due", table_name="tickets")
    op.drop_table("reminders")
    op.drop_table("checklist_items")
    op.drop_index("ix_checklists_tenant_assignee_due", table_name="checklists")
    op.drop_index("ix_checklists_tenant_updated", table_name="checklists")
    op.drop_table("checklists")
    op.drop_index("ix_checklist_templates_tenant_title", table_name="checklist_templates")
    op.drop_table("checklist_templates")
