"""Encrypt the secret columns at application level (``server.db.encrypted``).

``user.mfa_secret``, ``payment_gateway_config.secret_key``/``webhook_secret`` and
``external_platform_integration.api_key``/``api_secret``/``webhook_secret`` become TEXT holding
Fernet tokens: the values already stored are encrypted in place with the configured data key
(the first of ``STORMCOM_DATA_KEYS``, or the SQLite key file), and downgrade decrypts them
back. NULL stays NULL.

The two store-owned tables are under forced row-level security (0003): run as the owner role
(not a superuser) this migration would see none of their rows, so it bypasses the policy for
its transaction, as the platform jobs do. It first redefines the bypass function as 0003 now
installs it (a member of ``stormcom_app`` that does not inherit it may bypass): before, an owner
on PostgreSQL 16 that had created ``stormcom_app`` itself could not, and would stop here.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db import encrypted, rls

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (column, nullable)
SECRETS: dict[str, tuple[tuple[str, bool], ...]] = {
    "user": (("mfa_secret", True),),
    "payment_gateway_config": (("secret_key", False), ("webhook_secret", True)),
    "external_platform_integration": (
        ("api_key", False), ("api_secret", True), ("webhook_secret", True)),
}


def upgrade() -> None:
    rls.install_bypass_function(op.get_bind())
    _retype(sa.String(), sa.Text())
    encrypted.rewrite_columns(op.get_bind(), _names(), lambda value, where: encrypted.encrypt(value))


def downgrade() -> None:
    encrypted.rewrite_columns(op.get_bind(), _names(), encrypted.decrypt)
    _retype(sa.Text(), sa.String())


def _names() -> dict[str, list[str]]:
    return {table: [name for name, _ in columns] for table, columns in SECRETS.items()}


def _retype(old: sa.types.TypeEngine[str], new: sa.types.TypeEngine[str]) -> None:
    for table, columns in SECRETS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, nullable in columns:
                batch_op.alter_column(name, existing_type=old, type_=new,
                                      existing_nullable=nullable)
