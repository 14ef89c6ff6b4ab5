"""REST controllers of the scorecards resource (registered by app.py through CONTROLLERS).

Identity for the blind rule: a key bound to an interviewer is that interviewer (an admin key may act for one
by sending `X-Interviewer-Id`); the caller then sees only what that interviewer may see (colleagues'
scorecards on a candidate only after submitting their own). Without the header an `admin` key sees
everything. Demographics and adverse impact need `compliance`. Each route's `@allow` says which scopes
may call it; the actor a write is recorded under (`decided_by`, `amended_by`, `created_by`) is the caller,
never the body.
"""

from __future__ import annotations

from typing import Annotated

from interloop.scorecard.v1 import scorecard_pb2 as cpb
from litestar import Controller, Request, get, post, put
from litestar.params import Parameter

from interloop_gateway.auth import actor_of, allow, principal_of, require_api_key
from interloop_gateway.domain.scorecards import schemas
from interloop_gateway.domain.scorecards.schemas import Items
from interloop_gateway.domain.scorecards.services import (
    acting,
    dimension_pb,
    interviewer_of,
    owed_by,
    owed_out,
    ratings_pb,
    roles_of,
    scorecard_detail_out,
    scorecard_out,
    scorecard_pb,
    to_out,
)
from interloop_gateway.idempotency import idempotent
from interloop_gateway.wire import Cursor, Limit, Page

Job = Annotated[str, Parameter(query="job_id", min_length=1)]
Round = Annotated[str, Parameter(query="round", min_length=1)]
Dim = Annotated[str, Parameter(query="dimension", min_length=1)]
Boot = Annotated[int, Parameter(query="bootstrap_samples", default=1000, ge=10, le=20000)]
MinN = Annotated[int, Parameter(query="min_n", default=10, ge=1, le=10000)]


# Actors come from the principal, never the body; the route descriptions say so.
BY_CALLER = (
    "`{field}` is the caller: the interviewer the key belongs to, else the key itself "
    "(`api-key:<first 16 hex digits of its SHA-256>`); a `{field}` in the body is ignored."
)
AS_THEMSELVES = (
    "An interviewer key writes only its own scorecards: one belonging to another interviewer (or a body "
    "whose `interviewer_id` names another) is refused with 403. An admin key may write for the interviewer "
    "named in `X-Interviewer-Id`, or without it for the body's `interviewer_id`."
)


def _tenant(request: Request) -> str:
    return principal_of(request).tenant_id


