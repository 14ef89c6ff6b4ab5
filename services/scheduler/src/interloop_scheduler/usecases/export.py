"""Access requests: everything the scheduler holds about one candidate, in the tenant's transaction:
scheduling requests (links), holds, bookings with their reminders and calendar writes."""

from __future__ import annotations

from typing import Any

import asyncpg
from interloop_common.db import tenant_tx
from interloop_common.export import gather

from interloop_scheduler.store.export import QUERIES


async def export(pool: asyncpg.Pool, tenant_id: str, candidate_id: str) -> dict[str, list[dict[str, Any]]]:
    async with tenant_tx(pool, tenant_id) as conn:
        return await gather(conn, tenant_id, candidate_id, QUERIES)
