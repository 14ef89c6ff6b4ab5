"""REST: candidates' privacy rights. An access request (GDPR Art. 15) gathers every record about the person
from every service; an erasure request (Art. 17, CCPA) fans out to every service and is tracked until each
has erased and left its tombstone."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import msgspec
from interloop.sync.v1 import sync_pb2 as pb
from interloop_common import db
from interloop_common.clock import utc_now
from litestar import Controller, Request, Response, get, post

from interloop_gateway.audit import about
from interloop_gateway.auth import actor_of, allow, principal_of, require_api_key
from interloop_gateway.domain.privacy import exports
from interloop_gateway.domain.privacy.retention import RetentionController
from interloop_gateway.idempotency import idempotent
from interloop_gateway.problems import problem
from interloop_gateway.store import privacy as store
from interloop_gateway.wire import Timestamp, iso, pb_iso

CandidateId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ErasureIn(msgspec.Struct):
    candidate_id: CandidateId
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ErasureStepOut(msgspec.Struct):
    # sync, scheduler, scorecard, or ats:<connection id> (the erasure passed on to that ATS, Art. 19)
    service: str
    # pending, done, not_supported (erase them there by hand: `detail` says why) or failed
    status: str
    done_at: Timestamp | None = None
    detail: str = ""


class ErasureOut(msgspec.Struct):
    id: str
    candidate_id: str
    status: str
    requested_by: str
    reason: str
    requested_at: Timestamp
    steps: list[ErasureStepOut]
    completed_at: Timestamp | None = None


def erasure_out(e: pb.Erasure) -> ErasureOut:
    return ErasureOut(
        id=e.id,
        candidate_id=e.candidate_id,
        status=e.status,
        requested_by=e.requested_by,
        reason=e.reason,
        requested_at=pb_iso(e.requested_at),
        completed_at=pb_iso(e.completed_at) if e.HasField("completed_at") else None,
        steps=[
            ErasureStepOut(
                service=s.service,
                status=s.status,
                done_at=pb_iso(s.done_at) if s.HasField("done_at") else None,
                detail=s.detail,
            )
            for s in e.steps
        ],
    )


class ErasuresController(Controller):
    path = "/v1/privacy/erasures"
    tags = ["privacy"]
    guards = [require_api_key]

    @allow("admin", "compliance")
    @post(
        "/",
        summary="Erase a candidate everywhere (GDPR Art. 17): tracked until every service has",
        description=(
            "Sync erases its mirror, planned and sent messages and dead letters at once; the scheduler and "
            "the scorecard service follow over Kafka and acknowledge (`steps`). Scores and decisions stay, "
            "under the opaque candidate id, for the statistics. From the moment each service has erased, "
            "nothing is written or sent about the candidate there, whatever is still in flight. "
            "Answered 202 while steps are pending; poll `GET /v1/privacy/erasures/{id}`."
        ),
        status_code=202,
    )
    @idempotent
    async def create(self, request: Request, data: ErasureIn) -> ErasureOut:
        principal = principal_of(request)
        about(request, data.candidate_id)
        resp = await request.app.state.backends.sync.EraseCandidate(
            pb.EraseCandidateRequest(
                tenant_id=principal.tenant_id,
                candidate_id=data.candidate_id,
                requested_by=actor_of(principal),
                reason=data.reason,
            )
        )
        return erasure_out(resp.erasure)

    @allow("admin", "compliance")
    @get("/{erasure_id:str}", summary="An erasure request and each service's step")
    async def show(self, request: Request, erasure_id: str) -> ErasureOut:
        resp = await request.app.state.backends.sync.GetErasure(
            pb.GetErasureRequest(tenant_id=principal_of(request).tenant_id, erasure_id=erasure_id)
        )
        about(request, resp.erasure.candidate_id)
        return erasure_out(resp.erasure)


class ExportIn(msgspec.Struct):
    # the candidate's id, or the email address they wrote from (one of the two)
    candidate_id: Annotated[str, msgspec.Meta(max_length=200)] = ""
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""


class ExportOut(msgspec.Struct):
    id: str
    candidate_id: str
    status: str
    requested_by: str
    requested_at: Timestamp
    due_by: Timestamp
    # service -> table -> how many records the bundle holds (when it was first gathered)
    counts: dict[str, dict[str, int]]
    fulfilled_at: Timestamp | None = None


class BundleOut(msgspec.Struct):
    export_id: str
    candidate_id: str
    generated_at: Timestamp
    # service -> table -> records (JSON objects, as each service holds them)
    services: dict[str, dict[str, list[dict[str, Any]]]]


def export_out(r: Any) -> ExportOut:
    return ExportOut(
        id=str(r["id"]),
        candidate_id=r["candidate_id"],
        status="completed" if r["fulfilled_at"] else "pending",
        requested_by=r["requested_by"],
        requested_at=iso(r["requested_at"]),
        due_by=iso(r["due_by"]),
        fulfilled_at=iso(r["fulfilled_at"]) if r["fulfilled_at"] else None,
        counts=json.loads(r["counts"]) if isinstance(r["counts"], str) else r["counts"],
    )


async def _candidate(request: Request, tenant_id: str, data: ExportIn) -> str:
    """The candidate an access request is about: named, or found by the email they wrote from."""
    if bool(data.candidate_id) == bool(data.email):
        raise problem(
            400,
            "name the candidate: candidate_id or email, one of the two",
            extra={"errors": [{"field": "candidate_id", "detail": "give candidate_id or email"}]},
        )
    if data.candidate_id:
        return data.candidate_id
    found = await request.app.state.backends.sync.FindCandidates(
        pb.FindCandidatesRequest(tenant_id=tenant_id, email=data.email)
    )
    ids = list(found.candidate_ids)
    if not ids:
        raise problem(404, "no candidate with that email address")
    if len(ids) > 1:
        raise problem(
            409,
            f"{len(ids)} candidates have that email address: export each by candidate_id",
            extra={"candidate_ids": ids},
        )
    return ids[0]


async def _stored(request: Request, export_id: str) -> Any:
    try:
        key = uuid.UUID(export_id)
    except ValueError:
        raise problem(
            400, "not an export id", extra={"errors": [{"field": "export_id", "detail": "not an export id"}]}
        ) from None
    tenant_id = principal_of(request).tenant_id
    async with db.tenant_tx(request.app.state.pool, tenant_id) as conn:
        row = await store.get(conn, tenant_id, key)
    if row is None:
        raise problem(404, f"export {export_id} not found")
    about(request, row["candidate_id"])
    return row


class ExportsController(Controller):
    path = "/v1/privacy/exports"
    tags = ["privacy"]
    guards = [require_api_key]

    @allow("compliance")
    @post(
        "/",
        summary="An access request (GDPR Art. 15): every record about a candidate, from every service",
        description=(
            "Gathers what sync, the scheduler, the scorecard service and the gateway hold about the "
            "candidate (mirror, applications, messages planned and sent, scheduling requests, bookings, "
            "scorecards with evidence, decisions, demographics, the audit trail) and records the request "
            "with its statutory deadline (one month). The bundle is `GET …/{id}/bundle` (JSON) and "
            "`…/{id}/summary.html` (a readable page); it is gathered when fetched and never stored. "
            "Compliance scope only."
        ),
        status_code=201,
    )
    @idempotent
    async def create(self, request: Request, data: ExportIn) -> ExportOut:
        principal = principal_of(request)
        candidate_id = await _candidate(request, principal.tenant_id, data)
        about(request, candidate_id)
        bundle = await exports.gather(request.app.state, principal.tenant_id, candidate_id)
        async with db.tenant_tx(request.app.state.pool, principal.tenant_id) as conn:
            row = await store.create(
                conn,
                principal.tenant_id,
                candidate_id,
                actor_of(principal),
                utc_now(),
                store.counts_of(bundle),
            )
        return export_out(row)

    @allow("compliance")
    @get("/{export_id:str}", summary="An access request: its deadline, when it was met, what it holds")
    async def show(self, request: Request, export_id: str) -> ExportOut:
        return export_out(await _stored(request, export_id))

    @allow("compliance")
    @get("/{export_id:str}/bundle", summary="The candidate's data, as JSON (gathered now from every service)")
    async def bundle(self, request: Request, export_id: str) -> BundleOut:
        row = await _stored(request, export_id)
        tenant_id = principal_of(request).tenant_id
        services = await exports.gather(request.app.state, tenant_id, row["candidate_id"])
        return BundleOut(str(row["id"]), row["candidate_id"], iso(utc_now()), services)

    @allow("compliance")
    @get(
        "/{export_id:str}/summary.html",
        summary="The candidate's data as a readable page",
        include_in_schema=False,
    )
    async def summary(self, request: Request, export_id: str) -> Response:
        row = await _stored(request, export_id)
        tenant_id = principal_of(request).tenant_id
        services = await exports.gather(request.app.state, tenant_id, row["candidate_id"])
        return Response(
            exports.summary_html(tenant_id, row["candidate_id"], iso(utc_now()), services),
            media_type="text/html",
            headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


CONTROLLERS = [ErasuresController, ExportsController, RetentionController]