def _scorecard(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.backends.scorecard


class TemplatesController(Controller):
    path = "/v1/scorecard-templates"
    tags = ["scorecard templates"]
    guards = [require_api_key]

    @allow("admin")
    @post(
        "/",
        summary="Create a scorecard template for a job and interview round (version 1)",
        description=BY_CALLER.format(field="created_by"),
        status_code=201,
    )
    @idempotent
    async def create(self, request: Request, data: schemas.TemplateIn) -> schemas.TemplateOut:
        resp = await _scorecard(request).CreateTemplate(
            cpb.CreateTemplateRequest(
                tenant_id=_tenant(request),
                job_id=data.job_id,
                round=data.round,
                created_by=actor_of(principal_of(request)),
                dimensions=[dimension_pb(d) for d in data.dimensions],
            )
        )
        return to_out(resp.template, schemas.TemplateOut)

    @allow("admin")
    @post(
        "/{template_id:str}/versions",
        summary="Revise a template (a new version; old versions stay)",
        description=BY_CALLER.format(field="created_by"),
        status_code=201,
    )
    @idempotent
    async def revise(
        self, request: Request, template_id: str, data: schemas.TemplateRevisionIn
    ) -> schemas.TemplateOut:
        resp = await _scorecard(request).ReviseTemplate(
            cpb.ReviseTemplateRequest(
                tenant_id=_tenant(request),
                template_id=template_id,
                created_by=actor_of(principal_of(request)),
                dimensions=[dimension_pb(d) for d in data.dimensions],
            )
        )
        return to_out(resp.template, schemas.TemplateOut)

    @allow("admin", "recruiter", "interviewer")
    @get("/", summary="List templates (latest version of each)")
    async def list(
        self, request: Request, cursor: Cursor, limit: Limit, job_id: str = "", round: str = ""
    ) -> schemas.TemplatesPage:
        resp = await _scorecard(request).ListTemplates(
            cpb.ListTemplatesRequest(
                tenant_id=_tenant(request),
                job_id=job_id,
                round=round,
                page={"page_size": limit, "page_token": cursor},
            )
        )
        return Page(
            [to_out(t, schemas.TemplateOut) for t in resp.templates], resp.page.next_page_token or None
        )

    @allow("admin", "recruiter", "interviewer")
    @get("/{template_id:str}", summary="A template version (latest unless ?version=)")
    async def read(
        self,
        request: Request,
        template_id: str,
        version: Annotated[int, Parameter(query="version", default=0, ge=0, le=2**31 - 1)],
    ) -> schemas.TemplateOut:
        resp = await _scorecard(request).GetTemplate(
            cpb.GetTemplateRequest(tenant_id=_tenant(request), template_id=template_id, version=version)
        )
        return to_out(resp.template, schemas.TemplateOut)


class ScorecardsController(Controller):
    path = "/v1/scorecards"
    tags = ["scorecards"]
    guards = [require_api_key]

    @allow("admin", "interviewer")
    @post(
        "/",
        summary="Save a draft scorecard for an interview, or submit it with submit=true",
        description=AS_THEMSELVES,
        status_code=201,
    )
    @idempotent
    async def save(self, request: Request, data: schemas.ScorecardIn) -> schemas.ScorecardOut:
        tenant, actor, card = _tenant(request), acting(request, data.interviewer_id), scorecard_pb(data)
        if data.submit:
            resp = await _scorecard(request).SubmitScorecard(
                cpb.SubmitScorecardRequest(tenant_id=tenant, scorecard=card, actor_id=actor)
            )
        else:
            resp = await _scorecard(request).SaveDraft(
                cpb.SaveDraftRequest(tenant_id=tenant, scorecard=card, actor_id=actor)
            )
        return scorecard_out(resp.scorecard)

    async def _interviewer_of_card(self, request: Request, scorecard_id: str) -> str:
        resp = await _scorecard(request).GetScorecard(
            cpb.GetScorecardRequest(
                tenant_id=_tenant(request),
                scorecard_id=scorecard_id,
                viewer_interviewer_id=interviewer_of(request),
                viewer_roles=roles_of(request),
            )
        )
        return resp.scorecard.interviewer_id

    @allow("admin", "interviewer")
    @post(
        "/{scorecard_id:str}/submit",
        summary="Submit a draft (optionally with its final content)",
        description=AS_THEMSELVES,
        status_code=200,
    )
    @idempotent
    async def submit(
        self, request: Request, scorecard_id: str, data: schemas.SubmitIn | None = None
    ) -> schemas.ScorecardOut:
        owner = await self._interviewer_of_card(request, scorecard_id)
        actor = acting(request, owner)
        body = data or schemas.SubmitIn()
        resp = await _scorecard(request).SubmitScorecard(
            cpb.SubmitScorecardRequest(
                tenant_id=_tenant(request),
                actor_id=actor,
                scorecard=cpb.Scorecard(
                    id=scorecard_id,
                    ratings=ratings_pb(body.ratings),
                    recommendation=body.recommendation,
                    confidence=float(body.confidence or 0),
                ),
            )
        )
        return scorecard_out(resp.scorecard)

    @allow("admin", "interviewer")
    @post(
        "/{scorecard_id:str}/amendments",
        summary="Amend a submitted scorecard (a new version with who/when/why)",
        description=f"{AS_THEMSELVES} `amended_by` is that interviewer, else the key itself; an "
        "`amended_by` in the body is ignored.",
        status_code=201,
    )
    @idempotent
    async def amend(
        self, request: Request, scorecard_id: str, data: schemas.AmendmentIn
    ) -> schemas.ScorecardOut:
        owner = await self._interviewer_of_card(request, scorecard_id)
        by = acting(request, owner) or actor_of(principal_of(request))
        resp = await _scorecard(request).AmendScorecard(
            cpb.AmendScorecardRequest(
                tenant_id=_tenant(request),
                scorecard_id=scorecard_id,
                ratings=ratings_pb(data.ratings),
                recommendation=data.recommendation,
                confidence=float(data.confidence or 0),
                amended_by=by,
                reason=data.reason,
            )
        )
        return scorecard_out(resp.scorecard)

    @allow("admin", "interviewer")
    @get(
        "/{scorecard_id:str}",
        summary="A scorecard with its version history (blind until you submitted yours)",
    )
    async def read(self, request: Request, scorecard_id: str) -> schemas.ScorecardDetailOut:
        resp = await _scorecard(request).GetScorecard(
            cpb.GetScorecardRequest(
                tenant_id=_tenant(request),
                scorecard_id=scorecard_id,
                viewer_interviewer_id=interviewer_of(request),
                viewer_roles=roles_of(request),
            )
        )
        return scorecard_detail_out(resp)

    @allow("admin", "interviewer")
    @get("/", summary="Scorecards of an interview or candidate that the caller may see")
    async def list(
        self, request: Request, cursor: Cursor, limit: Limit, interview_id: str = "", candidate_id: str = ""
    ) -> schemas.ScorecardsPage:
        resp = await _scorecard(request).ListScorecards(
            cpb.ListScorecardsRequest(
                tenant_id=_tenant(request),
                booking_id=interview_id,
                candidate_id=candidate_id,
                viewer_interviewer_id=interviewer_of(request),
                viewer_roles=roles_of(request),
                page={"page_size": limit, "page_token": cursor},
            )
        )
        return schemas.ScorecardsPage(
            items=[scorecard_out(c) for c in resp.scorecards],
            hidden_count=resp.hidden_count,
            next_cursor=resp.page.next_page_token or None,
        )


class ExpectedScorecardsController(Controller):
    path = "/v1/expected-scorecards"
    tags = ["scorecards"]
    guards = [require_api_key]

    @allow("admin", "recruiter", "interviewer")
    @get("/", summary="Scorecards owed for held interviews; overdue=true lists those past due")
    async def list(
        self,
        request: Request,
        cursor: Cursor,
        limit: Limit,
        overdue: bool = False,
        interviewer_id: str = "",
        interview_id: str = "",
    ) -> schemas.OwedScorecardsPage:
        resp = await _scorecard(request).ListExpectedScorecards(
            cpb.ListExpectedScorecardsRequest(
                tenant_id=_tenant(request),
                booking_id=interview_id,
                overdue_only=overdue,
                interviewer_id=owed_by(request, interviewer_id),
                page={"page_size": limit, "page_token": cursor},
            )
        )
        return Page([owed_out(e) for e in resp.expected], resp.page.next_page_token or None)


class DecisionsController(Controller):
    path = "/v1/decisions"
    tags = ["decisions"]
    guards = [require_api_key]

    @allow("admin", "recruiter")
    @post(
        "/",
        summary="Record a hiring decision (announced as decision.recorded)",
        description=BY_CALLER.format(field="decided_by"),
        status_code=201,
    )
    @idempotent
    async def record(self, request: Request, data: schemas.DecisionIn) -> schemas.DecisionOut:
        resp = await _scorecard(request).RecordDecision(
            cpb.RecordDecisionRequest(
                tenant_id=_tenant(request),
                candidate_id=data.candidate_id,
                job_id=data.job_id,
                decision=data.decision,
                decided_by=actor_of(principal_of(request)),
                reason=data.reason,
            )
        )
        return to_out(resp.decision, schemas.DecisionOut)


class StatisticsController(Controller):
    path = "/v1/scorecard-statistics"
    tags = ["scorecard statistics"]
    guards = [require_api_key]

    @allow("admin", "recruiter", "compliance")
    @get("/", summary="Which (job, round, dimension) have statistics, with their rating counts")
    async def keys(self, request: Request, job_id: str = "") -> schemas.StatisticsKeysOut:
        resp = await _scorecard(request).ListStatistics(
            cpb.ListStatisticsRequest(tenant_id=_tenant(request), job_id=job_id)
        )
        return Items([to_out(k, schemas.StatisticsKeyOut) for k in resp.keys])

    @allow("admin", "recruiter", "compliance")
    @get(
        "/reliability",
        summary="ICC (six forms), Krippendorff's alpha (4 levels + bootstrap CI), Fleiss, Gwet, "
        "pairwise Cohen kappa and calibration of one dimension",
    )
    async def reliability(
        self,
        request: Request,
        job_id: Job,
        round: Round,
        dimension: Dim,
        bootstrap_samples: Boot,
        min_n: MinN,
    ) -> schemas.ReliabilityOut:
        resp = await _scorecard(request).ComputeReliability(
            cpb.ComputeReliabilityRequest(
                tenant_id=_tenant(request),
                job_id=job_id,
                round=round,
                dimension=dimension,
                bootstrap_samples=bootstrap_samples,
                min_n=min_n,
            ),
            timeout=60,
        )
        return to_out(resp, schemas.ReliabilityOut)

    @allow("admin", "recruiter", "compliance")
    @get("/calibration", summary="Interviewer leniency, erratic, agreement with min-N flags and shrinkage")
    async def calibration(
        self, request: Request, job_id: Job, round: Round, dimension: Dim, min_n: MinN
    ) -> schemas.CalibrationOut:
        resp = await _scorecard(request).GetCalibration(
            cpb.GetCalibrationRequest(
                tenant_id=_tenant(request), job_id=job_id, round=round, dimension=dimension, min_n=min_n
            )
        )
        return to_out(resp, schemas.CalibrationOut)

    @allow("admin", "recruiter", "compliance")
    @get("/dimensions", summary="Per-dimension distributions, means, SDs and disagreement of a round")
    async def dimensions(
        self, request: Request, job_id: Job, round: Round
    ) -> schemas.DimensionStatisticsListOut:
        resp = await _scorecard(request).GetDimensionStatistics(
            cpb.GetDimensionStatisticsRequest(tenant_id=_tenant(request), job_id=job_id, round=round)
        )
        return Items([to_out(d, schemas.DimensionStatisticsOut) for d in resp.dimensions])

    @allow("admin", "recruiter", "compliance")
    @get("/validity", summary="Predictive validity of each round and dimension against an HRIS outcome")
    async def validity(
        self,
        request: Request,
        job_id: Job,
        outcome: Annotated[str, Parameter(query="outcome", min_length=1)],
        bootstrap_samples: Boot,
    ) -> schemas.ValidityResultsOut:
        resp = await _scorecard(request).GetPredictiveValidity(
            cpb.GetPredictiveValidityRequest(
                tenant_id=_tenant(request),
                job_id=job_id,
                outcome=outcome,
                bootstrap_samples=bootstrap_samples,
            ),
            timeout=60,
        )
        return Items([to_out(v, schemas.ValidityOut) for v in resp.results])

    @allow("admin")
    @post(
        "/rebuild",
        summary="Recompute every statistic from the scorecards and report drift (admin)",
        status_code=200,
    )
    @idempotent
    async def rebuild(self, request: Request) -> schemas.RebuildOut:
        resp = await _scorecard(request).RebuildStatistics(
            cpb.RebuildStatisticsRequest(tenant_id=_tenant(request)), timeout=60
        )
        return to_out(resp, schemas.RebuildOut)


class ComplianceController(Controller):
    path = "/v1/compliance"
    tags = ["compliance"]
    guards = [require_api_key]

    @allow("compliance")
    @put(
        "/candidates/{candidate_id:str}/demographics",
        summary="Store a candidate's self-identified demographics",
    )
    # Not @idempotent: PUT repeats harmlessly, and a stored answer would copy the demographics into the
    # gateway's idempotency table, out of reach of the candidate's erasure.
    async def put_demographics(
        self, request: Request, candidate_id: str, data: schemas.DemographicsIn
    ) -> schemas.DemographicsOut:
        scopes = list(principal_of(request).scopes)
        resp = await _scorecard(request).PutDemographics(
            cpb.PutDemographicsRequest(
                tenant_id=_tenant(request),
                candidate_id=candidate_id,
                attributes=data.attributes,
                caller_scopes=scopes,
            )
        )
        return schemas.DemographicsOut(candidate_id, dict(resp.attributes))

    @allow("compliance")
    @get(
        "/candidates/{candidate_id:str}/demographics", summary="A candidate's demographics (compliance only)"
    )
    async def get_demographics(self, request: Request, candidate_id: str) -> schemas.DemographicsOut:
        scopes = list(principal_of(request).scopes)
        resp = await _scorecard(request).GetDemographics(
            cpb.GetDemographicsRequest(
                tenant_id=_tenant(request), candidate_id=candidate_id, caller_scopes=scopes
            )
        )
        return schemas.DemographicsOut(candidate_id, dict(resp.attributes))

    @allow("compliance")
    @get(
        "/adverse-impact", summary="EEOC four-fifths selection rates and NYC LL144 scoring rates by category"
    )
    async def adverse_impact(
        self, request: Request, job_id: Job, round: str = ""
    ) -> schemas.AdverseImpactOut:
        scopes = list(principal_of(request).scopes)
        resp = await _scorecard(request).GetAdverseImpact(
            cpb.GetAdverseImpactRequest(
                tenant_id=_tenant(request), job_id=job_id, round=round, caller_scopes=scopes
            )
        )
        return to_out(resp, schemas.AdverseImpactOut)


CONTROLLERS: list[type] = [
    TemplatesController,
    ScorecardsController,
    ExpectedScorecardsController,
    DecisionsController,
    StatisticsController,
    ComplianceController,
]
