"""`interloop.scorecard.v1.ScorecardService`: protobuf in, use cases, protobuf out, errors -> status codes."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
import grpc
from interloop.scorecard.v1 import scorecard_pb2 as pb
from interloop.scorecard.v1 import scorecard_pb2_grpc
from interloop_common.db import tenant_tx
from interloop_common.rpc import Check, decode_cursor, encode_cursor, page_size, ts
from interloop_common.service import Runtime

from interloop_scorecard import commands, queries
from interloop_scorecard.rpc import convert
from interloop_scorecard.store import expected, outcomes, stats, templates
from interloop_scorecard.store import scorecards as cards

T = TypeVar("T")

_CODES = {
    commands.NotFound: grpc.StatusCode.NOT_FOUND,
    commands.Forbidden: grpc.StatusCode.PERMISSION_DENIED,
    commands.Conflict: grpc.StatusCode.FAILED_PRECONDITION,
}


def _errors(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Use-case exceptions -> status codes; FieldViolations are left to the server's interceptor."""

    @functools.wraps(fn)
    async def wrapped(self: Any, request: Any, context: grpc.aio.ServicerContext) -> T:
        try:
            return await fn(self, request, context)
        except (commands.NotFound, commands.Forbidden, commands.Conflict) as exc:
            await context.abort(_CODES[type(exc)], str(exc))
        except asyncpg.UniqueViolationError:
            await context.abort(grpc.StatusCode.ABORTED, "a concurrent change won; read again and retry")
        raise AssertionError("unreachable")

    return wrapped


def _tenant(request: Any) -> str:
    Check().require(bool(request.tenant_id), "tenant_id", "required").done()
    return request.tenant_id


def _now() -> datetime:
    return datetime.now(UTC)


def _key(request: Any) -> tuple[str, str, str]:
    Check().require(bool(request.job_id), "job_id", "required").require(
        bool(request.round), "round", "required"
    ).require(bool(request.dimension), "dimension", "required").done()
    return request.job_id, request.round, request.dimension


