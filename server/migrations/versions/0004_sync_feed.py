"""POS ingestion anomalies (server.pos.anomaly_models.PosAnomaly).

``pos_anomaly`` is store-owned, so on PostgreSQL it gets the ``store_isolation``
row-level-security policy like every other ``store_id`` table (server/db/rls.py).

The change sequence itself needs no schema change: ``change_log``, ``push_inbox`` and
``store_sync_state`` are in 0001.

Chained after 0005 (idempotency keys), the head when this was written.

Revision ID: 0004
Revises: 0005
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db import rls

revision: str = "0004"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = (
    "price_mismatch", "negative_stock", "late_after_close", "quarantined", "inactive_product",
    "unknown_customer", "unknown_staff", "missing_drawer_session", "cash_drift",
    "count_mismatch", "cash_variance", "duplicate_receipt_number", "duplicate_customer",
    "clock_skew", "underpaid", "refund_rule_violation", "refund_amount_mismatch",
    "untracked_quantity",
)


def upgrade() -> None:
    op.create_table(
        "pos_anomaly",
        sa.Column("kind", sa.Enum(*_KINDS, name="anomalykind", native_enum=False, length=32),
                  nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=32), nullable=True),
        sa.Column("op_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON().with_variant(
            postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"],
                                name=op.f("fk_pos_anomaly_device_id_device"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"],
                                name=op.f("fk_pos_anomaly_store_id_store"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_anomaly")),
    )
    with op.batch_alter_table("pos_anomaly", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_anomaly_store_id"), ["store_id"], unique=False)
        batch_op.create_index("ix_pos_anomaly_store_id_created_at", ["store_id", "created_at"],
                              unique=False)
        batch_op.create_index("ix_pos_anomaly_store_id_kind_created_at",
                              ["store_id", "kind", "created_at"], unique=False)
        batch_op.create_index("ix_pos_anomaly_device_id", ["device_id"], unique=False)

    bind = op.get_bind()
    if rls.is_postgres(bind):
        rls.enable_table(bind, "pos_anomaly")


def downgrade() -> None:
    bind = op.get_bind()
    if rls.is_postgres(bind):
        rls.disable_table(bind, "pos_anomaly")
    with op.batch_alter_table("pos_anomaly", schema=None) as batch_op:
        batch_op.drop_index("ix_pos_anomaly_device_id")
        batch_op.drop_index("ix_pos_anomaly_store_id_kind_created_at")
        batch_op.drop_index("ix_pos_anomaly_store_id_created_at")
        batch_op.drop_index(batch_op.f("ix_pos_anomaly_store_id"))
    op.drop_table("pos_anomaly")
