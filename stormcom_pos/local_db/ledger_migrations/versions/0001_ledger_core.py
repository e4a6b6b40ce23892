"""The ledger: sync state, outbox, sales, refunds, drawer, stock facts, till customers.

Revision ID: 0001_ledger_core
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger_core"
down_revision = None
branch_labels = None
depends_on = None

S, INT, T = sa.String, sa.Integer, sa.Text


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("id", INT, primary_key=True),
        sa.Column("device_id", S), sa.Column("store_id", S), sa.Column("server_url", S),
        sa.Column("cursor", S), sa.Column("epoch", S),
        sa.Column("bootstrap_done", INT, nullable=False, server_default="0"),
        sa.Column("selling_ready", INT, nullable=False, server_default="0"),
        sa.Column("snapshot_as_of", INT), sa.Column("snapshot_entity", S),
        sa.Column("snapshot_after", S),
        sa.Column("snapshot_loaded_rows", INT, nullable=False, server_default="0"),
        sa.Column("last_success_at", S), sa.Column("last_error", T),
        sa.Column("clock_offset_seconds", sa.Float), sa.Column("server_last_applied_seq", INT),
        sa.CheckConstraint("id = 1", name="ck_sync_state_single_row"),
    )
    op.execute("INSERT INTO sync_state (id) VALUES (1)")
    op.create_table(
        "outbox",
        sa.Column("op_id", S, primary_key=True),
        sa.Column("device_seq", INT, nullable=False, unique=True),
        sa.Column("kind", S, nullable=False),
        sa.Column("op_version", INT, nullable=False),
        sa.Column("subject_id", S, nullable=False),
        sa.Column("occurred_at", S, nullable=False),
        sa.Column("staff_id", S),
        sa.Column("payload", T, nullable=False),
        sa.Column("status", S, nullable=False, server_default="pending"),
        sa.Column("error_code", S), sa.Column("error", T),
        sa.Column("anomalies", T, nullable=False, server_default="[]"),
        sa.Column("attempts", INT, nullable=False, server_default="0"),
        sa.Column("server_seq", INT),
        sa.Column("created_at", S, nullable=False),
        sa.Column("updated_at", S, nullable=False),
        sa.Column("last_attempt_at", S),
        sa.CheckConstraint(
            "status IN ('pending', 'applied', 'duplicate', 'quarantined', 'rejected')",
            name="ck_outbox_status",
        ),
    )
    op.create_index("ix_outbox_status_device_seq", "outbox", ["status", "device_seq"])
    op.create_index("ix_outbox_kind_subject_id", "outbox", ["kind", "subject_id"])
    op.create_table(
        "sale",
        sa.Column("order_id", S, primary_key=True),
        sa.Column("receipt_number", S, nullable=False, unique=True),
        sa.Column("pos_session_id", S, nullable=False),
        sa.Column("cashier_id", S, nullable=False),
        sa.Column("customer_id", S),
        sa.Column("total", S, nullable=False),
        sa.Column("completed_at", S, nullable=False),
        sa.Column("payload", T, nullable=False),
    )
    op.create_index("ix_sale_pos_session_id", "sale", ["pos_session_id"])
    op.create_index("ix_sale_completed_at", "sale", ["completed_at"])
    op.create_table(
        "sale_line",
        sa.Column("id", S, primary_key=True),
        sa.Column("order_id", S, sa.ForeignKey("sale.order_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("variant_id", S),
        sa.Column("quantity", S, nullable=False),
    )
    op.create_index("ix_sale_line_order_id", "sale_line", ["order_id"])
    op.create_table(
        "refund",
        sa.Column("refund_id", S, primary_key=True),
        sa.Column("order_id", S, nullable=False),
        sa.Column("pos_session_id", S),
        sa.Column("created_at", S, nullable=False),
        sa.Column("payload", T, nullable=False),
    )
    op.create_index("ix_refund_order_id", "refund", ["order_id"])
    op.create_index("ix_refund_pos_session_id", "refund", ["pos_session_id"])
    op.create_table(
        "drawer_session",
        sa.Column("pos_session_id", S, primary_key=True),
        sa.Column("is_open", INT, unique=True),
        sa.Column("opened_at", S, nullable=False),
        sa.Column("open_payload", T, nullable=False),
        sa.Column("closed_at", S),
        sa.Column("close_payload", T),
        sa.Column("z_number", INT, unique=True),
    )
    op.create_table(
        "cash_move",
        sa.Column("movement_id", S, primary_key=True),
        sa.Column("pos_session_id", S, sa.ForeignKey("drawer_session.pos_session_id"),
                  nullable=False),
        sa.Column("created_at", S, nullable=False),
        sa.Column("payload", T, nullable=False),
    )
    op.create_index("ix_cash_move_pos_session_id", "cash_move", ["pos_session_id"])
    op.create_table(
        "stock_event",
        sa.Column("id", S, primary_key=True),
        sa.Column("kind", S, nullable=False),
        sa.Column("variant_id", S, nullable=False),
        sa.Column("created_at", S, nullable=False),
        sa.Column("payload", T, nullable=False),
    )
    op.create_index("ix_stock_event_variant_id", "stock_event", ["variant_id"])
    op.create_table(
        "stock_delta",
        sa.Column("id", INT, primary_key=True),
        sa.Column("kind", S, nullable=False),
        sa.Column("subject_id", S, nullable=False),
        sa.Column("variant_id", S, nullable=False),
        sa.Column("quantity", S, nullable=False),
    )
    op.create_index("ix_stock_delta_variant_id", "stock_delta", ["variant_id"])
    op.create_index("ix_stock_delta_kind_subject_id", "stock_delta", ["kind", "subject_id"])
    op.create_table(
        "local_customer",
        sa.Column("customer_id", S, primary_key=True),
        sa.Column("first_name", S, nullable=False),
        sa.Column("last_name", S), sa.Column("email", S), sa.Column("phone", S),
        sa.Column("created_at", S, nullable=False),
        sa.Column("payload", T, nullable=False),
    )
    op.create_table(
        "counter",
        sa.Column("name", S, primary_key=True),
        sa.Column("value", INT, nullable=False),
    )


def downgrade() -> None:
    for name in ("counter", "local_customer", "stock_delta", "stock_event", "cash_move",
                 "drawer_session", "refund", "sale_line", "sale", "outbox", "sync_state"):
        op.drop_table(name)
