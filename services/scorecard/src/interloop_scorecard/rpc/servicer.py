"""`interloop.scorecard.v1.ScorecardService`: validate, protobuf -> domain (convert), call a use case,
domain -> protobuf. Refusals are `interloop_common.errors` raised by the use cases; the gRPC server's
interceptor maps them to status codes."""

from __future__ import annotations

from typing import Any

import grpc
from interloop.scorecard.v1 import scorecard_pb2 as pb
from interloop.scorecard.v1 import scorecard_pb2_grpc
from interloop_common.export import export_request, to_struct
from interloop_common.idempotency import once
from interloop_common.rpc import Check, decode_cursor, dt, encode_cursor, page_size, tenant
from interloop_common.service import Runtime

from interloop_scorecard.rpc import convert
from interloop_scorecard.settings import ScorecardSettings
from interloop_scorecard.usecases import expected, export, outcomes, scorecards, statistics, templates


def _key(request: Any) -> tuple[str, str, str]:
    Check().require(bool(request.job_id), "job_id", "required").require(
        bool(request.round), "round", "required"
    ).require(bool(request.dimension), "dimension", "required").done()
    return request.job_id, request.round, request.dimension


def _next(after: str) -> dict[str, str]:
    return {"next_page_token": encode_cursor(after) if after else ""}


