"""indexes of the checklists by starter, assignee and reviewer, each newest change first: a
person's list read every checklist of the tenant to find theirs (a three-way OR), now it reads
one index walk per role (`person_page`), as a person's tickets do since 0011

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("starter", "assignee", "reviewer")


def upgrade() -> None:
    for role in ROLES:
        op.create_index(
            f"ix_checklists_tenant_{role}_updated",
            "checklists",
            ["tenant_id", f"{role}_id", "updated_at"],
        )


def downgrade() -> None:
    for role in reversed(ROLES):
        op.drop_index(f"ix_checklists_tenant_{role}_updated", table_name="checklists")
