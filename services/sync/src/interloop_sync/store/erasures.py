"""Erasure requests and their per-service steps (migration 0006)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

SERVICES = ("sync", "scheduler", "scorecard")


async def create(
    conn: asyncpg.Connection, tenant_id: str, candidate_id: str, requested_by: str, reason: str
) -> uuid.UUID:
    erasure_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO erasure_requests (tenant_id, id, candidate_id, requested_by, reason)
           VALUES ($1, $2, $3, $4, $5)""",
        tenant_id,
        erasure_id,
        candidate_id,
        requested_by,
        reason,
    )
    await conn.executemany(
        "INSERT INTO erasure_steps (tenant_id, erasure_id, service) VALUES ($1, $2, $3)",
        [(tenant_id, erasure_id, s) for s in SERVICES],
    )
    return erasure_id


async def add_step(conn: asyncpg.Connection, tenant_id: str, erasure_id: uuid.UUID, service: str) -> None:
    await conn.execute(
        """INSERT INTO erasure_steps (tenant_id, erasure_id, service) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING""",
        tenant_id,
        erasure_id,
        service,
    )


async def step_done(
    conn: asyncpg.Connection,
    tenant_id: str,
    erasure_id: uuid.UUID,
    service: str,
    at: datetime,
    *,
    outcome: str = "done",
    detail: str = "",
) -> bool:
    """Mark one step finished (the first answer counts): done, or not_supported / failed with why;
    completes the request when it was the last. False when no such request or step exists here."""
    found = await conn.fetchval(
        """UPDATE erasure_steps SET done_at = COALESCE(done_at, $4), outcome = COALESCE(outcome, $5),
               detail = CASE WHEN outcome IS NULL THEN $6 ELSE detail END
           WHERE tenant_id = $1 AND erasure_id = $2 AND service = $3 RETURNING true""",
        tenant_id,
        erasure_id,
        service,
        at,
        outcome,
        detail,
    )
    await conn.execute(
        """UPDATE erasure_requests r SET status = 'completed', completed_at = $3
           WHERE r.tenant_id = $1 AND r.id = $2 AND r.status = 'pending'
             AND NOT EXISTS (SELECT 1 FROM erasure_steps s
                             WHERE s.tenant_id = $1 AND s.erasure_id = $2 AND s.done_at IS NULL)""",
        tenant_id,
        erasure_id,
        at,
    )
    return bool(found)


async def get(
    conn: asyncpg.Connection, tenant_id: str, erasure_id: uuid.UUID
) -> tuple[asyncpg.Record, list[asyncpg.Record]] | None:
    row = await conn.fetchrow(
        "SELECT * FROM erasure_requests WHERE tenant_id = $1 AND id = $2", tenant_id, erasure_id
    )
    if row is None:
        return None
    steps = await conn.fetch(
        """SELECT service, done_at, outcome, detail FROM erasure_steps
           WHERE tenant_id = $1 AND erasure_id = $2
           ORDER BY array_position($3::text[], service) NULLS LAST, service""",
        tenant_id,
        erasure_id,
        list(SERVICES),
    )
    return row, steps


async def connections_holding(conn: asyncpg.Connection, tenant_id: str, candidate_id: str) -> list[str]:
    """The connections whose mirror holds a candidate with this remote id."""
    rows = await conn.fetch(
        "SELECT connection_id FROM candidates WHERE tenant_id = $1 AND remote_id = $2",
        tenant_id,
        candidate_id,
    )
    return [str(r["connection_id"]) for r in rows]
