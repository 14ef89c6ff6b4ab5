"""REST: the bias-audit report (NYC Local Law 144 style) for compliance, as JSON and as a printable page."""

from __future__ import annotations

from typing import Annotated

import msgspec
from interloop.sync.v1 import sync_pb2 as spb
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from interloop_gateway.auth import allow, principal_of, require_api_key
from interloop_gateway.domain.bias_audit import schemas, services
from interloop_gateway.idempotency import idempotent

ScopeQ = Annotated[schemas.Scope, Parameter(query="scope", default="job")]
JobQ = Annotated[str, Parameter(query="job_id", default="", max_length=200)]
RoundQ = Annotated[str, Parameter(query="round", default="", max_length=200)]
FromQ = Annotated[str, Parameter(query="from", description="first day, YYYY-MM-DD", max_length=10)]
ToQ = Annotated[str, Parameter(query="to", description="last day, YYYY-MM-DD (inclusive)", max_length=10)]
SelectionQ = Annotated[schemas.Selection, Parameter(query="selection", default="advanced_or_hired")]


async def _report(
    request: Request, scope: str, job_id: str, round: str, from_: str, to: str, selection: str
) -> schemas.BiasAuditOut:
    principal = principal_of(request)
    resp = await request.app.state.backends.scorecard.GetBiasAuditReport(
        services.request_pb(
            principal.tenant_id,
            list(principal.scopes),
            scope=scope,
            job_id=job_id,
            round=round,
            from_=from_,
            to=to,
            selection=selection,
        )
    )
    return services.report_out(resp.report)


class BiasAuditController(Controller):
    path = "/v1/compliance/bias-audit"
    tags = ["compliance"]
    guards = [require_api_key]

    @allow("compliance")
    @get(
        "/",
        summary="A Local Law 144 style bias audit over a date range (per tenant, job or round)",
        description=(
            "Selection rates and, where scorecards exist, scoring rates with impact ratios by sex, "
            "race/ethnicity and their intersections; categories under 2% shown and excluded; four-fifths "
            "flags. The same report as a printable page: `report.html` under this path, same parameters."
        ),
    )
    async def report(
        self,
        request: Request,
        from_: FromQ,
        to: ToQ,
        level: ScopeQ = "job",
        job_id: JobQ = "",
        round: RoundQ = "",
        selection: SelectionQ = "advanced_or_hired",
    ) -> schemas.BiasAuditOut:
        return await _report(request, level, job_id, round, from_, to, selection)

    @allow("compliance")
    @get("/report.html", summary="The bias audit as a printable page", include_in_schema=False)
    async def page(
        self,
        request: Request,
        from_: FromQ,
        to: ToQ,
        level: ScopeQ = "job",
        job_id: JobQ = "",
        round: RoundQ = "",
        selection: SelectionQ = "advanced_or_hired",
    ) -> Response:
        report = await _report(request, level, job_id, round, from_, to, selection)
        return Response(
            services.report_html(report, principal_of(request).tenant_id),
            media_type="text/html",
            headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


class DemographicsImportIn(msgspec.Struct):
    connection_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class DemographicsImportOut(msgspec.Struct):
    received: int
    reported: int
    unknown_candidates: int
    declined: int


class DemographicsImportController(Controller):
    path = "/v1/compliance/demographics-imports"
    tags = ["compliance"]
    guards = [require_api_key]

    @allow("compliance")
    @post(
        "/",
        summary="Read candidates' EEOC self-identification from a Greenhouse connection for the bias audit",
        description=(
            "Harvest v1 `GET /v1/eeoc` through the connection's API credentials: for each candidate the "
            "mirror holds (and not erased), the answers given become their `sex` and `race` (merged over "
            "what is stored; a declined question is left out). Sync keeps no copy. 409 for a connection "
            "that is not Greenhouse or has no Harvest API credentials."
        ),
        status_code=200,
    )
    @idempotent
    async def run(self, request: Request, data: DemographicsImportIn) -> DemographicsImportOut:
        r = await request.app.state.backends.sync.ImportDemographics(
            spb.ImportDemographicsRequest(
                tenant_id=principal_of(request).tenant_id, connection_id=data.connection_id
            )
        )
        return DemographicsImportOut(r.received, r.reported, r.unknown_candidates, r.declined)


CONTROLLERS = [BiasAuditController, DemographicsImportController]
