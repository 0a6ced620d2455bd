"""the index of the tickets by assignee and due date holds only the tickets that have a due
date: it serves a person's reminders (due on a day or before), which never look for a ticket
without one, and a new ticket (none has a due date) no longer writes a page of it (one of a
create's 14 pages in the WAL)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_tickets_tenant_assignee_due"
COLUMNS = ["tenant_id", "assignee_id", "due"]
DUE = sa.text("due IS NOT NULL")


def upgrade() -> None:
    op.drop_index(INDEX, table_name="tickets")
    op.create_index(INDEX, "tickets", COLUMNS, sqlite_where=DUE, postgresql_where=DUE)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="tickets")
    op.create_index(INDEX, "tickets", COLUMNS)
