"""Dead letters recorded by this service's consumers."""

from __future__ import annotations

import asyncpg


async def list_open(
    conn: asyncpg.Connection, tenant_id: str, *, after: str = "", limit: int = 50
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, topic, reason, attempts, failed_at, coalesce(event_type, '') AS event_type FROM
               dead_letters
           WHERE tenant_id = $1 AND replayed_at IS NULL AND ($2 = '' OR id::text > $2)
           ORDER BY id::text LIMIT $3""",
        tenant_id,
        after,
        limit,
    )
