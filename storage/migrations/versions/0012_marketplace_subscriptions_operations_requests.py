"""marketplace: SaaS subscriptions, the operations handled, and plan changes asked in chat

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = storage.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "marketplace_subscriptions",
        sa.Column("id", Text(length=64), nullable=False),
        sa.Column("tenant_id", Text(length=64), nullable=False),
        sa.Column("offer_id", Text(length=200), nullable=False),
        sa.Column("plan_id", Text(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("status", Text(length=32), nullable=False),
        sa.Column("name", Text(length=200), nullable=False),
        sa.Column("purchaser_tenant_id", Text(length=64), nullable=True),
        sa.Column("purchaser_object_id", Text(length=64), nullable=True),
        sa.Column("purchaser_email", Text(length=320), nullable=True),
        sa.Column("beneficiary_email", Text(length=320), nullable=True),
        sa.Column("purchaser_admin", sa.Boolean(), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=True),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_marketplace_subscriptions_tenant_id", "marketplace_subscriptions", ["tenant_id"]
    )
    op.create_table(
        "marketplace_operations",
        sa.Column("id", Text(length=64), nullable=False),
        sa.Column("tenant_id", Text(length=64), nullable=False),
        sa.Column("subscription_id", Text(length=64), nullable=False),
        sa.Column("action", Text(length=32), nullable=False),
        sa.Column("outcome", Text(length=16), nullable=False),
        sa.Column("detail", Text(length=400), nullable=False),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_marketplace_operations_tenant_id", "marketplace_operations", ["tenant_id"])
    op.create_table(
        "marketplace_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", Text(length=64), nullable=False),
        sa.Column("subscription_id", Text(length=64), nullable=False),
        sa.Column("plan_id", Text(length=64), nullable=False),
        sa.Column("marketplace_plan", Text(length=64), nullable=False),
        sa.Column("status", Text(length=16), nullable=False),
        sa.Column("operation_id", Text(length=64), nullable=True),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_marketplace_requests_tenant_id", "marketplace_requests", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_marketplace_requests_tenant_id", table_name="marketplace_requests")
    op.drop_table("marketplace_requests")
    op.drop_index("ix_marketplace_operations_tenant_id", table_name="marketplace_operations")
    op.drop_table("marketplace_operations")
    op.drop_index("ix_marketplace_subscriptions_tenant_id", table_name="marketplace_subscriptions")
    op.drop_table("marketplace_subscriptions")
