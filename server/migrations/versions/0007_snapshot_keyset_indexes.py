"""Indexes for the sync snapshot's keyset pages on the big catalog tables.

A terminal's first start reads ``WHERE store_id = ? AND id > ? ORDER BY id LIMIT n`` page after
page; without ``(store_id, id)`` SQLite sorted every row of the store for each page (100-250 ms
a page at 200,000 variants).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_product_store_id_id", "product"),
    ("ix_variant_store_id_id", "variant"),
    ("ix_product_category_store_id_id", "product_category"),
)


def upgrade() -> None:
    for name, table in _INDEXES:
        op.create_index(name, table, ["store_id", "id"])


def downgrade() -> None:
    for name, table in _INDEXES:
        op.drop_index(name, table_name=table)
