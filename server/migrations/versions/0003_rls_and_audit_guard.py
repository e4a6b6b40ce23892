"""Device access tokens; on PostgreSQL row-level security, the application role and the
audit-log guard (see server/db/rls.py for what is installed and why).

- ``device_token`` (both backends): short-lived access tokens of paired terminals, hashed.
- PostgreSQL only: RLS enabled and forced, with the ``store_isolation`` policy, on every table
  that has a ``store_id`` column at this revision; the ``stormcom_app`` role (NOLOGIN) and its
  grants; the ``stormcom_rls_bypass()`` function; triggers refusing UPDATE/DELETE/TRUNCATE on
  ``audit_log``. SQLite gets none of these.

Downgrade removes all of it; the cluster-wide role is dropped unless another database still
grants it privileges.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db import rls

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_token",
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"],
                                name=op.f("fk_device_token_device_id_device"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"],
                                name=op.f("fk_device_token_store_id_store"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_device_token_token_hash")),
    )
    with op.batch_alter_table("device_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_token_store_id"), ["store_id"], unique=False)
        batch_op.create_index("ix_device_token_device_id_expires_at",
                              ["device_id", "expires_at"], unique=False)

    rls.install(op.get_bind())


def downgrade() -> None:
    rls.uninstall(op.get_bind())

    with op.batch_alter_table("device_token", schema=None) as batch_op:
        batch_op.drop_index("ix_device_token_device_id_expires_at")
        batch_op.drop_index(batch_op.f("ix_device_token_store_id"))
    op.drop_table("device_token")
