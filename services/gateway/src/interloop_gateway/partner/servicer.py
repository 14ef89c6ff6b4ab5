"""`interloop.partner.v1.PartnerService`: what an ATS vendor calls on behalf of a tenant.

Every call carries a tenant API key (`authorization: Bearer <key>`); each RPC declares with `@allow` the
scopes that may call it (today "partner" or "admin" for all), checked on every call before the RPC runs;
the tenant comes from the key, never from the request. Calls are forwarded to the backends; a backend's
refusal (INVALID_ARGUMENT with its field violations, NOT_FOUND, ...) reaches the vendor unchanged. The
gateway's own refusals are interloop_common.errors, mapped to status codes by the gRPC server."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from interloop.partner.v1 import partner_pb2, partner_pb2_grpc
from interloop.scheduler.v1 import scheduler_pb2 as spb
from interloop.scorecard.v1 import scorecard_pb2 as cpb
from interloop_common.errors import Forbidden, Unauthenticated, Unavailable
from interloop_common.rpc import Check

from interloop_gateway.auth import verify_key
from interloop_gateway.store.tenants import Principal

API_VERSION = "interloop.partner.v1"
PARTNER = ("partner", "admin")
_SCOPES = "__interloop_scopes__"
log = logging.getLogger(__name__)

RPC = Callable[..., Awaitable[Any]]


def allow(*scopes: str) -> Callable[[RPC], RPC]:
    """Declare the key scopes that may call this RPC (any one suffices); the RPC receives the principal."""

    def declare(rpc: RPC) -> RPC:
        @functools.wraps(rpc)
        async def call(self: PartnerServicer, request: Any, context: grpc.aio.ServicerContext) -> Any:
            principal = await self._principal(context, scopes)
            return await rpc(self, request, context, principal)

        setattr(call, _SCOPES, frozenset(scopes))
        return call

    return declare


def allowed_scopes(rpc: Any) -> frozenset[str] | None:
    """The scopes an RPC method declared with @allow, or None."""
    return getattr(rpc, _SCOPES, None)


class PartnerServicer(partner_pb2_grpc.PartnerServiceServicer):
    """`app` is the gateway's Litestar app: its state holds the pool, the key cache and the backends
    once its lifespan started."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def _principal(self, context: grpc.aio.ServicerContext, scopes: tuple[str, ...]) -> Principal:
        state = self._app.state
        if not hasattr(state, "backends"):
            raise Unavailable("the gateway is starting; retry shortly")
        metadata = dict(context.invocation_metadata() or ())
        scheme, _, key = str(metadata.get("authorization", "")).partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise Unauthenticated("send a tenant API key as 'authorization: Bearer <key>'")
        principal = await verify_key(state, key)
        if principal is None:
            raise Unauthenticated("unknown or revoked API key")
        if not set(principal.scopes) & set(scopes):
            raise Forbidden(f"this call needs a key with one of the scopes {', '.join(sorted(scopes))}")
        return principal

    async def _forward(self, context: grpc.aio.ServicerContext, call: Any) -> Any:
        """A backend's answer, or its refusal passed through (code, message, field violations)."""
        try:
            return await call
        except grpc.aio.AioRpcError as exc:
            details = tuple(
                (k, v) for k, v in (exc.trailing_metadata() or ()) if k == "grpc-status-details-bin"
            )
            await context.abort(exc.code(), exc.details() or "", details)

    def _partner(self, context: grpc.aio.ServicerContext) -> str:
        return str(dict(context.invocation_metadata() or ()).get("x-partner-id", ""))

    @allow(*PARTNER)
    async def GetPartnerInfo(
        self,
        request: partner_pb2.GetPartnerInfoRequest,
        context: grpc.aio.ServicerContext,
        principal: Principal,
    ):
        return partner_pb2.GetPartnerInfoResponse(
            api_version=API_VERSION,
            partner_id=self._partner(context),
            tenant_id=principal.tenant_id,
            scopes=list(principal.scopes),
        )

    @allow(*PARTNER)
    async def RequestScheduling(
        self,
        request: partner_pb2.RequestSchedulingRequest,
        context: grpc.aio.ServicerContext,
        principal: Principal,
    ):
        Check().require(bool(request.candidate_id), "candidate_id", "required").require(
            bool(request.panel) or bool(request.job_id),
            "panel",
            "a panel, or a job_id whose default panel is set",
        ).done()
        scheduler = self._app.state.backends.scheduler
        link = spb.CreateSchedulingLinkRequest(
            tenant_id=principal.tenant_id,
            candidate_id=request.candidate_id,
            application_id=request.application_id,
            job_id=request.job_id,
            round=request.round,
            candidate_email=request.candidate_email,
            candidate_name=request.candidate_name,
            panel=list(request.panel),
            duration_minutes=request.duration_minutes,
            expires_in_hours=request.expires_in_hours,
        )
        if not request.panel:
            job = await self._forward(
                context,
                scheduler.GetJobPanel(
                    spb.GetJobPanelRequest(tenant_id=principal.tenant_id, job_id=request.job_id)
                ),
            )
            link.panel.extend(job.panel.panel)
            link.duration_minutes = request.duration_minutes or job.panel.duration_minutes
            link.expires_in_hours = request.expires_in_hours or job.panel.expires_in_hours
            link.settings.CopyFrom(job.panel.settings)
        resp = await self._forward(context, scheduler.CreateSchedulingLink(link))
        log.info(
            "partner %s opened scheduling request %s for tenant %s",
            self._partner(context) or "?",
            resp.link_id,
            principal.tenant_id,
        )
        return partner_pb2.RequestSchedulingResponse(
            link_id=resp.link_id, url=resp.url, expires_at=resp.expires_at
        )

    @allow(*PARTNER)
    async def ListCandidateInterviews(
        self,
        request: partner_pb2.ListCandidateInterviewsRequest,
        context: grpc.aio.ServicerContext,
        principal: Principal,
    ):
        Check().require(bool(request.candidate_id), "candidate_id", "required").done()
        resp = await self._forward(
            context,
            self._app.state.backends.scheduler.ListBookings(
                spb.ListBookingsRequest(
                    tenant_id=principal.tenant_id, candidate_id=request.candidate_id, page=request.page
                )
            ),
        )
        return partner_pb2.ListCandidateInterviewsResponse(interviews=resp.bookings, page=resp.page)

    @allow(*PARTNER)
    async def ListCandidateScorecards(
        self,
        request: partner_pb2.ListCandidateScorecardsRequest,
        context: grpc.aio.ServicerContext,
        principal: Principal,
    ):
        Check().require(bool(request.candidate_id), "candidate_id", "required").done()
        resp = await self._forward(
            context,
            self._app.state.backends.scorecard.ListScorecards(
                cpb.ListScorecardsRequest(
                    tenant_id=principal.tenant_id,
                    candidate_id=request.candidate_id,
                    page=request.page,
                    viewer_roles=["admin"],
                )
            ),
        )
        # Submitted scorecards only: a draft is the interviewer's, not the hiring record's.
        submitted = [s for s in resp.scorecards if s.status == "submitted"]
        return partner_pb2.ListCandidateScorecardsResponse(scorecards=submitted, page=resp.page)
