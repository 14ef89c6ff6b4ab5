"""The hiring funnel read-model: stages entered and left, sources, offers, and the sync's own error rate."""

from __future__ import annotations

import asyncpg
from interloop_common.db import tenant_tx

from interloop_sync.store import funnel as store
from interloop_sync.store.funnel import Funnel


async def funnel(pool: asyncpg.Pool, tenant_id: str, connection_id: str) -> Funnel:
    """The tenant's funnel, over one connection when ``connection_id`` is set."""
    async with tenant_tx(pool, tenant_id) as conn:
        return await store.funnel(conn, tenant_id, connection_id)
