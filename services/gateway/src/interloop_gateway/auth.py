"""API-key authentication (`Authorization: Bearer <key>`, looked up by its SHA-256 hash) and the roles
matrix: every tenant route declares, with `@allow(...)` on its handler, which key scopes may call it.

    @allow("admin", "recruiter")
    @get("/", summary="List interviews")
    async def list(...): ...

`require_api_key` (the controllers' guard) authenticates the key and then checks the handler's declared
scopes; a tenant route that declares none is refused (fail closed), and the route-table test keeps it so."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from interloop_gateway.problems import problem
from interloop_gateway.store.tenants import Principal, authenticate, hash_key

SCOPES = frozenset({"admin", "recruiter", "interviewer", "compliance", "partner"})
PARTNER_ONLY = frozenset({"partner"})
SCOPES_OPT = "scopes"  # the handler opt `allow` writes and the guard reads

H = TypeVar("H", bound=BaseRouteHandler)


def allow(*scopes: str) -> Callable[[H], H]:
    """Declare the key scopes that may call this route (any one suffices); put it above @get/@post.
    The scopes are written into the route's OpenAPI description."""
    unknown = set(scopes) - SCOPES
    if not scopes or unknown:
        raise ValueError(f"allow() takes scopes from {sorted(SCOPES)}, got {list(scopes)}")

    def declare(handler: H) -> H:
        handler.opt[SCOPES_OPT] = frozenset(scopes)
        line = f"Requires an API key with one of the scopes: {', '.join(scopes)}."
        described = getattr(handler, "description", None)
        handler.description = f"{described}\n\n{line}" if described else line  # type: ignore[attr-defined]
        return handler

    return declare


@dataclass
class RestLimit:
    """Requests per minute per API key, and per tenant over all its keys, on this replica (moving
    windows, the `limits` library); 0 turns either off."""

    per_minute: int
    limiter: MovingWindowRateLimiter
    tenant_per_minute: int = 0

    @classmethod
    def of(cls, per_minute: int, tenant_per_minute: int = 0) -> RestLimit | None:
        if per_minute <= 0 and tenant_per_minute <= 0:
            return None
        return cls(per_minute, MovingWindowRateLimiter(MemoryStorage()), tenant_per_minute)

    def count(self, principal: Principal) -> None:
        for limit, namespace, who, whose in (
            (self.per_minute, "rest", principal.key_id, "this API key"),
            (self.tenant_per_minute, "rest-tenant", principal.tenant_id, "this tenant's keys together"),
        ):
            if limit > 0:
                self._hit(limit, namespace, who, whose)

    def _hit(self, limit: int, namespace: str, who: str, whose: str) -> None:
        item = RateLimitItemPerMinute(limit)
        if self.limiter.hit(item, namespace, who):
            return
        reset = self.limiter.get_window_stats(item, namespace, who).reset_time
        retry = max(1, math.ceil(reset - time.time()))
        raise problem(
            429,
            f"{whose} are over the limit of {limit} requests per minute; retry in {retry}s"
            if whose.endswith("together")
            else f"{whose} is over its limit of {limit} requests per minute; retry in {retry}s",
            headers={
                "Retry-After": str(retry),
                "RateLimit-Limit": str(limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(retry),
            },
        )


def allowed_scopes(handler: BaseRouteHandler) -> frozenset[str] | None:
    """The scopes a route handler declared with @allow, or None."""
    return handler.opt.get(SCOPES_OPT)


async def require_api_key(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
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
    limit = getattr(connection.app.state, "rest_limit", None)
    if limit is not None:
        limit.count(principal)
    if set(principal.scopes) <= PARTNER_ONLY:
        # A key handed to an ATS vendor opens the partner gRPC API and nothing else.
        raise problem(403, "a 'partner' key is for the partner gRPC API only; use a tenant key here")
    needed = allowed_scopes(handler)
    if needed is None and _is_preflight(handler):
        pass  # Litestar's generated OPTIONS answer: the Allow header, no tenant data
    elif not needed:
        raise problem(403, "this route declares no scopes, so no key may call it")
    elif not set(principal.scopes) & needed:
        names = sorted(needed)
        raise problem(
            403,
            f"this route needs a key with one of the scopes {', '.join(names)}; "
            f"this key has {', '.join(sorted(principal.scopes)) or 'none'}",
            extra={"required_scopes": names},
        )
    connection.scope["state"]["principal"] = principal


def _is_preflight(handler: BaseRouteHandler) -> bool:
    return set(getattr(handler, "http_methods", ())) == {"OPTIONS"}


async def verify_key(state: Any, key: str) -> Principal | None:
    """The key's principal, or None. Recently verified keys (state.verified_keys, a TTL cache by hash)
    save a database round trip per request; a revoked key stops working within the TTL. Recently refused
    ones (state.refused_keys, a short TTL) are refused without one."""
    verified = state.verified_keys
    refused = getattr(state, "refused_keys", None)
    digest = hash_key(key.strip())
    principal = verified.get(digest)
    if principal is None:
        if refused is not None and digest in refused:
            return None  # refused a moment ago: a guessing loop does not cost a query per guess
        async with state.pool.acquire() as conn:
            principal = await authenticate(conn, key.strip())
        if principal is not None:
            verified[digest] = principal
        elif refused is not None:
            refused[digest] = True
    return principal


def principal_of(connection: ASGIConnection) -> Principal:
    return connection.scope["state"]["principal"]


def actor_of(principal: Principal) -> str:
    """Who a write is recorded as: the key's verified interviewer, else the key itself (a fragment of its
    hash, never the key)."""
    return principal.interviewer_id or f"api-key:{principal.key_id[:16]}"
