"""First start: load the server's snapshot into the till's cache, resumably.

Entity types load in ``SNAPSHOT_SELLING`` then ``SNAPSHOT_LATER`` order, page by page. Each
page is written in one local transaction together with where to resume (entity type, keyset
``after``, ``as_of``), so a till killed half way resumes at the page it had not stored, not
from zero (failure case F15). Every page after the first asks for the first page's ``as_of``;
the last page also marks the bootstrap done and sets the pull cursor to ``(epoch, as_of)``, so
the pull that follows picks up whatever changed while the pages were read (F14). Selling can
start once the selling group is in. A resync of a till that can sell reloads over the cache it
has and keeps selling from it (``local_db.cache_reload``). The search index is not kept up page
by page: the last variant page builds it in one go (products are loaded before variants), in
that page's transaction. The next page is requested while the current one is written, so the network
and the local disk work at the same time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection

from stormcom_pos.domain import sync_protocol as proto
from stormcom_pos.local_db import cache_apply, cache_reload, sync_state
from stormcom_pos.local_db.database import LocalDb
from stormcom_pos.sync.client import ServerClient
from stormcom_pos.sync.errors import ResyncRequired
from stormcom_pos.sync.status import BootstrapProgress

log = logging.getLogger("stormcom.sync.bootstrap")

ORDER = (*proto.SNAPSHOT_SELLING, *proto.SNAPSHOT_LATER)
LAST_SELLING = len(proto.SNAPSHOT_SELLING) - 1
SEARCHED = "variant"  # its last page builds the search index (products come before it)
RESTARTS = 3
# Forget the cache's position: the next sync bootstraps again (the ledger is not touched).
RESET_FIELDS: dict[str, Any] = {
    "cursor": None, "epoch": None, "bootstrap_done": False, "selling_ready": False,
    "snapshot_as_of": None, "snapshot_entity": None, "snapshot_after": None,
    "snapshot_loaded_rows": 0}
Progress = Callable[[BootstrapProgress], None]


def run(db: LocalDb, client: ServerClient, *, limit: int, progress: Progress | None) -> None:
    """Load (or finish loading) the snapshot; restart it if the server no longer serves its
    ``as_of`` (compacted, or a new epoch while it was loading)."""
    for attempt in range(RESTARTS):
        try:
            _load(db, client, limit, progress)
            return
        except ResyncRequired as exc:
            if attempt == RESTARTS - 1:
                raise
            log.warning("snapshot restarted: %s", exc.message)
            with db.write() as conn:
                restart(conn)


def restart(conn: Connection) -> None:
    """Load the snapshot again from the start. A till that can sell keeps its cache and
    sells from it until the new one is in (``cache_reload``); one that cannot starts from
    empty tables."""
    if sync_state.get_state(conn).selling_ready:
        cache_reload.begin(conn)
        sync_state.update_state(conn, **(RESET_FIELDS | {"selling_ready": True}))
    else:
        cache_apply.clear_cache(conn)
        sync_state.update_state(conn, **RESET_FIELDS)


def _load(db: LocalDb, client: ServerClient, limit: int, progress: Progress | None) -> None:
    with db.read() as conn:
        state = sync_state.get_state(conn)
        reload = state.selling_ready and cache_reload.active(conn)
    if state.bootstrap_done:
        return
    if state.snapshot_as_of is None:
        if not reload:  # a first start: whatever the cache holds goes
            with db.write() as conn:
                cache_apply.clear_cache(conn)
                sync_state.update_state(conn, **RESET_FIELDS)
        index, after, as_of, epoch, loaded = 0, None, None, None, 0
    else:
        index = ORDER.index(state.snapshot_entity) if state.snapshot_entity else 0
        after, as_of, epoch = state.snapshot_after, state.snapshot_as_of, state.epoch
        loaded = state.snapshot_loaded_rows
    ready = state.selling_ready
    # The next page is fetched while this one is written: network and disk overlap.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot") as pool:
        fetching = pool.submit(client.snapshot, ORDER[index], after, as_of, limit)
        while index < len(ORDER):
            entity = ORDER[index]
            page = fetching.result()
            if epoch is not None and page.server_epoch != epoch:
                raise ResyncRequired("The server's data epoch changed during the bootstrap.",
                                     server_epoch=page.server_epoch)
            epoch, as_of = page.server_epoch, page.as_of_seq
            loaded += len(page.rows)
            finished = page.next_after is None
            last = finished and index == len(ORDER) - 1
            ready = ready or (finished and index >= LAST_SELLING)
            index, after = (index + 1, None) if finished else (index, page.next_after)
            if not last:
                fetching = pool.submit(client.snapshot, ORDER[index], after, as_of, limit)
            fields: dict[str, Any] = {
                "epoch": epoch, "snapshot_as_of": as_of, "snapshot_loaded_rows": loaded,
                "selling_ready": ready, "snapshot_entity": ORDER[index] if not last else None,
                "snapshot_after": after}
            if last:
                fields |= {"bootstrap_done": True, "snapshot_as_of": None,
                           "cursor": proto.encode_cursor(epoch, as_of)}
            with db.write() as conn:
                cache_apply.load_snapshot_rows(conn, entity, page.rows, index=False)
                if reload:
                    cache_reload.note(conn, entity, (row["id"] for row in page.rows))
                    if finished:
                        cache_reload.sweep(conn, entity)
                if finished and entity == SEARCHED:
                    cache_apply.rebuild_search(conn)
                if last and reload:
                    cache_reload.end(conn)
                sync_state.update_state(conn, **fields)
            if progress is not None:
                progress(BootstrapProgress(entity_type=entity, loaded_rows=loaded,
                                           total_estimate=None, selling_ready=ready,
                                           done=last))
