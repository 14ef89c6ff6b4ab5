"""Idempotency keys: one row per (tenant, API key, Idempotency-Key), holding the request's hash and, once
answered, the stored response. An attempt in progress holds a lease (`lease_until`)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Attempt:
    tenant_id: str
    principal: str
    key: str


@dataclass(frozen=True)
class Stored:
    request_hash: bytes
    # None while an attempt is in progress
    status: int | None
    response: bytes | None
    lease_lapsed: bool


async def claim(
    conn: asyncpg.Connection, a: Attempt, method: str, path: str, request_hash: bytes, lease_seconds: float
) -> bool:
    """True when this attempt is the first for its key (and now holds the lease)."""
    return bool(
        await conn.fetchval(
            """INSERT INTO idempotency_keys
                   (tenant_id, principal, key, method, path, request_hash, lease_until)
               VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
               ON CONFLICT DO NOTHING RETURNING true""",
            a.tenant_id,
            a.principal,
            a.key,
            method,
            path,
            request_hash,
            lease_seconds,
        )
    )


async def find(conn: asyncpg.Connection, a: Attempt) -> Stored | None:
    r = await conn.fetchrow(
        """SELECT request_hash, status, response, coalesce(lease_until < now(), true) AS lapsed
           FROM idempotency_keys WHERE tenant_id = $1 AND principal = $2 AND key = $3""",
        a.tenant_id,
        a.principal,
        a.key,
    )
    if r is None:
        return None
    response = None if r["response"] is None else bytes(r["response"])
    return Stored(bytes(r["request_hash"]), r["status"], response, r["lapsed"])


async def reclaim(conn: asyncpg.Connection, a: Attempt, lease_seconds: float) -> bool:
    """Take over an attempt whose lease ran out without an answer (its gateway died); True if taken."""
    return bool(
        await conn.fetchval(
            """UPDATE idempotency_keys SET lease_until = now() + make_interval(secs => $4)
               WHERE tenant_id = $1 AND principal = $2 AND key = $3 AND status IS NULL
                 AND coalesce(lease_until < now(), true)
               RETURNING true""",
            a.tenant_id,
            a.principal,
            a.key,
            lease_seconds,
        )
    )


async def release(conn: asyncpg.Connection, a: Attempt) -> None:
    """Forget a failed attempt, so it may be retried with the same key."""
    await conn.execute(
        """DELETE FROM idempotency_keys
           WHERE tenant_id = $1 AND principal = $2 AND key = $3 AND status IS NULL""",
        a.tenant_id,
        a.principal,
        a.key,
    )


async def answer(conn: asyncpg.Connection, a: Attempt, status: int, response: bytes) -> None:
    await conn.execute(
        """UPDATE idempotency_keys SET status = $4, response = $5, lease_until = NULL
           WHERE tenant_id = $1 AND principal = $2 AND key = $3""",
        a.tenant_id,
        a.principal,
        a.key,
        status,
        response,
    )
