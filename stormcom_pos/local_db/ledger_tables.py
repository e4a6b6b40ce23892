"""The ledger's tables: what this till recorded (facts, outbox, sync state, till queues).

The ledger is precious: it is migrated by its own Alembic tree (``ledger_migrations``, after a
``VACUUM INTO`` backup) and never wiped while anything in it is unsynced. These Core tables
are what the repositories query; the migrations hold the DDL as it was at each revision.

Each fact keeps its payload (the pydantic model as JSON, exactly what is pushed) plus the
columns the till looks things up by. ``stock_delta`` holds the stock effect of each fact,
keyed by the fact's outbox kind and subject id, so the till can add its unsynced movements to
the pulled stock level.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

ledger_metadata = MetaData()

OUTBOX_STATUSES = ("pending", "applied", "duplicate", "quarantined", "rejected")

sync_state = Table(
    "sync_state", ledger_metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", String), Column("store_id", String), Column("server_url", String),
    Column("cursor", String), Column("epoch", String),
    Column("bootstrap_done", Integer, nullable=False, default=0),
    Column("selling_ready", Integer, nullable=False, default=0),
    Column("snapshot_as_of", Integer), Column("snapshot_entity", String),
    Column("snapshot_after", String),
    Column("snapshot_loaded_rows", Integer, nullable=False, default=0),
    Column("last_success_at", String), Column("last_error", Text),
    Column("clock_offset_seconds", Float), Column("server_last_applied_seq", Integer),
    CheckConstraint("id = 1", name="ck_sync_state_single_row"),
)

outbox = Table(
    "outbox", ledger_metadata,
    Column("op_id", String, primary_key=True),
    Column("device_seq", Integer, nullable=False, unique=True),
    Column("kind", String, nullable=False),
    Column("op_version", Integer, nullable=False),
    Column("subject_id", String, nullable=False),
    Column("occurred_at", String, nullable=False),
    Column("staff_id", String),
    Column("payload", Text, nullable=False),
    Column("status", String, nullable=False, default="pending"),
    Column("error_code", String), Column("error", Text),
    Column("anomalies", Text, nullable=False, default="[]"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("server_seq", Integer),
    Column("created_at", String, nullable=False),
    Column("updated_at", String, nullable=False),
    Column("last_attempt_at", String),
    Index("ix_outbox_status_device_seq", "status", "device_seq"),
    Index("ix_outbox_kind_subject_id", "kind", "subject_id"),
)

sale = Table(
    "sale", ledger_metadata,
    Column("order_id", String, primary_key=True),
    Column("receipt_number", String, nullable=False, unique=True),
    Column("pos_session_id", String, nullable=False, index=True),
    Column("cashier_id", String, nullable=False),
    Column("customer_id", String),
    Column("total", String, nullable=False),
    Column("completed_at", String, nullable=False, index=True),
    Column("payload", Text, nullable=False),
)

sale_line = Table(
    "sale_line", ledger_metadata,
    Column("id", String, primary_key=True),
    Column("order_id", String, ForeignKey("sale.order_id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("variant_id", String),
    Column("quantity", String, nullable=False),
)

refund = Table(
    "refund", ledger_metadata,
    Column("refund_id", String, primary_key=True),
    # No foreign key: the sale may have been rung up at another till.
    Column("order_id", String, nullable=False, index=True),
    Column("pos_session_id", String, index=True),
    Column("created_at", String, nullable=False),
    Column("payload", Text, nullable=False),
)

drawer_session = Table(
    "drawer_session", ledger_metadata,
    Column("pos_session_id", String, primary_key=True),
    # 1 while open, NULL once closed: the unique index allows one open drawer at a time.
    Column("is_open", Integer, unique=True),
    Column("opened_at", String, nullable=False),
    Column("open_payload", Text, nullable=False),
    Column("closed_at", String),
    Column("close_payload", Text),
    Column("z_number", Integer, unique=True),
)

cash_move = Table(
    "cash_move", ledger_metadata,
    Column("movement_id", String, primary_key=True),
    Column("pos_session_id", String, ForeignKey("drawer_session.pos_session_id"),
           nullable=False, index=True),
    Column("created_at", String, nullable=False),
    Column("payload", Text, nullable=False),
)

stock_event = Table(
    "stock_event", ledger_metadata,
    Column("id", String, primary_key=True),  # movement_id or count_id
    Column("kind", String, nullable=False),
    Column("variant_id", String, nullable=False, index=True),
    Column("created_at", String, nullable=False),
    Column("payload", Text, nullable=False),
)

stock_delta = Table(
    "stock_delta", ledger_metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String, nullable=False),
    Column("subject_id", String, nullable=False),
    Column("variant_id", String, nullable=False, index=True),
    Column("quantity", String, nullable=False),
    Index("ix_stock_delta_kind_subject_id", "kind", "subject_id"),
)

local_customer = Table(
    "local_customer", ledger_metadata,
    Column("customer_id", String, primary_key=True),
    Column("first_name", String, nullable=False),
    Column("last_name", String), Column("email", String), Column("phone", String),
    Column("created_at", String, nullable=False),
    Column("payload", Text, nullable=False),
)

counter = Table(
    "counter", ledger_metadata,
    Column("name", String, primary_key=True),
    Column("value", Integer, nullable=False),
)

parked_sale = Table(
    "parked_sale", ledger_metadata,
    Column("park_id", String, primary_key=True),
    Column("label", String, nullable=False),
    Column("cart", Text, nullable=False),
    Column("parked_at", String, nullable=False),
)

print_job = Table(
    "print_job", ledger_metadata,
    Column("job_id", String, primary_key=True),
    Column("kind", String, nullable=False),
    Column("payload", Text, nullable=False),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=1),
    Column("queued_at", String, nullable=False),
)
