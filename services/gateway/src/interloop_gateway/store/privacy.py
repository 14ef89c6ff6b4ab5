"""Access requests (migration 0007): who asked for whose data when, the deadline, and when it was met."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg

# GDPR Art. 12(3): one month (CCPA allows 45 days; the stricter one applies to everyone).
DEADLINE = timedelta(days=30)


async def create(
    conn: asyncpg.Connection,
    tenant_id: str,
    candidate_id: str,
    requested_by: str,
    at: datetime,
    counts: dict[str, dict[str, int]],
) -> asyncpg.Record:
    return await conn.fetchrow(
        """INSERT INTO privacy_exports (tenant_id, id, candidate_id, requested_by, requested_at, due_by,
               fulfilled_at, counts)
           VALUES ($1, $2, $3, $4, $5, $6, $5, $7::jsonb) RETURNING *""",
        tenant_id,
        uuid.uuid4(),
        candidate_id,
        requested_by,
        at,
        at + DEADLINE,
        json.dumps(counts),
    )


async def get(conn: asyncpg.Connection, tenant_id: str, export_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM privacy_exports WHERE tenant_id = $1 AND id = $2", tenant_id, export_id
    )


GATEWAY_QUERIES: dict[str, str] = {
    "audit_log": """SELECT * FROM audit_log WHERE tenant_id = $1 AND target = 'candidate/' || $2
        ORDER BY id""",
    "privacy_exports": """SELECT id, candidate_id, requested_by, requested_at, due_by, fulfilled_at
        FROM privacy_exports WHERE tenant_id = $1 AND candidate_id = $2 ORDER BY requested_at""",
}


def counts_of(bundle: dict[str, dict[str, list[Any]]]) -> dict[str, dict[str, int]]:
    return {svc: {table: len(rows) for table, rows in tables.items()} for svc, tables in bundle.items()}
