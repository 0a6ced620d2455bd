"""billing: scheduled changes, voided purchases, refunds filed under their charge's period;
plan segments end the day after a change made during a day

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:10:00
"""

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_segments = sa.table("plan_segments", sa.column("id", sa.Integer), sa.column("end", sa.Date))


def _shift_ends(days: int) -> None:
    # Every segment closed so far was closed by a change during a day, so the plan was in force
    # on that day too: under the new reading its (exclusive) end is the day after.
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_segments.c.id, _segments.c.end).where(_segments.c.end.is_not(None))
    )
    for segment_id, end in list(rows):
        if isinstance(end, str):  # SQLite without type affinity
            end = date.fromisoformat(end)
        bind.execute(
            sa.update(_segments)
            .where(_segments.c.id == segment_id)
            .values(end=end + timedelta(days=days))
        )


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scheduled_plan_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
        batch_op.add_column(sa.Column("scheduled_on", sa.Date(), nullable=True))
    with op.batch_alter_table("plan_segments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("voided", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anchor", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("term", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
    _shift_ends(1)


def downgrade() -> None:
    _shift_ends(-1)
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("term")
        batch_op.drop_column("anchor")
    with op.batch_alter_table("plan_segments", schema=None) as batch_op:
        batch_op.drop_column("voided")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("scheduled_on")
        batch_op.drop_column("scheduled_plan_id")
