"""Post-hire outcomes recorded through sync, one row per observation."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def record(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    candidate_id: str,
    job_id: str,
    application_id: str,
    outcome: str,
    value: float,
    recorded_at: datetime,
    event_id: str,
) -> tuple[str, bool]:
    """(event id, duplicate?): the same observation recorded again keeps its first event id."""
    inserted = await conn.fetchval(
        """INSERT INTO outcomes (tenant_id, candidate_id, job_id, outcome, recorded_at, application_id, value,
               event_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING event_id""",
        tenant_id,
        candidate_id,
        job_id,
        outcome,
        recorded_at,
        application_id,
        value,
        uuid.UUID(event_id),
    )
    if inserted is not None:
        return str(inserted), False
    existing = await conn.fetchval(
        """SELECT event_id FROM outcomes WHERE tenant_id = $1 AND candidate_id = $2 AND job_id = $3
             AND outcome = $4 AND recorded_at = $5""",
        tenant_id,
        candidate_id,
        job_id,
        outcome,
        recorded_at,
    )
    return str(existing), True
