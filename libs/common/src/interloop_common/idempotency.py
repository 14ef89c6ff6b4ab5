"""Idempotent RPCs: a call that carries an `idempotency-key` (gRPC metadata) runs once per tenant, method
and key, on the backend's side of a timeout.

    @idempotency.once(pb.CreateTemplateResponse)
    async def CreateTemplate(self, request, context): ...

The key, the digest of the request and the response are recorded in the same transaction as the call's
own writes (the use case's `tenant_tx` joins it: `db.enclosing_tx`), so

- a retry after the caller timed out once the call had committed (the gateway's deadline; the answer lost
  on the way) gets the first response again instead of running twice;
- a retry that arrives while the first attempt still runs waits for it on the key's row, then gets its
  response (or runs, when the first rolled back);
- a failed attempt leaves no record: its retry runs;
- the same key with another request is refused (FAILED_PRECONDITION), never answered with another's result.

The servicer holds the service's pool as `pool`. Records are swept after `retention_idempotency_hours`
(interloop_common.retention). Only for use cases whose transactions run one after another."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from interloop_common import db
from interloop_common.errors import ConcurrentChange, Conflict

METADATA = "idempotency-key"
MAX_KEY_LENGTH = 255

M = TypeVar("M", bound=Message)
Method = Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[M]]


def key_of(context: grpc.aio.ServicerContext) -> str:
    """The call's idempotency key, or "" when it carries none."""
    for name, value in context.invocation_metadata() or ():
        if name == METADATA and isinstance(value, str):
            return value
    return ""


def once(response_type: type[M]) -> Callable[[Method[M]], Method[M]]:
    """Make a servicer method idempotent by the call's key (calls without one run as before)."""

    def wrap(method: Method[M]) -> Method[M]:
        name = method.__name__

        @functools.wraps(method)
        async def rpc(self: Any, request: Any, context: grpc.aio.ServicerContext) -> M:
            key = key_of(context)
            tenant_id = getattr(request, "tenant_id", "")
            if not key or not tenant_id:
                return await method(self, request, context)
            if len(key) > MAX_KEY_LENGTH:
                raise Conflict(f"{METADATA} must be at most {MAX_KEY_LENGTH} characters")
            digest = hashlib.sha256(request.SerializeToString(deterministic=True)).digest()
            async with db.enclosing_tx(self.pool, tenant_id) as conn:
                # a concurrent first attempt holds this row until it commits or rolls back: wait for it
                claimed = await conn.fetchval(
                    "INSERT INTO idempotent_calls (tenant_id, method, key, request_digest)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
                    tenant_id,
                    name,
                    key,
                    digest,
                )
                if not claimed:
                    first = await conn.fetchrow(
                        "SELECT request_digest, response FROM idempotent_calls"
                        " WHERE tenant_id = $1 AND method = $2 AND key = $3",
                        tenant_id,
                        name,
                        key,
                    )
                    if first is None:  # swept between the two statements (a day later)
                        raise ConcurrentChange(f"this {METADATA} expired meanwhile; retry")
                    if first["request_digest"] != digest:
                        raise Conflict(f"this {METADATA} was already used with a different {name} request")
                    return response_type.FromString(first["response"])
                response = await method(self, request, context)
                await conn.execute(
                    "UPDATE idempotent_calls SET response = $4"
                    " WHERE tenant_id = $1 AND method = $2 AND key = $3",
                    tenant_id,
                    name,
                    key,
                    response.SerializeToString(),
                )
            return response

        return rpc

    return wrap
