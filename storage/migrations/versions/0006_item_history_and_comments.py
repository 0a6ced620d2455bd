"""one history and one comment table for the items of every app

Ticket comments and ticket events move into item_comments and item_events (app = 'tickets'),
keeping their ids, authors and times, so that Checklists and CRM share them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns(*extra: sa.Column) -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("app", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        *extra,
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    ]


def upgrade() -> None:
    op.create_table(
        "item_comments",
        *_columns(
            sa.Column("author_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
            sa.Column("author_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
        ),
    )
    op.create_index("ix_item_comments_item", "item_comments", ["tenant_id", "app", "item_id", "id"])
    op.create_table(
        "item_events",
        *_columns(
            sa.Column("actor_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
            sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
            sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
            sa.Column("old", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
            sa.Column("new", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        ),
    )
    op.create_index("ix_item_events_item", "item_events", ["tenant_id", "app", "item_id", "id"])
    op.execute(
        "INSERT INTO item_comments (id, tenant_id, app, item_id, author_id, author_name, text,"
        " created_at) SELECT id, tenant_id, 'tickets', ticket_id, author_id, author_name, text,"
        " created_at FROM ticket_comments"
    )
    op.execute(
        "INSERT INTO item_events (id, tenant_id, app, item_id, actor_id, actor_name, field, old,"
        " new, created_at) SELECT id, tenant_id, 'tickets', ticket_id, actor_id, actor_name,"
        " field, old, new, created_at FROM ticket_events"
    )
    if op.get_bind().dialect.name == "postgresql":
        # The ids were copied: move the sequences past them.
        for table in ("item_comments", "item_events"):
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
    op.drop_index("ix_ticket_comments_ticket_id", table_name="ticket_comments")
    op.drop_table("ticket_comments")
    op.drop_index("ix_ticket_events_ticket_id", table_name="ticket_events")
    op.drop_table("ticket_events")


def downgrade() -> None:
    op.create_table(
        "ticket_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("author_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_comments_ticket_id", "ticket_comments", ["ticket_id"])
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("old", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("new", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])
    op.execute(
        "INSERT INTO ticket_comments (id, tenant_id, ticket_id, author_id, author_name, text,"
        " created_at) SELECT id, tenant_id, item_id, author_id, author_name, text, created_at"
        " FROM item_comments WHERE app = 'tickets'"
    )
    op.execute(
        "INSERT INTO ticket_events (id, tenant_id, ticket_id, actor_id, actor_name, field, old,"
        " new, created_at) SELECT id, tenant_id, item_id, actor_id, actor_name, field, old, new,"
        " created_at FROM item_events WHERE app = 'tickets'"
    )
    op.drop_index("ix_item_events_item", table_name="item_events")
    op.drop_table("item_events")
    op.drop_index("ix_item_comments_item", table_name="item_comments")
    op.drop_table("item_comments")
