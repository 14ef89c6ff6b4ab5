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
        """UPDATE sync_cursors SET run_started = $4,
               run_pages = CASE WHEN page_cursor IS NULL THEN 0 ELSE run_pages END
           WHERE tenant_id = $1 AND connection_id = $2::uuid AND resource = $3""",
        tenant_id,
        connection_id,
        resource,
        started,
    )
    return row["page_cursor"], row["updated_after"], started


async def save_page(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, resource: str, cursor: str | None
) -> int:
    """The next page's cursor (None: the run has read its last page); the pages the run has read so far."""
    return int(
        await conn.fetchval(
            """UPDATE sync_cursors SET page_cursor = $4, last_error = NULL, run_pages = run_pages + 1
               WHERE tenant_id = $1 AND connection_id = $2::uuid AND resource = $3 RETURNING run_pages""",
            tenant_id,
            connection_id,
            resource,
            cursor,
        )
        or 0
    )


async def record_error(
    conn: asyncpg.Connection,
    tenant_id: str,
    connection_id: str,
    resource: str,
    error: str,
    *,
    abandon_run: bool = False,
) -> bool:
    """The run's last error (the row is made if the run never started); True when it differs from the one
    stored (a new failure, worth an alert, rather than the same one again next round). ``abandon_run``
    drops the page cursor: the next run starts again from the last finished run's watermark."""
    previous = await conn.fetchrow(
        """SELECT last_error FROM sync_cursors
           WHERE tenant_id = $1 AND connection_id = $2::uuid AND resource = $3""",
        tenant_id,
        connection_id,
        resource,
    )
    await conn.execute(
        """INSERT INTO sync_cursors (tenant_id, connection_id, resource, last_error)
           VALUES ($1, $2::uuid, $3, $4)
           ON CONFLICT (tenant_id, connection_id, resource) DO UPDATE SET last_error = EXCLUDED.last_error,
               page_cursor = CASE WHEN $5 THEN NULL ELSE sync_cursors.page_cursor END,
               run_pages = CASE WHEN $5 THEN 0 ELSE sync_cursors.run_pages END""",
        tenant_id,
        connection_id,
        resource,
        error[:1000],
        abandon_run,
    )
    return previous is None or previous["last_error"] != error[:1000]


async def finish_run(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, resource: str, started: datetime
) -> None:
    """The run is complete: no page cursor, and the next run asks for what changed since this one started."""
    await conn.execute(
        """UPDATE sync_cursors SET page_cursor = NULL, updated_after = $4, last_run_at = now(), run_pages = 0
           WHERE tenant_id = $1 AND connection_id = $2::uuid AND resource = $3""",
        tenant_id,
        connection_id,
        resource,
        started,
    )
