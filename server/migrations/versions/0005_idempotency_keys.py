"""Idempotency keys for POSTs that move money or stock (server.idempotency.models).

``idempotency_key`` is store-owned, so on PostgreSQL it gets the ``store_isolation``
row-level-security policy like every other ``store_id`` table (server/db/rls.py).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db import rls

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = sa.Enum("PENDING", "COMPLETED", name="idempotencystatus", native_enum=False,
                  length=32)


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("principal", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON().with_variant(
            postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"],
                                name=op.f("fk_idempotency_key_store_id_store"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_key")),
        sa.UniqueConstraint("store_id", "principal", "key",
                            name=op.f("uq_idempotency_key_store_id_principal_key")),
    )
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_key_store_id"), ["store_id"],
                              unique=False)
        batch_op.create_index("ix_idempotency_key_expires_at", ["expires_at"], unique=False)

    bind = op.get_bind()
    if rls.is_postgres(bind):
        rls.enable_table(bind, "idempotency_key")


def downgrade() -> None:
    bind = op.get_bind()
    if rls.is_postgres(bind):
        rls.disable_table(bind, "idempotency_key")
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_key_expires_at")
        batch_op.drop_index(batch_op.f("ix_idempotency_key_store_id"))
    op.drop_table("idempotency_key")
