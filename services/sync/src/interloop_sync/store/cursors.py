"""Reconciliation cursors per (connection, resource): the page cursor of the run in progress, the watermark
of the last finished run, and the last error; tenant_id in every WHERE."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def start_run(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, resource: str, now: datetime
) -> tuple[str | None, datetime | None, datetime]:
    """(page cursor, updated-after watermark, run start); an interrupted run resumes with its own start."""
    row = await conn.fetchrow(
        """INSERT INTO sync_cursors (tenant_id, connection_id, resource) VALUES ($1, $2::uuid, $3)
           ON CONFLICT (tenant_id, connection_id, resource) DO UPDATE SET resource = EXCLUDED.resource
           RETURNING page_cursor, updated_after, run_started""",
        tenant_id,
        connection_id,
        resource,
    )
    started = row["run_started"] if row["page_cursor"] else now
    await conn.execute(
        """UPDATE sync_cursors SET run_started = $4
           WHERE tenant_id = $1 AND connection_id = $2::uuid AND resource = $3""",
        tenant_id,
        connection_id,
        resource,
        started,
    )
    return row["page_cursor"], row["updated_after"], started


async def save_page(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, resource: str, cursor: str | None
) -> None:
    await conn.execute(
        """UPDATE sync_cursors SET page_cursor = $4, last_error = NULL
           WHERE tenant_id = $1 AND connection_id = $2::uuid AND resource = $3""",
        tenant_id,
        connection_id,
        resource,
        cursor,
    )


async def record_error(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, resource: str, error: str
) -> None:
    await conn.execute(
        """UPDATE sync_cursors SET last_error = $4
           WHERE tenant_id = $1 AND connection_id = $2::uuid AND resource = $3""",
        tenant_id,
        connection_id,
        resource,
        error[:1000],
    )


async def finish_run(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, resource: str, started: datetime
) -> None:
    """The run is complete: no page cursor, and the next run asks for what changed since this one started."""
    await conn.execute(
        """UPDATE sync_cursors SET page_cursor = NULL, updated_after = $4, last_run_at = now()
           WHERE tenant_id = $1 AND connection_id = $2::uuid AND resource = $3""",
        tenant_id,
        connection_id,
        resource,
        started,
    )
