"""crm: accounts, contacts and opportunities

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _common(*columns: sa.Column) -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", _text(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", _text(200), nullable=False),
        *columns,
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "number"),
    ]


def upgrade() -> None:
    op.create_table(
        "crm_accounts",
        *_common(
            sa.Column("name_key", _text(200), nullable=False),
            sa.Column("domain", _text(253), nullable=False),
            sa.Column("notes", sa.Text(), nullable=False),
        ),
        sa.UniqueConstraint("tenant_id", "name_key"),
    )
    op.create_table(
        "crm_contacts",
        *_common(
            sa.Column("name_key", _text(200), nullable=False),
            sa.Column("email", _text(254), nullable=False),
            sa.Column("phone", _text(40), nullable=False),
            sa.Column("job_role", _text(100), nullable=False),
            sa.Column("account_id", sa.Integer(), sa.ForeignKey("crm_accounts.id"), nullable=True),
        ),
    )
    op.create_index("ix_crm_contacts_tenant_name", "crm_contacts", ["tenant_id", "name_key"])
    op.create_index("ix_crm_contacts_tenant_account", "crm_contacts", ["tenant_id", "account_id"])
    op.create_table(
        "crm_opportunities",
        *_common(
            sa.Column("account_id", sa.Integer(), sa.ForeignKey("crm_accounts.id"), nullable=True),
            sa.Column("contact_id", sa.Integer(), sa.ForeignKey("crm_contacts.id"), nullable=True),
            sa.Column("amount", sa.Numeric(14, 2), nullable=False),
            sa.Column("currency", _text(3), nullable=False),
            sa.Column("stage", _text(16), nullable=False),
            sa.Column("own_probability", sa.Integer(), nullable=True),
            sa.Column("last_open_stage", _text(16), nullable=False),
            sa.Column("close_date", sa.Date(), nullable=True),
            sa.Column("closed_on", sa.Date(), nullable=True),
            sa.Column("owner_id", _text(200), nullable=False),
            sa.Column("owner_name", _text(200), nullable=False),
            sa.Column("next_step", _text(400), nullable=False),
            sa.Column("lost_reason", _text(400), nullable=True),
            sa.Column("conversation_id", _text(400), nullable=True),
        ),
    )
    for name, columns in (
        ("updated", ["tenant_id", "updated_at"]),
        ("owner", ["tenant_id", "owner_id", "updated_at"]),
        ("stage", ["tenant_id", "stage", "updated_at"]),
        ("account", ["tenant_id", "account_id"]),
        ("contact", ["tenant_id", "contact_id"]),
    ):
        op.create_index(f"ix_crm_opportunities_tenant_{name}", "crm_opportunities", columns)


def downgrade() -> None:
    op.drop_table("crm_opportunities")
    op.drop_table("crm_contacts")
    op.drop_table("crm_accounts")
