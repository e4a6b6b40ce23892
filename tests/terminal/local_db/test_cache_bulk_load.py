"""A bootstrap's bulk load: pages stored without the search index, which is built once."""

from __future__ import annotations

import json

from sqlalchemy import text

from stormcom_pos.domain.sync_protocol import Change
from stormcom_pos.local_db import cache_apply, catalog_repo
from stormcom_pos.local_db.database import LocalDb
from tests.terminal.local_db.builders import product_row, variant_row


def _ids(hits: list[catalog_repo.ProductHit]) -> list[str]:
    return [hit.variant_id for hit in hits]


def test_pages_load_unindexed_and_one_rebuild_indexes_every_variant(db: LocalDb) -> None:
    products = [product_row(f"p{i}", f"Kettle {i}") for i in range(3)]
    variants = [variant_row(f"v{i}", f"p{i}", sku=f"KET-{i}") for i in range(3)]
    with db.write() as conn:
        cache_apply.load_snapshot_rows(conn, "product", products, index=False)
        cache_apply.load_snapshot_rows(conn, "variant", variants[:2], index=False)
        cache_apply.load_snapshot_rows(conn, "variant", variants[2:], index=False)
    with db.read() as conn:
        assert catalog_repo.search(conn, "kettle") == []
        stored = conn.execute(text("SELECT data FROM cache_variant WHERE id = 'v1'")).scalar_one()
        assert json.loads(stored) == variants[1]  # the row exactly as the server sent it
    with db.write() as conn:
        cache_apply.rebuild_search(conn)
        cache_apply.rebuild_search(conn)  # again (a resumed bootstrap): no duplicate entries
    with db.read() as conn:
        assert sorted(_ids(catalog_repo.search(conn, "kettle"))) == ["v0", "v1", "v2"]
        assert _ids(catalog_repo.search(conn, "ket-2")) == ["v2"]
        assert conn.execute(text("SELECT count(*) FROM cache_search")).scalar_one() == 3
    # Pulls after the bootstrap keep the index up to date row by row.
    renamed = product_row("p1", "Teapot")
    with db.write() as conn:
        cache_apply.apply_changes(conn, [
            Change(seq=1, entity_type="product", id="p1", op="upsert", data=renamed),
            Change(seq=2, entity_type="variant", id="v2", op="delete")])
    with db.read() as conn:
        assert _ids(catalog_repo.search(conn, "kettle")) == ["v0"]
        assert _ids(catalog_repo.search(conn, "teapot")) == ["v1"]
