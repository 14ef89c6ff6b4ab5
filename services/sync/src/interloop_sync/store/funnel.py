"""The funnel read-model, computed from the mirror and the sync-operations log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg


@dataclass
class Funnel:
    stages: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    applications: int = 0
    hires: int = 0
    offers_resolved: int = 0
    offers_accepted: int = 0
    sync_operations: int = 0
    sync_errors: int = 0
    inbound: int = 0
    duplicates: int = 0


async def funnel(conn: asyncpg.Connection, tenant_id: str, connection_id: str = "") -> Funnel:
    cid = uuid.UUID(connection_id) if connection_id else None
    out = Funnel()
    out.stages = [
        dict(r)
        for r in await conn.fetch(
            """SELECT coalesce(stage_name, stage_id) AS stage, count(*) AS entered,
                  count(*) FILTER (WHERE outcome = 'rejected') AS dropped,
                  count(*) FILTER (WHERE left_at IS NULL) AS current,
                  coalesce(avg(extract(epoch FROM coalesce(left_at, now()) - entered_at)) / 3600, 0) AS hours
           FROM stage_history WHERE tenant_id = $1 AND ($2::uuid IS NULL OR connection_id = $2)
           GROUP BY 1 ORDER BY min(entered_at), 1""",
            tenant_id,
            cid,
        )
    ]
    out.sources = [
        dict(r)
        for r in await conn.fetch(
            """SELECT coalesce(source, 'unknown') AS source, count(*) AS applications,
                  count(*) FILTER (WHERE hired_at IS NOT NULL) AS hires
           FROM applications WHERE tenant_id = $1 AND ($2::uuid IS NULL OR connection_id = $2) AND NOT deleted
           GROUP BY 1 ORDER BY 2 DESC, 1""",
            tenant_id,
            cid,
        )
    ]
    r = await conn.fetchrow(
        """SELECT count(*) AS apps, count(*) FILTER (WHERE hired_at IS NOT NULL) AS hires FROM applications
           WHERE tenant_id = $1 AND ($2::uuid IS NULL OR connection_id = $2) AND NOT deleted""",
        tenant_id,
        cid,
    )
    out.applications, out.hires = r["apps"], r["hires"]
    r = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE status IN ('accepted', 'rejected')) AS resolved,
                  count(*) FILTER (WHERE status = 'accepted') AS accepted
           FROM offers WHERE tenant_id = $1 AND ($2::uuid IS NULL OR connection_id = $2)""",
        tenant_id,
        cid,
    )
    out.offers_resolved, out.offers_accepted = r["resolved"], r["accepted"]
    r = await conn.fetchrow(
        """SELECT count(*) AS total, count(*) FILTER (WHERE outcome = 'error') AS errors,
                  count(*) FILTER (WHERE direction = 'inbound') AS inbound,
                  count(*) FILTER (WHERE direction = 'inbound' AND outcome = 'duplicate') AS duplicates
           FROM sync_operations WHERE tenant_id = $1 AND ($2::uuid IS NULL OR connection_id = $2)""",
        tenant_id,
        cid,
    )
    out.sync_operations, out.sync_errors, out.inbound, out.duplicates = (
        r["total"],
        r["errors"],
        r["inbound"],
        r["duplicates"],
    )
    return out
