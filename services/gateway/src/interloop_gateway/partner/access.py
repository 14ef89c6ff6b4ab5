"""Who is calling the partner API, for which tenant, with which grant scopes — and whether it is over its
rate limit.

A registered partner presents its own key (`authorization: Bearer ilp_...`) and names the tenant it acts
for (`x-tenant-id`); it may only while that tenant's grant stands, within the grant's scopes. A tenant's
own key with scope "partner" or "admin" is the tenant acting for itself and holds every grant scope.
Verified keys and grants are cached briefly (settings.api_key_cache_seconds): a revocation reaches this
pod at once and every other pod within that TTL."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from interloop_common.errors import Forbidden, RateLimited, Unauthenticated, Unavailable
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from interloop_gateway.auth import actor_of, verify_key
from interloop_gateway.store import partners as store
from interloop_gateway.store.tenants import hash_key

TENANT_KEY_SCOPES = ("partner", "admin")
# A tenant key acting for itself: the rate limit of a registered partner by default.
TENANT_KEY_CALLS_PER_MINUTE = 600


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    # The registered partner, or "" for a tenant's own key.
    partner_id: str
    # Grant scopes: read, schedule, push, subscribe.
    scopes: tuple[str, ...]
    # Who the audit trail and logs name: "partner:<id>" or the tenant key's fragment.
    actor: str
    # The key's own scopes as issued (a tenant key's; a partner key has none of its own).
    key_scopes: tuple[str, ...] = ()


class Access:
    """Authenticates partner calls and counts them against each caller's limit (this pod's share)."""

    def __init__(self, state: Any, cache_seconds: float) -> None:
        self._state = state
        self._partners: TTLCache[bytes, store.Partner | None] = TTLCache(maxsize=10_000, ttl=cache_seconds)
        self.grants: TTLCache[tuple[str, str], store.Grant | None] = TTLCache(
            maxsize=10_000, ttl=cache_seconds
        )
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def caller(
        self, metadata: dict[str, str], needs: frozenset[str], *, peer_cn: str | None = None
    ) -> Caller:
        """``peer_cn``: the subject CN of the client certificate the TLS layer verified, if any."""
        state = self._state
        if not hasattr(state, "pool"):
            raise Unavailable("the gateway is starting; retry shortly")
        scheme, _, key = str(metadata.get("authorization", "")).partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise Unauthenticated("send a partner key as 'authorization: Bearer <key>'")
        if key.startswith(store.KEY_PREFIX):
            caller, per_minute = await self._partner(
                key, str(metadata.get("x-tenant-id", "")).strip(), peer_cn
            )
        else:
            principal = await verify_key(state, key)
            if principal is None:
                raise Unauthenticated("unknown or revoked API key")
            if not set(principal.scopes) & set(TENANT_KEY_SCOPES):
                raise Forbidden(
                    "the partner API needs a partner key, or a tenant key with scope partner or admin"
                )
            caller = Caller(
                principal.tenant_id, "", store.GRANT_SCOPES, actor_of(principal), tuple(principal.scopes)
            )
            per_minute = TENANT_KEY_CALLS_PER_MINUTE
        if not set(caller.scopes) & needs:
            raise Forbidden(
                f"this call needs a grant with one of the scopes {', '.join(sorted(needs))}; "
                f"this grant has {', '.join(caller.scopes)}"
            )
        self._count(caller, per_minute)
        return caller

    async def _partner(self, key: str, tenant_id: str, peer_cn: str | None) -> tuple[Caller, int]:
        digest = hash_key(key)
        if digest in self._partners:
            partner = self._partners[digest]
        else:
            async with self._state.pool.acquire() as conn:
                partner = await store.authenticate(conn, key)
            self._partners[digest] = partner
        if partner is None:
            raise Unauthenticated("unknown or revoked partner key")
        if partner.client_cert_subject and peer_cn != partner.client_cert_subject:
            # the key alone is not enough for a partner bound to its certificate (a leaked key is refused)
            raise Unauthenticated(f"partner {partner.id!r} must call with its client certificate")
        if not tenant_id:
            raise Forbidden("name the tenant you act for in the 'x-tenant-id' metadata")
        grant = await self.grant(tenant_id, partner.id)
        if grant is None:
            # The same answer whether the tenant exists or not: a partner learns nothing of other tenants.
            raise Forbidden(f"partner {partner.id!r} has no grant from tenant {tenant_id!r}")
        return Caller(tenant_id, partner.id, grant.scopes, f"partner:{partner.id}"), partner.calls_per_minute

    async def grant(self, tenant_id: str, partner_id: str) -> store.Grant | None:
        """The standing grant (cached briefly), or None."""
        if (tenant_id, partner_id) in self.grants:
            return self.grants[(tenant_id, partner_id)]
        async with self._state.pool.acquire() as conn:
            grant = await store.get_grant(conn, tenant_id, partner_id)
        self.grants[(tenant_id, partner_id)] = grant
        return grant

    def _count(self, caller: Caller, per_minute: int) -> None:
        item = RateLimitItemPerMinute(per_minute)
        who = caller.partner_id or caller.actor
        if self._limiter.hit(item, "partner-api", who):
            return
        stats = self._limiter.get_window_stats(item, "partner-api", who)
        retry_after = max(0.001, stats.reset_time - time.time())
        raise RateLimited(
            f"{who} is over its limit of {per_minute} calls per minute; retry in {retry_after:.1f}s",
            retry_after,
        )
