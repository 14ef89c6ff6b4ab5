"""REST: the registered partners (ATS vendors on the partner gRPC API) and the grants a tenant admin gives
and revokes. A partner acts for a tenant only while its grant stands, and only within its scopes."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, put
from litestar.params import Parameter

from interloop_gateway.auth import actor_of, allow, principal_of, require_api_key
from interloop_gateway.domain.partners import schemas
from interloop_gateway.idempotency import idempotent
from interloop_gateway.problems import problem
from interloop_gateway.store import partners as store
from interloop_gateway.wire import Page, iso

PartnerId = Annotated[str, Parameter(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", max_length=63)]


def _grant_out(g: store.Grant) -> schemas.GrantOut:
    return schemas.GrantOut(g.partner_id, g.partner_name, list(g.scopes), g.granted_by, iso(g.granted_at))


class PartnersController(Controller):
    path = "/v1/partners"
    tags = ["partners"]
    guards = [require_api_key]

    @allow("admin")
    @get("/", summary="The partners registered on this platform, which a tenant may grant access")
    async def list(self, request: Request) -> schemas.PartnersPage:
        async with request.app.state.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT id, name, calls_per_minute FROM partners WHERE disabled_at IS NULL ORDER BY id"
            )
        return Page([schemas.PartnerOut(r["id"], r["name"], r["calls_per_minute"]) for r in rows], None)


class PartnerGrantsController(Controller):
    path = "/v1/partner-grants"
    tags = ["partners"]
    guards = [require_api_key]

    @allow("admin")
    @get("/", summary="The partners acting for this tenant, with their scopes")
    async def list(self, request: Request) -> schemas.GrantsPage:
        async with request.app.state.pool.acquire() as conn:
            grants = await store.list_grants(conn, principal_of(request).tenant_id)
        return Page([_grant_out(g) for g in grants], None)

    @allow("admin")
    @put("/{partner_id:str}", summary="Grant a partner access to this tenant (or change its scopes)")
    @idempotent
    async def grant(self, request: Request, partner_id: PartnerId, data: schemas.GrantIn) -> schemas.GrantOut:
        principal = principal_of(request)
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            if not await store.exists(conn, partner_id):
                raise problem(404, f"no registered partner {partner_id!r}")
            g = await store.grant(
                conn, principal.tenant_id, partner_id, list(data.scopes), actor_of(principal)
            )
        request.app.state.partner_access.grants.clear()  # this pod now; the others within the cache TTL
        return _grant_out(g)

    @allow("admin")
    @delete("/{partner_id:str}", summary="Revoke a partner's access to this tenant", status_code=200)
    @idempotent
    async def revoke(self, request: Request, partner_id: PartnerId) -> schemas.GrantRevokedOut:
        principal = principal_of(request)
        async with request.app.state.pool.acquire() as conn:
            revoked = await store.revoke(conn, principal.tenant_id, partner_id, actor_of(principal))
        if not revoked:
            raise problem(404, f"partner {partner_id!r} has no grant from this tenant")
        request.app.state.partner_access.grants.clear()
        return schemas.GrantRevokedOut(partner_id, True)


CONTROLLERS = [PartnersController, PartnerGrantsController]
