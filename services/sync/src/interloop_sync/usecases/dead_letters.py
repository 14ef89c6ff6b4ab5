"""Dead letters: records a consumer gave up on after its retries, until they are replayed."""

from __future__ import annotations

import asyncpg
from interloop_common.db import tenant_tx

from interloop_sync.store import dead_letters as store
from interloop_sync.usecases import Page, page_of


async def list_open(pool: asyncpg.Pool, tenant_id: str, *, after: str, limit: int) -> Page[asyncpg.Record]:
    """The tenant's dead letters not yet replayed."""
    async with tenant_tx(pool, tenant_id) as conn:
        return page_of(await store.list_open(conn, tenant_id, after=after, limit=limit + 1), limit)
