"""the activity ids already handled, as one b-tree on SQLite (WITHOUT ROWID): every turn claims
its activity id, and a table with a rowid kept the rows and its primary key in two b-trees, so
each claim wrote a page of both (2.3 of a create's 14 pages in the WAL; a `help` turn,
whose claim is its only write, wrote 2.5 pages and now writes 1.6)

PostgreSQL has no such kind of table: nothing changes there.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "processed_activities"


def _rebuild(*, with_rowid: bool) -> None:
    """The table again, with or without a rowid, with the same rows (SQLite cannot alter it)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_table(
        f"{TABLE}_new",
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("activity_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("processed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "activity_id"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        f"INSERT INTO {TABLE}_new (tenant_id, activity_id, processed_at) "
        f"SELECT tenant_id, activity_id, processed_at FROM {TABLE}"
    )
    op.drop_table(TABLE)
    op.rename_table(f"{TABLE}_new", TABLE)


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
