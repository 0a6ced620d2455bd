"""indexes for the users: those with a role (the agents a ticket's card offers, the admins a
notice goes to, on every create and view) and by name (the people a form offers); without
them each read every user of the tenant

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
    op.create_index("ix_users_tenant_name", "users", ["tenant_id", "name", "id"])


def downgrade() -> None:
    op.drop_index("ix_users_tenant_name", table_name="users")
    op.drop_index("ix_users_tenant_role_name", table_name="users")
