"""`Idempotency-Key` on unsafe methods (Stripe semantics): the first response for a key is stored and
replayed for retries with the same body; the same key with a different body is a 422."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from litestar import Request, Response

from interloop_gateway.problems import problem

MAX_KEY_LENGTH = 255


async def run_idempotent(
    request: Request, tenant_id: str, body: bytes, action: Callable[[], Awaitable[tuple[int, Any]]]
) -> Response:
    key = request.headers.get("idempotency-key")
    if key is None:
        status, content = await action()
        return Response(content, status_code=status)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise problem(400, f"Idempotency-Key must be 1..{MAX_KEY_LENGTH} characters")
    pool: asyncpg.Pool = request.app.state.pool
    digest = hashlib.sha256(request.method.encode() + request.url.path.encode() + b"\0" + body).digest()
    async with pool.acquire() as conn:
        inserted = await conn.fetchval(
            """INSERT INTO idempotency_keys (tenant_id, key, method, path, request_hash)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT DO NOTHING RETURNING true""",
            tenant_id,
            key,
            request.method,
            request.url.path,
            digest,
        )
        if not inserted:
            row = await conn.fetchrow(
                """SELECT request_hash, status, response FROM idempotency_keys
                   WHERE tenant_id = $1 AND key = $2""",
                tenant_id,
                key,
            )
            if bytes(row["request_hash"]) != digest:
                raise problem(422, "this Idempotency-Key was already used with a different request")
            if row["status"] is None:
                raise problem(409, "a request with this Idempotency-Key is still in progress; retry later")
            return Response(
                json.loads(row["response"]),
                status_code=row["status"],
                headers={"Idempotent-Replayed": "true"},
            )
    try:
        status, content = await action()
    except Exception:
        async with pool.acquire() as conn:  # a failed attempt may be retried with the same key
            await conn.execute(
                "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2", tenant_id, key
            )
        raise
    response = Response(content, status_code=status)
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE idempotency_keys SET status = $3, response = $4 WHERE tenant_id = $1 AND key = $2",
            tenant_id,
            key,
            status,
            json.dumps(content, default=str).encode(),
        )
    return response
