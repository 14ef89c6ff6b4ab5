"""Retention policies, legal holds and purge reports (migration 0007)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

DEFAULT_KEEP_DAYS = 365  # EEOC (29 CFR 1602.14): one year from the making of the record or the action
FEDERAL_CONTRACTOR_DAYS = 730  # OFCCP (41 CFR 60-1.12): two years for contractors with 150+ employees


async def policy(conn: asyncpg.Connection, tenant_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM retention_policies WHERE tenant_id = $1", tenant_id)


def keep_days(row: asyncpg.Record | None) -> int:
    """The days a closed application's records are kept: the policy's, never under the statutory floor."""
    days = row["keep_days"] if row else DEFAULT_KEEP_DAYS
    if row and row["federal_contractor"]:
        days = max(days, FEDERAL_CONTRACTOR_DAYS)
    return int(days)


async def set_policy(
    conn: asyncpg.Connection, tenant_id: str, days: int, federal_contractor: bool, by: str
) -> asyncpg.Record:
    return await conn.fetchrow(
        """INSERT INTO retention_policies (tenant_id, keep_days, federal_contractor, updated_by)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (tenant_id) DO UPDATE SET keep_days = EXCLUDED.keep_days,
               federal_contractor = EXCLUDED.federal_contractor, updated_by = EXCLUDED.updated_by,
               updated_at = now()
           RETURNING *""",
        tenant_id,
        days,
        federal_contractor,
        by,
    )


async def place_hold(
    conn: asyncpg.Connection, tenant_id: str, scope: str, subject: str, reason: str, by: str
) -> asyncpg.Record:
    return await conn.fetchrow(
        """INSERT INTO legal_holds (tenant_id, id, scope, subject, reason, placed_by)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        tenant_id,
        uuid.uuid4(),
        scope,
        subject,
        reason,
        by,
    )


async def release_hold(
    conn: asyncpg.Connection, tenant_id: str, hold_id: uuid.UUID, by: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """UPDATE legal_holds SET released_at = now(), released_by = $3
           WHERE tenant_id = $1 AND id = $2 AND released_at IS NULL RETURNING *""",
        tenant_id,
        hold_id,
        by,
    )


async def holds(conn: asyncpg.Connection, tenant_id: str, *, active_only: bool) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT * FROM legal_holds WHERE tenant_id = $1 AND ($2 = false OR released_at IS NULL)
           ORDER BY placed_at""",
        tenant_id,
        active_only,
    )


async def holds_on(conn: asyncpg.Connection, tenant_id: str, candidate_id: str) -> list[str]:
    """The reasons of the active holds that cover a candidate: on them, on a job they applied to, on the
    tenant."""
    rows = await conn.fetch(
        """SELECT h.scope, h.subject, h.reason FROM legal_holds h
           WHERE h.tenant_id = $1 AND h.released_at IS NULL AND (
               h.scope = 'tenant'
               OR (h.scope = 'candidate' AND h.subject = $2)
               OR (h.scope = 'job' AND EXISTS (
                   SELECT 1 FROM applications a WHERE a.tenant_id = $1 AND a.candidate_remote_id = $2
                     AND h.subject = ANY(a.job_ids))))
           ORDER BY h.placed_at""",
        tenant_id,
        candidate_id,
    )
    return [f"{r['scope']}{' ' + r['subject'] if r['subject'] else ''}: {r['reason']}" for r in rows]


async def due(conn: asyncpg.Connection, tenant_id: str, before: datetime) -> list[asyncpg.Record]:
    """Candidates (not erased yet) every one of whose applications closed (hired, rejected or deleted)
    before `before`: their records have been kept as long as the policy asks."""
    return await conn.fetch(
        """SELECT a.candidate_remote_id AS candidate_id, max(coalesce(a.hired_at, a.rejected_at)) AS closed_at
           FROM applications a
           WHERE a.tenant_id = $1 AND a.candidate_remote_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM erased_candidates e
                             WHERE e.tenant_id = $1 AND e.candidate_id = a.candidate_remote_id)
           GROUP BY a.candidate_remote_id
           HAVING bool_and(a.deleted OR a.hired_at IS NOT NULL OR a.rejected_at IS NOT NULL)
              AND max(coalesce(a.hired_at, a.rejected_at)) < $2
           ORDER BY 2, 1""",
        tenant_id,
        before,
    )


async def record_purge(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    by: str,
    dry_run: bool,
    days: int,
    purged: list[dict[str, Any]],
    held: list[dict[str, Any]],
) -> asyncpg.Record:
    return await conn.fetchrow(
        """INSERT INTO retention_purges (tenant_id, id, ran_by, dry_run, keep_days, purged, held)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb) RETURNING *""",
        tenant_id,
        uuid.uuid4(),
        by,
        dry_run,
        days,
        json.dumps(purged),
        json.dumps(held),
    )


async def tenants_with_applications(conn: asyncpg.Connection) -> list[str]:
    """System scope: the tenants a scheduled purge looks at."""
    return [r[0] for r in await conn.fetch("SELECT DISTINCT tenant_id FROM applications")]


async def try_lock(conn: asyncpg.Connection, key: int) -> bool:
    """A session-level advisory lock on `key`, if no other session holds it."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))


async def unlock(conn: asyncpg.Connection, key: int) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", key)
