"""REST: retention (how long a tenant keeps a candidate's records after every application closed) and legal
holds (on a candidate, a job or the tenant), and the purge that honours them."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from interloop.sync.v1 import sync_pb2 as pb
from litestar import Controller, Request, delete, get, post, put

from interloop_gateway.auth import actor_of, allow, principal_of, require_api_key
from interloop_gateway.idempotency import idempotent
from interloop_gateway.wire import Timestamp, pb_iso


class RetentionIn(msgspec.Struct):
    keep_days: Annotated[int, msgspec.Meta(ge=1, le=36500)]
    federal_contractor: bool = False


class RetentionOut(msgspec.Struct):
    keep_days: int
    federal_contractor: bool
    # the days actually kept: never under two years for a federal contractor
    effective_days: int
    is_default: bool
    updated_by: str = ""
    updated_at: Timestamp | None = None


class HoldIn(msgspec.Struct):
    scope: Literal["candidate", "job", "tenant"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    # the candidate or job id; omitted for a hold on the whole tenant
    subject: Annotated[str, msgspec.Meta(max_length=200)] = ""


class HoldOut(msgspec.Struct):
    id: str
    scope: str
    subject: str
    reason: str
    placed_by: str
    placed_at: Timestamp
    released_by: str = ""
    released_at: Timestamp | None = None


class HoldsOut(msgspec.Struct):
    items: list[HoldOut]


class PurgeIn(msgspec.Struct):
    dry_run: bool = False


class PurgedOut(msgspec.Struct):
    candidate_id: str
    closed_at: Timestamp
    erasure_id: str = ""


class HeldOut(msgspec.Struct):
    candidate_id: str
    closed_at: Timestamp
    reasons: list[str]


class PurgeOut(msgspec.Struct):
    id: str
    ran_at: Timestamp
    dry_run: bool
    keep_days: int
    purged: list[PurgedOut]
    held: list[HeldOut]


def policy_out(p: pb.RetentionPolicy) -> RetentionOut:
    return RetentionOut(
        keep_days=p.keep_days,
        federal_contractor=p.federal_contractor,
        effective_days=p.effective_days,
        is_default=p.is_default,
        updated_by=p.updated_by,
        updated_at=pb_iso(p.updated_at) if p.HasField("updated_at") else None,
    )


def hold_out(h: pb.LegalHold) -> HoldOut:
    return HoldOut(
        id=h.id,
        scope=h.scope,
        subject=h.subject,
        reason=h.reason,
        placed_by=h.placed_by,
        placed_at=pb_iso(h.placed_at),
        released_by=h.released_by,
        released_at=pb_iso(h.released_at) if h.HasField("released_at") else None,
    )


class RetentionController(Controller):
    path = "/v1/privacy"
    tags = ["privacy"]
    guards = [require_api_key]

    @allow("admin", "compliance")
    @get(
        "/retention",
        summary="The tenant's retention policy (defaults: one year, two for federal contractors)",
    )
    async def policy(self, request: Request) -> RetentionOut:
        resp = await request.app.state.backends.sync.GetRetentionPolicy(
            pb.GetRetentionPolicyRequest(tenant_id=principal_of(request).tenant_id)
        )
        return policy_out(resp.policy)

    @allow("admin", "compliance")
    @put("/retention", summary="Set how long records are kept after every application of a candidate closed")
    @idempotent
    async def set_policy(self, request: Request, data: RetentionIn) -> RetentionOut:
        principal = principal_of(request)
        resp = await request.app.state.backends.sync.SetRetentionPolicy(
            pb.SetRetentionPolicyRequest(
                tenant_id=principal.tenant_id,
                keep_days=data.keep_days,
                federal_contractor=data.federal_contractor,
                updated_by=actor_of(principal),
            )
        )
        return policy_out(resp.policy)

    @allow("admin", "compliance")
    @post(
        "/retention/purges",
        summary="Erase every candidate kept long enough and under no legal hold (or report it: dry_run)",
        description=(
            "Candidates every one of whose applications closed (hired, rejected, deleted) longer ago than "
            "the policy keeps them are erased through the same fan-out as an erasure request; those a legal "
            "hold covers are kept and listed with the holds' reasons. Sync also runs this every day."
        ),
        status_code=200,
    )
    @idempotent
    async def purge(self, request: Request, data: PurgeIn | None = None) -> PurgeOut:
        principal = principal_of(request)
        r = await request.app.state.backends.sync.RunRetentionPurge(
            pb.RunRetentionPurgeRequest(
                tenant_id=principal.tenant_id,
                dry_run=bool(data and data.dry_run),
                requested_by=actor_of(principal),
            )
        )
        return PurgeOut(
            id=r.id,
            ran_at=pb_iso(r.ran_at),
            dry_run=r.dry_run,
            keep_days=r.keep_days,
            purged=[PurgedOut(p.candidate_id, pb_iso(p.closed_at), p.erasure_id) for p in r.purged],
            held=[HeldOut(h.candidate_id, pb_iso(h.closed_at), list(h.reasons)) for h in r.held],
        )

    @allow("admin", "compliance")
    @get("/legal-holds", summary="Active legal holds (with released ones: include_released=true)")
    async def holds(self, request: Request, include_released: bool = False) -> HoldsOut:
        resp = await request.app.state.backends.sync.ListLegalHolds(
            pb.ListLegalHoldsRequest(
                tenant_id=principal_of(request).tenant_id, include_released=include_released
            )
        )
        return HoldsOut([hold_out(h) for h in resp.holds])

    @allow("admin", "compliance")
    @post(
        "/legal-holds",
        summary="Place a legal hold on a candidate, a job or the tenant: nothing it covers is erased",
        status_code=201,
    )
    @idempotent
    async def place(self, request: Request, data: HoldIn) -> HoldOut:
        principal = principal_of(request)
        resp = await request.app.state.backends.sync.PlaceLegalHold(
            pb.PlaceLegalHoldRequest(
                tenant_id=principal.tenant_id,
                scope=data.scope,
                subject=data.subject,
                reason=data.reason,
                placed_by=actor_of(principal),
            )
        )
        return hold_out(resp.hold)

    @allow("admin", "compliance")
    @delete("/legal-holds/{hold_id:str}", summary="Release a legal hold", status_code=200)
    @idempotent
    async def release(self, request: Request, hold_id: str) -> HoldOut:
        principal = principal_of(request)
        resp = await request.app.state.backends.sync.ReleaseLegalHold(
            pb.ReleaseLegalHoldRequest(
                tenant_id=principal.tenant_id, hold_id=hold_id, released_by=actor_of(principal)
            )
        )
        return hold_out(resp.hold)
