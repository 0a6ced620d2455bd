"""an index for the users with a role: the agents a ticket's card offers, the admins a notice
goes to, on every create and view; without it each read every user of the tenant

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 15:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_tenant_role_name", "users", ["tenant_id", "role", "name"])


def downgrade() -> None:
    op.drop_index("ix_users_tenant_role_name", table_name="users")
