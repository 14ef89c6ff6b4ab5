"""Access requests: everything the scheduler holds about one candidate, in the tenant's transaction:
scheduling requests (links), holds, bookings with their reminders and calendar writes."""

from __future__ import annotations

from typing import Any

import asyncpg
from interloop_common.db import tenant_tx
from interloop_common.export import gather

QUERIES = {
    "scheduling_links": "SELECT * FROM scheduling_links WHERE tenant_id = $1 AND candidate_id = $2",
    "holds": """SELECT * FROM holds WHERE tenant_id = $1 AND link_id IN
        (SELECT id FROM scheduling_links WHERE tenant_id = $1 AND candidate_id = $2)""",
    "bookings": "SELECT * FROM bookings WHERE tenant_id = $1 AND candidate_id = $2",
    "reminders": """SELECT * FROM reminders WHERE tenant_id = $1 AND booking_id IN
        (SELECT id FROM bookings WHERE tenant_id = $1 AND candidate_id = $2)""",
    "calendar_writes": """SELECT * FROM calendar_writes WHERE tenant_id = $1 AND booking_id IN
        (SELECT id FROM bookings WHERE tenant_id = $1 AND candidate_id = $2)""",
    "erased_candidates": "SELECT * FROM erased_candidates WHERE tenant_id = $1 AND candidate_id = $2",
}


async def export(pool: asyncpg.Pool, tenant_id: str, candidate_id: str) -> dict[str, list[dict[str, Any]]]:
    async with tenant_tx(pool, tenant_id) as conn:
        return await gather(conn, tenant_id, candidate_id, QUERIES)
