"""Access requests: everything sync holds about one candidate (the remote id every connection shares), in the
tenant's transaction: the mirror (candidate, applications, stage history, offers), HRIS hand-offs,
outcomes, planned and sent messages, and erasure requests."""

from __future__ import annotations

from typing import Any

import asyncpg
from interloop_common.db import tenant_tx
from interloop_common.export import gather

from interloop_sync.store.export import QUERIES


async def export(pool: asyncpg.Pool, tenant_id: str, candidate_id: str) -> dict[str, list[dict[str, Any]]]:
    async with tenant_tx(pool, tenant_id) as conn:
        return await gather(conn, tenant_id, candidate_id, QUERIES)
