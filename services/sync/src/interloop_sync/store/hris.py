"""The ATS->HRIS hand-off rows, conflicts and write-back rows (claimed before any vendor call)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from interloop_sync.domain.jsonable import dumps


async def get_sync(conn: asyncpg.Connection, tenant_id: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM hris_syncs WHERE tenant_id = $1 AND idempotency_key = $2", tenant_id, key
    )


async def claim_sync(
    conn: asyncpg.Connection,
    tenant_id: str,
    key: str,
    hris_id: str,
    ats_id: str,
    app_id: str,
    fields: dict[str, Any],
    status: str = "writing",
) -> int:
    return await conn.fetchval(
        """INSERT INTO hris_syncs (tenant_id, idempotency_key, hris_connection_id, ats_connection_id,
               application_id,
               status, fields, attempts)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, 1)
           ON CONFLICT (tenant_id, idempotency_key) DO UPDATE SET attempts = hris_syncs.attempts + 1,
               status = CASE WHEN hris_syncs.remote_id IS NULL THEN EXCLUDED.status ELSE
                   hris_syncs.status END,
               fields = EXCLUDED.fields, updated_at = now()
           RETURNING attempts""",
        tenant_id,
        key,
        uuid.UUID(hris_id),
        uuid.UUID(ats_id),
        app_id,
        status,
        dumps(fields),
    )


async def update_sync(conn: asyncpg.Connection, tenant_id: str, key: str, **values: Any) -> None:
    sets, args = [], [tenant_id, key]
    for name, value in values.items():
        args.append(dumps(value) if name in ("fields", "baseline", "mismatches") else value)
        cast = "::jsonb" if name in ("fields", "baseline", "mismatches") else ""
        sets.append(f"{name} = ${len(args)}{cast}")
    await conn.execute(
        # Column names come from the code's keyword arguments, never from input; values are parameters.
        f"""UPDATE hris_syncs SET {", ".join(sets)}, updated_at = now()
            WHERE tenant_id = $1 AND idempotency_key = $2""",  # noqa: S608
        *args,
    )


async def record_failure(conn: asyncpg.Connection, tenant_id: str, key: str, error: str) -> int:
    """One more failed attempt at an existing record; returns the count."""
    return int(
        await conn.fetchval(
            """UPDATE hris_syncs SET attempts = attempts + 1, last_error = $3, updated_at = now()
               WHERE tenant_id = $1 AND idempotency_key = $2 RETURNING attempts""",
            tenant_id,
            key,
            error,
        )
    )


async def add_conflict(
    conn: asyncpg.Connection, tenant_id: str, key: str, field: str, baseline: Any, ats: Any, hris: Any
) -> None:
    await conn.execute(
        """INSERT INTO sync_conflicts (tenant_id, id, idempotency_key, field, baseline, ats_value, hris_value)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb)""",
        tenant_id,
        uuid.uuid4(),
        key,
        field,
        dumps(baseline),
        dumps(ats),
        dumps(hris),
    )


async def get_writeback(conn: asyncpg.Connection, tenant_id: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM writebacks WHERE tenant_id = $1 AND idempotency_key = $2", tenant_id, key
    )


async def claim_writeback(
    conn: asyncpg.Connection,
    tenant_id: str,
    key: str,
    connection_id: str,
    kind: str,
    target: str,
    payload: dict[str, Any],
    status: str = "writing",
    attempts: int = 1,
) -> int:
    """The write's row, once per key (``status`` pending and no attempts when it is only planned); a
    claim of an existing row counts an attempt and moves a planned write to writing."""
    return await conn.fetchval(
        """INSERT INTO writebacks (tenant_id, idempotency_key, connection_id, kind, target, payload,
               status, attempts)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
           ON CONFLICT (tenant_id, idempotency_key) DO UPDATE SET attempts = writebacks.attempts + 1,
               status = CASE WHEN writebacks.status = 'pending' THEN 'writing' ELSE writebacks.status END
           RETURNING attempts""",
        tenant_id,
        key,
        uuid.UUID(connection_id),
        kind,
        target,
        dumps(payload),
        status,
        attempts,
    )


async def finish_writeback(
    conn: asyncpg.Connection, tenant_id: str, key: str, status: str, result: Any
) -> None:
    await conn.execute(
        """UPDATE writebacks SET status = $3, result = $4::jsonb, written_at = now()
           WHERE tenant_id = $1 AND idempotency_key = $2""",
        tenant_id,
        key,
        status,
        json.dumps(result, default=str),
    )


async def booking_application(
    conn: asyncpg.Connection, tenant_id: str, booking_id: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT connection_id, target FROM writebacks WHERE tenant_id = $1 AND kind = 'custom_fields'
           AND payload->>'booking_id' = $2 ORDER BY created_at LIMIT 1""",
        tenant_id,
        booking_id,
    )


async def ats_records_of_candidate(
    conn: asyncpg.Connection, tenant_id: str, candidate_id: str
) -> list[asyncpg.Record]:
    """Where an Interloop candidate id (the ATS remote id the scheduler was given) lives in the mirror."""
    return await conn.fetch(
        """SELECT c.connection_id, c.remote_id,
                  (SELECT a.remote_id FROM applications a WHERE a.tenant_id = c.tenant_id
                     AND a.connection_id = c.connection_id AND a.candidate_remote_id = c.remote_id AND
                         NOT a.deleted
                   ORDER BY a.updated_at DESC LIMIT 1) AS application_id
           FROM candidates c WHERE c.tenant_id = $1 AND c.remote_id = $2 AND NOT c.deleted""",
        tenant_id,
        candidate_id,
    )
