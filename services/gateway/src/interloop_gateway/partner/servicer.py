"""`interloop.partner.v1.PartnerService`: what an ATS vendor calls on behalf of a tenant.

Every RPC declares with `@allow` the grant scopes that may call it (read, schedule, push, subscribe),
checked on every call before the RPC runs (partner/access.py: the partner's key, the tenant's grant, the
partner's rate limit); the tenant comes from the credential and its grant, never from the request body.
Calls are forwarded to the backends; a backend's refusal (INVALID_ARGUMENT with its field violations,
NOT_FOUND, ...) reaches the vendor unchanged. The gateway's own refusals are interloop_common.errors,
mapped to status codes by the gRPC server (and by `_stream_errors` for the one streaming RPC)."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from interloop.partner.v1 import partner_pb2, partner_pb2_grpc
from interloop.scheduler.v1 import scheduler_pb2 as spb
from interloop.scorecard.v1 import scorecard_pb2 as cpb
from interloop.sync.v1 import sync_pb2 as ypb
from interloop_common.audit import Door
from interloop_common.clock import utc_now
from interloop_common.errors import DomainError, FieldViolations, Forbidden, RateLimited, Unavailable
from interloop_common.rpc import Check, abort_invalid, abort_rate_limited, ts

from interloop_gateway import audit
from interloop_gateway.backends import BackendError
from interloop_gateway.partner import stream
from interloop_gateway.partner.access import Access, Caller

API_VERSION = "interloop.partner.v1"
ANY = ("read", "schedule", "push", "subscribe")
# The partner id a tenant's own key pushes as (never a registered partner's: register refuses it).
SELF = "self"
_SCOPES = "__interloop_scopes__"
# a backend that is down or too slow: the partner is told which one, not what its channel saw
_BACKEND_AWAY = {
    grpc.StatusCode.UNAVAILABLE: "is unavailable",
    grpc.StatusCode.DEADLINE_EXCEEDED: "did not answer in time",
}
log = logging.getLogger(__name__)

RPC = Callable[..., Awaitable[Any]]


def allow(*scopes: str) -> Callable[[RPC], RPC]:
    """Declare the grant scopes that may call this RPC (any one suffices); the RPC receives the caller."""

    def declare(rpc: RPC) -> RPC:
        @functools.wraps(rpc)
        async def call(self: PartnerServicer, request: Any, context: grpc.aio.ServicerContext) -> Any:
            caller = await self.access.caller(
                dict(context.invocation_metadata() or ()), frozenset(scopes), peer_cn=_peer_cn(context)
            )
            code = grpc.StatusCode.INTERNAL
            try:
                answer = await rpc(self, request, context, caller)
                code = grpc.StatusCode.OK
                return answer
            except DomainError as exc:
                code = grpc.StatusCode[exc.status]
                raise
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            finally:
                await self._audit(rpc.__name__, request, context, caller, code)

        setattr(call, _SCOPES, frozenset(scopes))
        return call

    return declare


def allowed_scopes(rpc: Any) -> frozenset[str] | None:
    """The scopes an RPC method declared with @allow (or @allow_stream), or None."""
    return getattr(rpc, _SCOPES, None)


def allow_stream(*scopes: str) -> Callable[..., Any]:
    """@allow for a server-streaming RPC: the interceptor maps only unary errors, so this one maps its own."""

    def declare(rpc: Callable[..., AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
        @functools.wraps(rpc)
        async def call(self: PartnerServicer, request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                caller = await self.access.caller(
                    dict(context.invocation_metadata() or ()), frozenset(scopes), peer_cn=_peer_cn(context)
                )
                await self._audit(rpc.__name__, request, context, caller, grpc.StatusCode.OK)
                async for item in rpc(self, request, context, caller):
                    yield item
            except FieldViolations as exc:
                await abort_invalid(context, exc.violations)
            except RateLimited as exc:
                await abort_rate_limited(context, exc.message, exc.retry_after)
            except DomainError as exc:
                await context.abort(grpc.StatusCode[exc.status], exc.message)

        setattr(call, _SCOPES, frozenset(scopes))
        return call

    return declare


def _peer_cn(context: grpc.aio.ServicerContext) -> str | None:
    """The subject CN of the client certificate the TLS layer verified (mutual TLS), else None."""
    auth = getattr(context, "auth_context", None)
    names = (auth() if auth else {}).get("x509_common_name") or []
    return names[0].decode() if names else None


def _target(request: Any) -> str:
    """The candidate (or application) a request is about, wherever its message keeps it."""
    for holder in (request, *(v for _, v in request.ListFields() if hasattr(v, "ListFields"))):
        for name in ("candidate_id", "application_id"):
            value = getattr(holder, name, "")
            if isinstance(value, str) and value:
                return f"{name.removesuffix('_id')}/{value}"
    return ""


class PartnerServicer(partner_pb2_grpc.PartnerServiceServicer):
    """`app` is the gateway's Litestar app: its state holds the pool, the key cache and the backends
    once its lifespan started."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self.draining = asyncio.Event()

    @property
    def access(self) -> Access:
        return self._app.state.partner_access

    async def _audit(
        self,
        method: str,
        request: Any,
        context: grpc.aio.ServicerContext,
        caller: Caller,
        code: grpc.StatusCode,
    ) -> None:
        """The call's audit-trail entry (a stream's when it opens)."""
        metadata = dict(context.invocation_metadata() or ())
        await audit.append(
            self._app.state.pool,
            tenant_id=caller.tenant_id,
            actor=caller.actor,
            action=f"{partner_pb2.DESCRIPTOR.services_by_name['PartnerService'].full_name}/{method}",
            target=_target(request),
            door=Door.PARTNER_GRPC,
            remote=str(context.peer() or ""),
            status=code.value[0],
            request_id=str(
                getattr(request, "request_id", "") or metadata.get("x-request-id") or uuid.uuid4()
            ),
        )

    async def _forward(self, context: grpc.aio.ServicerContext, call: Any) -> Any:
        """A backend's answer, or its refusal passed through (code, message, field violations)."""
        try:
            return await call
        except grpc.aio.AioRpcError as exc:
            details = tuple(
                (k, v) for k, v in (exc.trailing_metadata() or ()) if k == "grpc-status-details-bin"
            )
            message = exc.details() or ""
            if exc.code() in _BACKEND_AWAY and isinstance(exc, BackendError):
                # the partner learns which service to wait for, not the backend's insides
                what = _BACKEND_AWAY[exc.code()]
                message = f"the {exc.backend} service {what} ({exc.code().name}); retry later"
            await context.abort(exc.code(), message, details)

    async def _push(
        self, context: grpc.aio.ServicerContext, caller: Caller, changes: list[ypb.PartnerChange]
    ) -> ypb.PushPartnerChangesResponse:
        resp = await self._forward(
            context,
            self._app.state.backends.sync.PushPartnerChanges(
                ypb.PushPartnerChangesRequest(
                    tenant_id=caller.tenant_id, partner_id=caller.partner_id or SELF, changes=changes
                )
            ),
        )
        log.info(
            "partner %s pushed %d change(s) for tenant %s",
            caller.partner_id or SELF,
            len(changes),
            caller.tenant_id,
        )
        return resp

    async def _push_one(
        self, context: grpc.aio.ServicerContext, caller: Caller, request_id: str, **change: Any
    ) -> ypb.PartnerChangeResult:
        resp = await self._push(context, caller, [ypb.PartnerChange(request_id=request_id, **change)])
        return resp.results[0]

    @allow(*ANY)
    async def GetPartnerInfo(
        self,
        request: partner_pb2.GetPartnerInfoRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        return partner_pb2.GetPartnerInfoResponse(
            api_version=API_VERSION,
            partner_id=caller.partner_id,
            tenant_id=caller.tenant_id,
            scopes=list(caller.scopes),
        )

    @allow("schedule")
    async def RequestScheduling(
        self,
        request: partner_pb2.RequestSchedulingRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        Check().require(bool(request.candidate_id), "candidate_id", "required").require(
            bool(request.panel) or bool(request.job_id),
            "panel",
            "a panel, or a job_id whose default panel is set",
        ).done()
        scheduler = self._app.state.backends.scheduler
        link = spb.CreateSchedulingLinkRequest(
            tenant_id=caller.tenant_id,
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
                    spb.GetJobPanelRequest(tenant_id=caller.tenant_id, job_id=request.job_id)
                ),
            )
            link.panel.extend(job.panel.panel)
            link.duration_minutes = request.duration_minutes or job.panel.duration_minutes
            link.expires_in_hours = request.expires_in_hours or job.panel.expires_in_hours
            link.settings.CopyFrom(job.panel.settings)
        resp = await self._forward(context, scheduler.CreateSchedulingLink(link))
        log.info(
            "partner %s opened scheduling request %s for tenant %s",
            caller.partner_id or SELF,
            resp.link_id,
            caller.tenant_id,
        )
        return partner_pb2.RequestSchedulingResponse(
            link_id=resp.link_id, url=resp.url, expires_at=resp.expires_at
        )

    @allow("schedule")
    async def FindPanelAvailability(
        self,
        request: partner_pb2.FindPanelAvailabilityRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        Check().require(
            bool(request.panel) or bool(request.job_id),
            "panel",
            "a panel, or a job_id whose default panel is set",
        ).require(request.HasField("window"), "window", "required").done()
        scheduler = self._app.state.backends.scheduler
        find = spb.FindSlotsRequest(
            tenant_id=caller.tenant_id,
            panel=list(request.panel),
            window=request.window,
            duration_minutes=request.duration_minutes,
            candidate_time_zone=request.candidate_time_zone,
            limit=request.limit,
        )
        if not request.panel:
            job = await self._forward(
                context,
                scheduler.GetJobPanel(
                    spb.GetJobPanelRequest(tenant_id=caller.tenant_id, job_id=request.job_id)
                ),
            )
            find.panel.extend(job.panel.panel)
            find.duration_minutes = request.duration_minutes or job.panel.duration_minutes
        resp = await self._forward(context, scheduler.FindSlots(find))
        return partner_pb2.FindPanelAvailabilityResponse(
            slots=resp.slots, unknown_interviewer_ids=resp.unknown_interviewer_ids, reasons=resp.reasons
        )

    @allow("read")
    async def ListCandidateInterviews(
        self,
        request: partner_pb2.ListCandidateInterviewsRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        Check().require(bool(request.candidate_id), "candidate_id", "required").done()
        resp = await self._forward(
            context,
            self._app.state.backends.scheduler.ListBookings(
                spb.ListBookingsRequest(
                    tenant_id=caller.tenant_id, candidate_id=request.candidate_id, page=request.page
                )
            ),
        )
        return partner_pb2.ListCandidateInterviewsResponse(interviews=resp.bookings, page=resp.page)

    @allow("read")
    async def ListCandidateScorecards(
        self,
        request: partner_pb2.ListCandidateScorecardsRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        Check().require(bool(request.candidate_id), "candidate_id", "required").done()
        resp = await self._forward(
            context,
            self._app.state.backends.scorecard.ListScorecards(
                cpb.ListScorecardsRequest(
                    tenant_id=caller.tenant_id,
                    candidate_id=request.candidate_id,
                    page=request.page,
                    viewer_roles=["admin"],
                )
            ),
        )
        # Submitted scorecards only: a draft is the interviewer's, not the hiring record's.
        submitted = [s for s in resp.scorecards if s.status == "submitted"]
        return partner_pb2.ListCandidateScorecardsResponse(scorecards=submitted, page=resp.page)

    @allow("read")
    async def ListCandidateDecisions(
        self,
        request: partner_pb2.ListCandidateDecisionsRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        Check().require(bool(request.candidate_id), "candidate_id", "required").done()
        resp = await self._forward(
            context,
            self._app.state.backends.scorecard.ListDecisions(
                cpb.ListDecisionsRequest(
                    tenant_id=caller.tenant_id,
                    candidate_id=request.candidate_id,
                    job_id=request.job_id,
                    page=request.page,
                )
            ),
        )
        return partner_pb2.ListCandidateDecisionsResponse(decisions=resp.decisions, page=resp.page)

    @allow("push")
    async def UpsertCandidate(
        self,
        request: partner_pb2.UpsertCandidateRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        r = await self._push_one(context, caller, request.request_id, upsert_candidate=request.candidate)
        return partner_pb2.UpsertCandidateResponse(request_id=r.request_id, outcome=r.outcome)

    @allow("push")
    async def UpsertApplication(
        self,
        request: partner_pb2.UpsertApplicationRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        r = await self._push_one(context, caller, request.request_id, upsert_application=request.application)
        return partner_pb2.UpsertApplicationResponse(request_id=r.request_id, outcome=r.outcome)

    @allow("push")
    async def MoveStage(
        self,
        request: partner_pb2.MoveStageRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        r = await self._push_one(context, caller, request.request_id, move_stage=request.move)
        return partner_pb2.MoveStageResponse(request_id=r.request_id, outcome=r.outcome)

    @allow("push")
    async def RejectApplication(
        self,
        request: partner_pb2.RejectApplicationRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        r = await self._push_one(context, caller, request.request_id, reject_application=request.rejection)
        return partner_pb2.RejectApplicationResponse(request_id=r.request_id, outcome=r.outcome)

    @allow("push")
    async def HireApplication(
        self,
        request: partner_pb2.HireApplicationRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        r = await self._push_one(context, caller, request.request_id, hire_application=request.hire)
        return partner_pb2.HireApplicationResponse(request_id=r.request_id, outcome=r.outcome)

    @allow("push")
    async def DeleteCandidate(
        self,
        request: partner_pb2.DeleteCandidateRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        r = await self._push_one(context, caller, request.request_id, delete_candidate=request.deletion)
        return partner_pb2.DeleteCandidateResponse(request_id=r.request_id, outcome=r.outcome)

    @allow("push")
    async def PushChanges(
        self,
        request: partner_pb2.PushChangesRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ):
        resp = await self._push(context, caller, list(request.changes))
        return partner_pb2.PushChangesResponse(results=resp.results)

    @allow_stream("subscribe")
    async def SubscribeEvents(
        self,
        request: partner_pb2.SubscribeEventsRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ) -> AsyncIterator[partner_pb2.SubscribeEventsResponse]:
        settings = self._app.state.settings
        types = stream.check_types(request.types)
        items = stream.subscribe(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            tenant_id=caller.tenant_id,
            position=request.position,
            types=types,
            heartbeat_seconds=settings.partner_heartbeat_seconds,
            stopping=self.draining,
        )
        try:
            async for item in items:
                if await self._revoked(caller):
                    raise Forbidden(f"partner {caller.partner_id!r} no longer has a grant from this tenant")
                if item.event is None:
                    yield partner_pb2.SubscribeEventsResponse(
                        heartbeat=partner_pb2.Heartbeat(at=ts(utc_now())), position=item.position
                    )
                    continue
                e = item.event
                yield partner_pb2.SubscribeEventsResponse(
                    event=partner_pb2.PartnerEvent(
                        id=e.id, type=e.type, time=ts(e.time), subject=e.subject, payload=e.payload
                    ),
                    position=item.position,
                )
        finally:
            await items.aclose()
        raise Unavailable("this gateway is draining; reconnect with your stored position")

    async def _revoked(self, caller: Caller) -> bool:
        """A stream outlives its first check: a revoked grant cuts it off (within the cache TTL)."""
        if not caller.partner_id:
            return False
        return await self.access.grant(caller.tenant_id, caller.partner_id) is None