class ScorecardServicer(scorecard_pb2_grpc.ScorecardServiceServicer):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        assert isinstance(rt.settings, ScorecardSettings)
        self.settings = rt.settings
        self.pool = rt.pool  # idempotent calls record their key in the use case's transaction

    # -- expected scorecards and activity ---------------------------------------------------------
    async def ListExpectedScorecards(
        self, request: pb.ListExpectedScorecardsRequest, context: grpc.aio.ServicerContext
    ):
        tenant_id = tenant(request)
        limit = page_size(request.page.page_size)
        found = await expected.list_expected(
            self.rt.pool,
            tenant_id,
            booking_id=request.booking_id,
            interviewer_id=request.interviewer_id,
            overdue_only=request.overdue_only,
            after=decode_cursor(request.page.page_token),
            limit=limit,
        )
        return pb.ListExpectedScorecardsResponse(
            expected=[convert.expected_out(r) for r in found.expected], page=_next(found.next_after)
        )

    async def GetTenantActivity(
        self, request: pb.GetTenantActivityRequest, context: grpc.aio.ServicerContext
    ):
        interviews, submitted = await expected.tenant_activity(self.rt.pool, tenant(request))
        return pb.GetTenantActivityResponse(interviews_seen=interviews, scorecards_submitted=submitted)

    # -- templates --------------------------------------------------------------------------------
    @once(pb.CreateTemplateResponse)
    async def CreateTemplate(self, request: pb.CreateTemplateRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        t = await templates.create_template(
            self.rt.pool,
            tenant_id,
            job_id=request.job_id,
            round=request.round,
            dimensions=convert.dimensions_in(list(request.dimensions)),
            created_by=request.created_by,
        )
        return pb.CreateTemplateResponse(template=convert.template_out(t))

    @once(pb.ReviseTemplateResponse)
    async def ReviseTemplate(self, request: pb.ReviseTemplateRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        t = await templates.revise_template(
            self.rt.pool,
            tenant_id,
            request.template_id,
            dimensions=convert.dimensions_in(list(request.dimensions)),
            created_by=request.created_by,
        )
        return pb.ReviseTemplateResponse(template=convert.template_out(t))

    async def GetTemplate(self, request: pb.GetTemplateRequest, context: grpc.aio.ServicerContext):
        t = await templates.get_template(self.rt.pool, tenant(request), request.template_id, request.version)
        return pb.GetTemplateResponse(template=convert.template_out(t))

    async def ListTemplates(self, request: pb.ListTemplatesRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        limit = page_size(request.page.page_size)
        found = await templates.list_templates(
            self.rt.pool,
            tenant_id,
            job_id=request.job_id,
            round=request.round,
            after=decode_cursor(request.page.page_token),
            limit=limit,
        )
        return pb.ListTemplatesResponse(
            templates=[convert.template_out(t) for t in found.templates], page=_next(found.next_after)
        )

    # -- scorecards -------------------------------------------------------------------------------
    @once(pb.SaveDraftResponse)
    async def SaveDraft(self, request: pb.SaveDraftRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        s = await scorecards.save_draft(
            self.rt.pool, tenant_id, convert.card_in(request.scorecard), actor_id=request.actor_id
        )
        return pb.SaveDraftResponse(scorecard=convert.card_out(s))

    @once(pb.SubmitScorecardResponse)
    async def SubmitScorecard(self, request: pb.SubmitScorecardRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        s = await scorecards.submit(
            self.rt.pool, tenant_id, convert.card_in(request.scorecard), actor_id=request.actor_id
        )
        return pb.SubmitScorecardResponse(scorecard=convert.card_out(s))

    @once(pb.AmendScorecardResponse)
    async def AmendScorecard(self, request: pb.AmendScorecardRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        s = await scorecards.amend(
            self.rt.pool,
            tenant_id,
            request.scorecard_id,
            ratings=convert.ratings_in(list(request.ratings)),
            recommendation=request.recommendation,
            confidence=request.confidence or None,
            by=request.amended_by,
            reason=request.reason,
        )
        return pb.AmendScorecardResponse(scorecard=convert.card_out(s))

    async def GetScorecard(self, request: pb.GetScorecardRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        who = scorecards.viewer(request.viewer_interviewer_id, request.viewer_roles)
        history = await scorecards.get_scorecard(self.rt.pool, tenant_id, request.scorecard_id, who)
        return pb.GetScorecardResponse(
            scorecard=convert.card_out(history[-1]), versions=[convert.card_out(s) for s in history]
        )

    async def ListScorecards(self, request: pb.ListScorecardsRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        Check().require(
            bool(request.booking_id or request.candidate_id),
            "booking_id",
            "give a booking_id or a candidate_id",
        ).done()
        who = scorecards.viewer(request.viewer_interviewer_id, request.viewer_roles)
        limit = page_size(request.page.page_size)
        found = await scorecards.list_scorecards(
            self.rt.pool,
            tenant_id,
            who,
            booking_id=request.booking_id,
            candidate_id=request.candidate_id,
            after=decode_cursor(request.page.page_token),
            limit=limit,
        )
        return pb.ListScorecardsResponse(
            scorecards=[convert.card_out(s) for s in found.scorecards],
            page=_next(found.next_after),
            hidden_count=found.hidden,
        )

    @once(pb.RecordDecisionResponse)
    async def RecordDecision(self, request: pb.RecordDecisionRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        row = await outcomes.record_decision(
            self.rt.pool,
            tenant_id,
            candidate_id=request.candidate_id,
            job_id=request.job_id,
            decision=request.decision,
            decided_by=request.decided_by,
            reason=request.reason,
        )
        return pb.RecordDecisionResponse(decision=convert.decision_out(row))

    async def ListDecisions(self, request: pb.ListDecisionsRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        Check().require(bool(request.candidate_id), "candidate_id", "required").done()
        limit = page_size(request.page.page_size)
        found = await outcomes.list_decisions(
            self.rt.pool,
            tenant_id,
            candidate_id=request.candidate_id,
            job_id=request.job_id,
            after=decode_cursor(request.page.page_token),
            limit=limit,
        )
        return pb.ListDecisionsResponse(
            decisions=[convert.decision_out(r) for r in found.decisions], page=_next(found.next_after)
        )

    # -- statistics -------------------------------------------------------------------------------
    async def ListStatistics(self, request: pb.ListStatisticsRequest, context: grpc.aio.ServicerContext):
        rows = await statistics.list_statistics(self.rt.pool, tenant(request), request.job_id)
        return pb.ListStatisticsResponse(keys=[convert.statistics_key_out(r) for r in rows])

    async def ComputeReliability(
        self, request: pb.ComputeReliabilityRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(
            0 <= request.bootstrap_samples <= 20000, "bootstrap_samples", "must be 0..20000"
        ).require(request.min_n >= 0, "min_n", "must be >= 0").done()
        tenant_id = tenant(request)
        rel = await statistics.reliability(
            self.rt.pool,
            tenant_id,
            _key(request),
            n_boot=request.bootstrap_samples or 1000,
            min_n=request.min_n or 10,
            max_cells=self.settings.statistics_max_bootstrap_cells,
        )
        return convert.reliability_out(rel)

    async def GetCalibration(self, request: pb.GetCalibrationRequest, context: grpc.aio.ServicerContext):
        Check().require(request.min_n >= 0, "min_n", "must be >= 0").done()
        tenant_id = tenant(request)
        cal = await statistics.calibration(self.rt.pool, tenant_id, _key(request), min_n=request.min_n or 10)
        return pb.GetCalibrationResponse(
            raters=convert.raters_out(cal),
            residual_sd=convert.num(cal.residual_sd),
            prior_strength=convert.num(cal.prior_strength),
        )

    async def GetDimensionStatistics(
        self, request: pb.GetDimensionStatisticsRequest, context: grpc.aio.ServicerContext
    ):
        tenant_id = tenant(request)
        Check().require(bool(request.job_id), "job_id", "required").require(
            bool(request.round), "round", "required"
        ).done()
        summaries = await statistics.dimension_statistics(
            self.rt.pool, tenant_id, request.job_id, request.round
        )
        return pb.GetDimensionStatisticsResponse(
            dimensions=[convert.summary_out(d, s) for d, s in summaries.items()]
        )

    async def RebuildStatistics(
        self, request: pb.RebuildStatisticsRequest, context: grpc.aio.ServicerContext
    ):
        n, changed = await statistics.rebuild_statistics(self.rt.pool, tenant(request))
        return pb.RebuildStatisticsResponse(keys_rebuilt=n, keys_changed=changed)

    async def GetPredictiveValidity(
        self, request: pb.GetPredictiveValidityRequest, context: grpc.aio.ServicerContext
    ):
        tenant_id = tenant(request)
        Check().require(bool(request.job_id), "job_id", "required").require(
            bool(request.outcome), "outcome", "required, e.g. retention_90d or first_performance_rating"
        ).require(0 <= request.bootstrap_samples <= 20000, "bootstrap_samples", "must be 0..20000").done()
        results = await statistics.predictive_validity(
            self.rt.pool,
            tenant_id,
            request.job_id,
            request.outcome,
            n_boot=request.bootstrap_samples or 1000,
            max_cells=self.settings.statistics_max_bootstrap_cells,
        )
        return pb.GetPredictiveValidityResponse(results=[convert.validity_out(v) for v in results])

    # -- demographics and adverse impact (compliance scope only) ----------------------------------
    async def PutDemographics(self, request: pb.PutDemographicsRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        attrs = await outcomes.put_demographics(
            self.rt.pool,
            tenant_id,
            request.candidate_id,
            dict(request.attributes),
            scopes=request.caller_scopes,
        )
        return pb.PutDemographicsResponse(attributes=attrs)

    async def GetDemographics(self, request: pb.GetDemographicsRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        attrs = await outcomes.get_demographics(
            self.rt.pool, tenant_id, request.candidate_id, scopes=request.caller_scopes
        )
        return pb.GetDemographicsResponse(attributes=attrs)

    async def GetAdverseImpact(self, request: pb.GetAdverseImpactRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        result = await statistics.adverse_impact(
            self.rt.pool, tenant_id, request.job_id, request.round, scopes=request.caller_scopes
        )
        return convert.impact_out(result)

    async def ExportCandidate(self, request: pb.ExportCandidateRequest, context: grpc.aio.ServicerContext):
        tenant_id, candidate_id = export_request(request)
        records = await export.export(self.rt.pool, tenant_id, candidate_id)
        return pb.ExportCandidateResponse(records=to_struct(records))

    async def GetBiasAuditReport(
        self, request: pb.GetBiasAuditReportRequest, context: grpc.aio.ServicerContext
    ):
        tenant_id = tenant(request)
        period = request.period
        report = await statistics.bias_audit(
            self.rt.pool,
            tenant_id,
            scope=convert.AUDIT_SCOPES.get(request.scope),
            job_id=request.job_id,
            round=request.round,
            start=dt(period.start) if period.HasField("start") else None,
            end=dt(period.end) if period.HasField("end") else None,
            selection=convert.AUDIT_SELECTIONS.get(request.selection),
            scopes=request.caller_scopes,
        )
        return pb.GetBiasAuditReportResponse(report=convert.bias_audit_out(report))
