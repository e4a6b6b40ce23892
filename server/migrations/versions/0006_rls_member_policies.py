"""Row-level security: let a signed-in user read their own memberships across stores.

Sign-in and the choice of store run before ``app.current_store_id`` is known, so under the
``store_isolation`` policy alone the application role would see none of the user's
``user_store`` rows (nor the plan of their stores). These two extra, SELECT-only policies admit
exactly the rows of ``app.current_user_id`` (set by ``server.db.tenancy.set_current_user``).
PostgreSQL ORs permissive policies, so writes still need the store setting.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from server.db import rls

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    rls.install_member_policies(op.get_bind())


def downgrade() -> None:
    rls.uninstall_member_policies(op.get_bind())
