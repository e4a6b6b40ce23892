"""Till conveniences: parked sales and the reprint queue.

Revision ID: 0002_till_queues
Revises: 0001_ledger_core
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_till_queues"
down_revision = "0001_ledger_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parked_sale",
        sa.Column("park_id", sa.String, primary_key=True),
        sa.Column("label", sa.String, nullable=False),
        sa.Column("cart", sa.Text, nullable=False),
        sa.Column("parked_at", sa.String, nullable=False),
    )
    op.create_table(
        "print_job",
        sa.Column("job_id", sa.String, primary_key=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("queued_at", sa.String, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("print_job")
    op.drop_table("parked_sale")
