"""API-key authentication: `Authorization: Bearer <key>`, looked up by its SHA-256 hash."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from interloop_gateway.problems import problem
from interloop_gateway.store.tenants import Principal, authenticate, hash_key

PARTNER_ONLY = frozenset({"partner"})


async def require_api_key(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    header = connection.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise problem(
            401,
            "send your API key as 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": 'Bearer realm="interloop"'},
        )
    principal = await verify_key(connection.app.state, key)
    if principal is None:
        raise problem(
            401, "unknown or revoked API key", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    if set(principal.scopes) <= PARTNER_ONLY:
        # A key handed to an ATS vendor opens the partner gRPC API and nothing else.
        raise problem(403, "a 'partner' key is for the partner gRPC API only; use a tenant key here")
    connection.scope["state"]["principal"] = principal


async def verify_key(state: Any, key: str) -> Principal | None:
    """The key's principal, or None. Recently verified keys (state.verified_keys, a TTL cache by hash)
    save a database round trip per request; a revoked key stops working within the TTL."""
    verified = state.verified_keys
    digest = hash_key(key.strip())
    principal = verified.get(digest)
    if principal is None:
        async with state.pool.acquire() as conn:
            principal = await authenticate(conn, key.strip())
        if principal is not None:
            verified[digest] = principal
    return principal


def require_any_scope(connection: ASGIConnection, *scopes: str) -> None:
    if not set(principal_of(connection).scopes) & set(scopes):
        raise problem(403, f"this resource needs one of the scopes {', '.join(sorted(scopes))}")


def principal_of(connection: ASGIConnection) -> Principal:
    return connection.scope["state"]["principal"]
