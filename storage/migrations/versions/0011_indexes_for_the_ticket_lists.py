"""indexes for the ticket lists: a member's list filters on requester or assignee

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 22:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_tickets_tenant_requester_updated",
        "tickets",
        ["tenant_id", "requester_id", "updated_at"],
    )
    op.create_index(
        "ix_tickets_tenant_assignee_updated", "tickets", ["tenant_id", "assignee_id", "updated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_tenant_assignee_updated", table_name="tickets")
    op.drop_index("ix_tickets_tenant_requester_updated", table_name="tickets")
