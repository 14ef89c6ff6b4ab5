"""REST: connections to ATS/HRIS vendors, dead letters and replay, automation rules, the hiring funnel."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from google.protobuf import json_format, struct_pb2
from interloop.sync.v1 import sync_pb2 as pb
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from interloop_gateway.auth import principal_of, require_any_scope, require_api_key
from interloop_gateway.domain.connections import schemas
from interloop_gateway.idempotency import run_idempotent
from interloop_gateway.problems import problem

Cursor = Annotated[str, Parameter(query="cursor", default="", description="next_cursor of the previous page")]
Limit = Annotated[int, Parameter(query="limit", default=50, ge=1, le=500)]
_MODES = {"active": pb.CONNECTION_MODE_ACTIVE, "shadow": pb.CONNECTION_MODE_SHADOW}
_MODE_NAMES = {v: k for k, v in _MODES.items()}


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


def _dict(value: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(value)


def connection_out(c: pb.Connection) -> dict[str, Any]:
    return {
        "id": c.id,
        "provider": c.provider,
        "mode": _MODE_NAMES.get(c.mode, "active"),
        "owner": c.owner,
        "name": c.name,
        "base_url": c.base_url,
        "created_at": c.created_at.ToDatetime().isoformat() + "Z",
        "field_mapping": _dict(c.field_mapping),
        "stage_policy": _dict(c.stage_policy),
        "hris_connection_id": c.hris_connection_id,
        "settings": dict(c.settings),
    }


def rule_out(r: pb.AutomationRule) -> dict[str, Any]:
    return {
        "id": r.id,
        "dsl": r.dsl,
        "rule": _dict(r.json) if r.HasField("json") else None,
        "on": r.on,
        "action": r.action,
        "enabled": not r.disabled,
    }


class ConnectionsController(Controller):
    path = "/v1/connections"
    tags = ["connections"]
    guards = [require_api_key]

    @post(
        "/",
        summary="Connect an ATS or HRIS (credentials are stored encrypted, never returned)",
        status_code=201,
    )
    async def create(self, request: Request, data: schemas.ConnectionIn) -> Response:
        tenant = principal_of(request).tenant_id
        raw = await request.body()

        async def act() -> tuple[int, dict]:
            resp = await request.app.state.backends.sync.CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=tenant,
                    credentials=data.credentials,
                    connection=pb.Connection(
                        provider=data.provider,
                        mode=_MODES[data.mode],
                        owner=data.owner,
                        name=data.name,
                        base_url=data.base_url,
                        field_mapping=_struct(data.field_mapping),
                        stage_policy=_struct(data.stage_policy),
                        hris_connection_id=data.hris_connection_id,
                        settings=data.settings,
                    ),
                )
            )
            return 201, connection_out(resp.connection)

        return await run_idempotent(request, tenant, raw, act)

    @get("/", summary="List connections")
    async def list(self, request: Request, cursor: Cursor, limit: Limit) -> dict:
        resp = await request.app.state.backends.sync.ListConnections(
            pb.ListConnectionsRequest(
                tenant_id=principal_of(request).tenant_id, page={"page_size": limit, "page_token": cursor}
            )
        )
        return {
            "items": [connection_out(c) for c in resp.connections],
            "next_cursor": resp.page.next_page_token or None,
        }

    @get("/{connection_id:str}", summary="One connection")
    async def get(self, request: Request, connection_id: str) -> dict:
        resp = await request.app.state.backends.sync.GetConnection(
            pb.GetConnectionRequest(tenant_id=principal_of(request).tenant_id, connection_id=connection_id)
        )
        return connection_out(resp.connection)

    @post("/{connection_id:str}/reconcile", summary="Run reconciliation with the ATS now", status_code=200)
    async def reconcile(self, request: Request, connection_id: str) -> dict:
        resp = await request.app.state.backends.sync.RunReconciliation(
            pb.RunReconciliationRequest(
                tenant_id=principal_of(request).tenant_id, connection_id=connection_id
            ),
            timeout=120,
        )
        return {"fetched": resp.fetched, "upserted": resp.upserted, "cursor": resp.cursor}


class DeadLettersController(Controller):
    path = "/v1/dead-letters"
    tags = ["dead-letters"]
    guards = [require_api_key]

    @get("/", summary="Records that could not be processed after bounded retries")
    async def list(self, request: Request, cursor: Cursor, limit: Limit) -> dict:
        resp = await request.app.state.backends.sync.ListDeadLetters(
            pb.ListDeadLettersRequest(
                tenant_id=principal_of(request).tenant_id, page={"page_size": limit, "page_token": cursor}
            )
        )
        return {
            "items": [
                {
                    "id": d.id,
                    "topic": d.topic,
                    "reason": d.reason,
                    "attempts": d.attempts,
                    "event_type": d.event_type,
                    "failed_at": d.failed_at.ToDatetime().isoformat() + "Z",
                }
                for d in resp.dead_letters
            ],
            "next_cursor": resp.page.next_page_token or None,
        }

    @post("/replay", summary="Republish open dead letters (all, or the given ids)", status_code=200)
    async def replay(self, request: Request, data: schemas.ReplayIn) -> Response:
        tenant = principal_of(request).tenant_id
        raw = await request.body()

        async def act() -> tuple[int, dict]:
            resp = await request.app.state.backends.sync.ReplayDeadLetters(
                pb.ReplayDeadLettersRequest(tenant_id=tenant, ids=data.ids)
            )
            return 200, {"replayed": resp.replayed}

        return await run_idempotent(request, tenant, raw, act)


class CommunicationsController(Controller):
    path = "/v1/communications"
    tags = ["communications"]
    guards = [require_api_key]

    @get("/", summary="What was sent (invites, links, reminders, alerts, webhooks), newest first")
    async def list(
        self,
        request: Request,
        cursor: Cursor,
        limit: Limit,
        candidate_id: Annotated[str, Parameter(query="candidate_id", default="")],
        recipient: Annotated[str, Parameter(query="recipient", default="")],
    ) -> dict:
        require_any_scope(request, "admin", "recruiter")  # candidates' addresses: not for interviewers
        resp = await request.app.state.backends.sync.ListCommunications(
            pb.ListCommunicationsRequest(
                tenant_id=principal_of(request).tenant_id,
                candidate_id=candidate_id,
                recipient=recipient,
                page={"page_size": limit, "page_token": cursor},
            )
        )
        return {
            "items": [
                {
                    "id": c.id,
                    "channel": c.channel,
                    "recipient": c.recipient,
                    "subject": c.subject,
                    "status": c.status,
                    "kind": c.kind,
                    "rule_id": c.rule_id,
                    "candidate_id": c.candidate_id or None,
                    "interview_id": c.booking_id or None,
                    "event_at": c.event_at.ToDatetime(tzinfo=UTC).isoformat(),
                    "sent_at": c.sent_at.ToDatetime(tzinfo=UTC).isoformat(),
                    "seconds_after_event": round(c.seconds_after_event, 3),
                }
                for c in resp.communications
            ],
            "next_cursor": resp.page.next_page_token or None,
        }


class AutomationsController(Controller):
    path = "/v1/automations"
    tags = ["automations"]
    guards = [require_api_key]

    @post("/", summary="Create or replace an automation rule (DSL or JSON form)", status_code=201)
    async def create(self, request: Request, data: schemas.AutomationRuleIn) -> Response:
        tenant = principal_of(request).tenant_id
        raw = await request.body()

        async def act() -> tuple[int, dict]:
            rule = pb.AutomationRule(id=data.id, dsl=data.dsl, disabled=not data.enabled)
            if data.rule:
                rule.json.CopyFrom(_struct(data.rule))
            resp = await request.app.state.backends.sync.CreateAutomationRule(
                pb.CreateAutomationRuleRequest(
                    tenant_id=tenant,
                    rule=rule,
                    templates=[
                        pb.EmailTemplate(name=t.name, subject=t.subject, body=t.body, html=t.html)
                        for t in data.templates
                    ],
                )
            )
            return 201, rule_out(resp.rule)

        return await run_idempotent(request, tenant, raw, act)

    @get("/", summary="List automation rules")
    async def list(self, request: Request, cursor: Cursor, limit: Limit) -> dict:
        resp = await request.app.state.backends.sync.ListAutomationRules(
            pb.ListAutomationRulesRequest(
                tenant_id=principal_of(request).tenant_id, page={"page_size": limit, "page_token": cursor}
            )
        )
        return {"items": [rule_out(r) for r in resp.rules], "next_cursor": resp.page.next_page_token or None}


class FunnelController(Controller):
    path = "/v1/funnel"
    tags = ["funnel"]
    guards = [require_api_key]

    @get(
        "/",
        summary="Time in stage, drop-off, source-to-hire, offer acceptance, sync error and duplicate rates",
    )
    async def funnel(self, request: Request, connection_id: str = "") -> dict:
        f = await request.app.state.backends.sync.GetFunnel(
            pb.GetFunnelRequest(tenant_id=principal_of(request).tenant_id, connection_id=connection_id)
        )
        return {
            "stages": [
                {
                    "stage": s.stage,
                    "entered": s.entered,
                    "dropped": s.dropped,
                    "current": s.current,
                    "avg_hours_in_stage": round(s.avg_hours_in_stage, 3),
                }
                for s in f.stages
            ],
            "sources": [
                {
                    "source": s.source,
                    "applications": s.applications,
                    "hires": s.hires,
                    "hire_rate": round(s.hires / s.applications, 4) if s.applications else 0.0,
                }
                for s in f.sources
            ],
            "applications": f.applications,
            "hires": f.hires,
            "offers_resolved": f.offers_resolved,
            "offers_accepted": f.offers_accepted,
            "offer_acceptance_rate": round(f.offer_acceptance_rate, 4),
            "sync_error_rate": round(f.sync_error_rate, 4),
            "duplicate_rate": round(f.duplicate_rate, 4),
        }


class OutcomesController(Controller):
    path = "/v1/outcomes"
    tags = ["outcomes"]
    guards = [require_api_key]

    @post(
        "/",
        summary="Record post-hire outcomes (90-day retention, first rating) for predictive validity",
        status_code=201,
    )
    async def record(self, request: Request, data: schemas.OutcomeIn) -> Response:
        tenant = principal_of(request).tenant_id
        observed: list[tuple[str, float]] = []
        if data.retained_90d is not None:
            observed.append(("retained_90d", 1.0 if data.retained_90d else 0.0))
        if data.first_performance_rating is not None:
            observed.append(("first_performance_rating", float(data.first_performance_rating)))
        if data.outcome:
            if data.value is None:
                raise problem(400, "value: required with outcome (true/false or a number)")
            observed.append((data.outcome, float(data.value)))
        if not data.candidate_id:
            raise problem(400, "candidate_id: the candidate's id as in the ATS")
        if not observed:
            raise problem(400, "retained_90d (true/false) or first_performance_rating (a number) is required")
        raw = await request.body()
        at = data.recorded_at

        async def act() -> tuple[int, dict]:
            items = []
            for outcome, value in observed:
                req = pb.RecordOutcomeRequest(
                    tenant_id=tenant,
                    candidate_id=data.candidate_id,
                    job_id=data.job_id,
                    application_id=data.application_id,
                    outcome=outcome,
                    value=value,
                )
                if at is not None:
                    req.recorded_at.FromDatetime(at if at.tzinfo else at.replace(tzinfo=UTC))
                resp = await request.app.state.backends.sync.RecordOutcome(req)
                items.append(
                    {
                        "outcome": outcome,
                        "value": value,
                        "event_id": resp.event_id,
                        "duplicate": resp.duplicate,
                    }
                )
            return 201, {"items": items}

        return await run_idempotent(request, tenant, raw, act)


CONTROLLERS: list[type] = [
    ConnectionsController,
    OutcomesController,
    DeadLettersController,
    CommunicationsController,
    AutomationsController,
    FunnelController,
]