class ScorecardServicer(scorecard_pb2_grpc.ScorecardServiceServicer):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    # -- expected scorecards and activity ---------------------------------------------------------
    async def ListExpectedScorecards(
        self, request: pb.ListExpectedScorecardsRequest, context: grpc.aio.ServicerContext
    ):
        tenant = _tenant(request)
        limit = page_size(request.page.page_size)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            rows = await expected.list_expected(
                conn,
                tenant,
                booking_id=request.booking_id,
                after=decode_cursor(request.page.page_token),
                limit=limit + 1,
                overdue_only=request.overdue_only,
                interviewer_id=request.interviewer_id,
            )
        nxt = ""
        if len(rows) > limit:
            last = rows[limit - 1]
            nxt = encode_cursor(f"{last['booking_id']}/{last['interviewer_id']}")
        return pb.ListExpectedScorecardsResponse(
            expected=[
                pb.ExpectedScorecard(
                    booking_id=r["booking_id"],
                    interviewer_id=r["interviewer_id"],
                    candidate_id=r["candidate_id"],
                    status=r["status"],
                    due_at=ts(r["due_at"]) if r["due_at"] else None,
                    job_id=r["job_id"],
                    round=r["round"],
                    overdue=bool(r["overdue"]),
                    interview_end=ts(r["interview_end"]) if r["interview_end"] else None,
                    scorecard_id=r["scorecard_id"] or "",
                )
                for r in rows[:limit]
            ],
            page={"next_page_token": nxt},
        )

    async def GetTenantActivity(
        self, request: pb.GetTenantActivityRequest, context: grpc.aio.ServicerContext
    ):
        tenant = _tenant(request)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            interviews, scorecards = await expected.activity(conn, tenant)
        return pb.GetTenantActivityResponse(interviews_seen=interviews, scorecards_submitted=scorecards)

    # -- templates --------------------------------------------------------------------------------
    @_errors
    async def CreateTemplate(self, request: pb.CreateTemplateRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        dims = convert.dimensions_in(list(request.dimensions))
        async with tenant_tx(self.rt.pool, tenant) as conn:
            t = await commands.create_template(
                conn,
                tenant,
                job_id=request.job_id,
                round=request.round,
                dimensions=dims,
                created_by=request.created_by,
                now=_now(),
            )
        return pb.CreateTemplateResponse(template=convert.template_out(t))

    @_errors
    async def ReviseTemplate(self, request: pb.ReviseTemplateRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        dims = convert.dimensions_in(list(request.dimensions))
        async with tenant_tx(self.rt.pool, tenant) as conn:
            t = await commands.revise_template(
                conn, tenant, request.template_id, dimensions=dims, created_by=request.created_by, now=_now()
            )
        return pb.ReviseTemplateResponse(template=convert.template_out(t))

    @_errors
    async def GetTemplate(self, request: pb.GetTemplateRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            t = await templates.get(conn, tenant, request.template_id, request.version)
        if t is None:
            raise commands.NotFound(
                f"no template {request.template_id!r} version {request.version or 'latest'}"
            )
        return pb.GetTemplateResponse(template=convert.template_out(t))

    @_errors
    async def ListTemplates(self, request: pb.ListTemplatesRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        limit = page_size(request.page.page_size)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            found = await templates.list_latest(
                conn,
                tenant,
                job_id=request.job_id,
                round=request.round,
                after=decode_cursor(request.page.page_token),
                limit=limit + 1,
            )
        nxt = encode_cursor(found[limit - 1].template_id) if len(found) > limit else ""
        return pb.ListTemplatesResponse(
            templates=[convert.template_out(t) for t in found[:limit]], page={"next_page_token": nxt}
        )

    # -- scorecards -------------------------------------------------------------------------------
    @_errors
    async def SaveDraft(self, request: pb.SaveDraftRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            s = await commands.save_draft(
                conn, tenant, convert.card_in(request.scorecard), actor_id=request.actor_id, now=_now()
            )
        return pb.SaveDraftResponse(scorecard=convert.card_out(s))

    @_errors
    async def SubmitScorecard(self, request: pb.SubmitScorecardRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            s = await commands.submit(
                conn, tenant, convert.card_in(request.scorecard), actor_id=request.actor_id, now=_now()
            )
        return pb.SubmitScorecardResponse(scorecard=convert.card_out(s))

    @_errors
    async def AmendScorecard(self, request: pb.AmendScorecardRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            s = await commands.amend(
                conn,
                tenant,
                request.scorecard_id,
                ratings=convert.ratings_in(list(request.ratings)),
                recommendation=request.recommendation,
                confidence=request.confidence or None,
                by=request.amended_by,
                reason=request.reason,
                now=_now(),
            )
        return pb.AmendScorecardResponse(scorecard=convert.card_out(s))

    @_errors
    async def GetScorecard(self, request: pb.GetScorecardRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        who = commands.viewer(request.viewer_interviewer_id, request.viewer_roles)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            history = await commands.get_scorecard(conn, tenant, request.scorecard_id, who)
        return pb.GetScorecardResponse(
            scorecard=convert.card_out(history[-1]), versions=[convert.card_out(s) for s in history]
        )

    @_errors
    async def ListScorecards(self, request: pb.ListScorecardsRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        Check().require(
            bool(request.booking_id or request.candidate_id),
            "booking_id",
            "give a booking_id or a candidate_id",
        ).done()
        who = commands.viewer(request.viewer_interviewer_id, request.viewer_roles)
        limit = page_size(request.page.page_size)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            found = await cards.list_latest(
                conn,
                tenant,
                booking_id=request.booking_id,
                candidate_id=request.candidate_id,
                after=decode_cursor(request.page.page_token),
                limit=limit + 1,
            )
            nxt = encode_cursor(found[limit - 1].card.scorecard_id) if len(found) > limit else ""
            shown, hidden = await commands.visible(conn, tenant, who, found[:limit])
        return pb.ListScorecardsResponse(
            scorecards=[convert.card_out(s) for s in shown],
            page={"next_page_token": nxt},
            hidden_count=hidden,
        )

    @_errors
    async def RecordDecision(self, request: pb.RecordDecisionRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            row = await commands.record_decision(
                conn,
                tenant,
                candidate_id=request.candidate_id,
                job_id=request.job_id,
                decision=request.decision,
                decided_by=request.decided_by,
                reason=request.reason,
            )
        return pb.RecordDecisionResponse(
            decision=pb.Decision(
                candidate_id=row["candidate_id"],
                job_id=row["job_id"],
                decision=row["decision"],
                decided_by=row["decided_by"],
                reason=row["reason"],
                decided_at=ts(row["decided_at"]),
            )
        )

    # -- statistics -------------------------------------------------------------------------------
    @_errors
    async def ListStatistics(self, request: pb.ListStatisticsRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            rows = await stats.keys(conn, tenant, request.job_id)
        return pb.ListStatisticsResponse(
            keys=[
                pb.StatisticsKey(
                    job_id=r["job_id"],
                    round=r["round"],
                    dimension=r["dimension"],
                    n_ratings=r["n_ratings"],
                    updated_at=ts(r["updated_at"]),
                )
                for r in rows
            ]
        )

    async def _state(self, request: Any):  # type: ignore[no-untyped-def]
        tenant = _tenant(request)
        key = _key(request)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            state = await stats.get(conn, tenant, key)
        if state is None or state.n_ratings == 0:
            raise commands.NotFound(
                f"no submitted ratings for job {key[0]!r} round {key[1]!r} dimension {key[2]!r}"
            )
        return state

    @_errors
    async def ComputeReliability(
        self, request: pb.ComputeReliabilityRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(
            0 <= request.bootstrap_samples <= 20000, "bootstrap_samples", "must be 0..20000"
        ).require(request.min_n >= 0, "min_n", "must be >= 0").done()
        state = await self._state(request)
        rel = await asyncio.to_thread(
            state.reliability, n_boot=request.bootstrap_samples or 1000, min_n=request.min_n or 10
        )
        return convert.reliability_out(rel)

    @_errors
    async def GetCalibration(self, request: pb.GetCalibrationRequest, context: grpc.aio.ServicerContext):
        Check().require(request.min_n >= 0, "min_n", "must be >= 0").done()
        state = await self._state(request)
        cal = await asyncio.to_thread(state.calibration.finalize, min_n=request.min_n or 10)
        return pb.GetCalibrationResponse(
            raters=convert.raters_out(cal),
            residual_sd=convert.num(cal.residual_sd),
            prior_strength=convert.num(cal.prior_strength),
        )

    @_errors
    async def GetDimensionStatistics(
        self, request: pb.GetDimensionStatisticsRequest, context: grpc.aio.ServicerContext
    ):
        tenant = _tenant(request)
        Check().require(bool(request.job_id), "job_id", "required").require(
            bool(request.round), "round", "required"
        ).done()
        async with tenant_tx(self.rt.pool, tenant) as conn:
            states = await stats.for_round(conn, tenant, request.job_id, request.round)
        return pb.GetDimensionStatisticsResponse(
            dimensions=[convert.summary_out(d, s.summary()) for d, s in states.items()]
        )

    @_errors
    async def RebuildStatistics(
        self, request: pb.RebuildStatisticsRequest, context: grpc.aio.ServicerContext
    ):
        tenant = _tenant(request)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            n, changed = await queries.rebuild(conn, tenant)
        return pb.RebuildStatisticsResponse(keys_rebuilt=n, keys_changed=changed)

    @_errors
    async def GetPredictiveValidity(
        self, request: pb.GetPredictiveValidityRequest, context: grpc.aio.ServicerContext
    ):
        tenant = _tenant(request)
        Check().require(bool(request.job_id), "job_id", "required").require(
            bool(request.outcome), "outcome", "required, e.g. retention_90d or first_performance_rating"
        ).require(0 <= request.bootstrap_samples <= 20000, "bootstrap_samples", "must be 0..20000").done()
        async with tenant_tx(self.rt.pool, tenant) as conn:
            results = await queries.predictive_validity(
                conn, tenant, request.job_id, request.outcome, request.bootstrap_samples or 1000
            )
        return pb.GetPredictiveValidityResponse(results=[convert.validity_out(v) for v in results])

    # -- demographics and adverse impact (compliance scope only) ----------------------------------
    @_errors
    async def PutDemographics(self, request: pb.PutDemographicsRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        commands.require_compliance(request.caller_scopes)
        Check().require(bool(request.candidate_id), "candidate_id", "required").done()
        attrs = dict(request.attributes)
        commands.check_attributes(attrs)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            await outcomes.put_demographics(conn, tenant, request.candidate_id, attrs)
        return pb.PutDemographicsResponse(attributes=attrs)

    @_errors
    async def GetDemographics(self, request: pb.GetDemographicsRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        commands.require_compliance(request.caller_scopes)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            attrs = await outcomes.get_demographics(conn, tenant, request.candidate_id)
        if attrs is None:
            raise commands.NotFound(f"no demographic data for candidate {request.candidate_id!r}")
        return pb.GetDemographicsResponse(attributes=attrs)

    @_errors
    async def GetAdverseImpact(self, request: pb.GetAdverseImpactRequest, context: grpc.aio.ServicerContext):
        tenant = _tenant(request)
        commands.require_compliance(request.caller_scopes)
        Check().require(bool(request.job_id), "job_id", "required").done()
        async with tenant_tx(self.rt.pool, tenant) as conn:
            result = await queries.adverse_impact(conn, tenant, request.job_id, request.round)
        return convert.impact_out(result)
