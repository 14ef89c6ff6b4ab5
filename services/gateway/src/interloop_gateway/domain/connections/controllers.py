"""REST: connections to ATS/HRIS vendors, dead letters and replay, automation rules, the hiring funnel."""

from __future__ import annotations

from typing import Annotated

from interloop.sync.v1 import sync_pb2 as pb
from litestar import Controller, Request, get, post
from litestar.params import Parameter

from interloop_gateway.auth import allow, principal_of, require_api_key
from interloop_gateway.domain.connections import schemas, services
from interloop_gateway.idempotency import idempotent
from interloop_gateway.wire import Cursor, Limit, Page


class ConnectionsController(Controller):
    path = "/v1/connections"
    tags = ["connections"]
    guards = [require_api_key]

    @allow("admin")
    @post(
        "/",
        summary="Connect an ATS or HRIS (credentials are stored encrypted, never returned)",
        status_code=201,
    )
    @idempotent
    async def create(self, request: Request, data: schemas.ConnectionIn) -> schemas.ConnectionOut:
        resp = await request.app.state.backends.sync.CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=principal_of(request).tenant_id,
                credentials=data.credentials,
                connection=services.connection_pb(data),
            )
        )
        return services.connection_out(resp.connection)

    @allow("admin", "recruiter")
    @get("/", summary="List connections")
    async def list(self, request: Request, cursor: Cursor, limit: Limit) -> schemas.ConnectionsPage:
        resp = await request.app.state.backends.sync.ListConnections(
            pb.ListConnectionsRequest(
                tenant_id=principal_of(request).tenant_id, page={"page_size": limit, "page_token": cursor}
            )
        )
        return Page([services.connection_out(c) for c in resp.connections], resp.page.next_page_token or None)

    @allow("admin", "recruiter")
    @get("/{connection_id:str}", summary="One connection")
    async def get(self, request: Request, connection_id: str) -> schemas.ConnectionOut:
        resp = await request.app.state.backends.sync.GetConnection(
            pb.GetConnectionRequest(tenant_id=principal_of(request).tenant_id, connection_id=connection_id)
        )
        return services.connection_out(resp.connection)

    @allow("admin")
    @post("/{connection_id:str}/reconcile", summary="Run reconciliation with the ATS now", status_code=200)
    @idempotent
    async def reconcile(self, request: Request, connection_id: str) -> schemas.ReconciliationOut:
        resp = await request.app.state.backends.sync.RunReconciliation(
            pb.RunReconciliationRequest(
                tenant_id=principal_of(request).tenant_id, connection_id=connection_id
            ),
            timeout=120,
        )
        return services.reconciliation_out(resp)


class DeadLettersController(Controller):
    path = "/v1/dead-letters"
    tags = ["dead-letters"]
    guards = [require_api_key]

    @allow("admin")
    @get("/", summary="Records that could not be processed after bounded retries")
    async def list(self, request: Request, cursor: Cursor, limit: Limit) -> schemas.DeadLettersPage:
        resp = await request.app.state.backends.sync.ListDeadLetters(
            pb.ListDeadLettersRequest(
                tenant_id=principal_of(request).tenant_id, page={"page_size": limit, "page_token": cursor}
            )
        )
        return Page(
            [services.dead_letter_out(d) for d in resp.dead_letters], resp.page.next_page_token or None
        )

    @allow("admin")
    @post("/replay", summary="Republish open dead letters (all, or the given ids)", status_code=200)
    @idempotent
    async def replay(self, request: Request, data: schemas.ReplayIn) -> schemas.ReplayOut:
        resp = await request.app.state.backends.sync.ReplayDeadLetters(
            pb.ReplayDeadLettersRequest(tenant_id=principal_of(request).tenant_id, ids=data.ids)
        )
        return schemas.ReplayOut(replayed=resp.replayed)


class CommunicationsController(Controller):
    path = "/v1/communications"
    tags = ["communications"]
    guards = [require_api_key]

    @allow("admin", "recruiter")
    @get("/", summary="What was sent (invites, links, reminders, alerts, webhooks), newest first")
    async def list(
        self,
        request: Request,
        cursor: Cursor,
        limit: Limit,
        candidate_id: Annotated[str, Parameter(query="candidate_id", default="")],
        recipient: Annotated[str, Parameter(query="recipient", default="")],
    ) -> schemas.CommunicationsPage:
        resp = await request.app.state.backends.sync.ListCommunications(
            pb.ListCommunicationsRequest(
                tenant_id=principal_of(request).tenant_id,
                candidate_id=candidate_id,
                recipient=recipient,
                page={"page_size": limit, "page_token": cursor},
            )
        )
        return Page(
            [services.communication_out(c) for c in resp.communications], resp.page.next_page_token or None
        )


class AutomationsController(Controller):
    path = "/v1/automations"
    tags = ["automations"]
    guards = [require_api_key]

    @allow("admin")
    @post("/", summary="Create or replace an automation rule (DSL or JSON form)", status_code=201)
    @idempotent
    async def create(self, request: Request, data: schemas.AutomationRuleIn) -> schemas.AutomationRuleOut:
        resp = await request.app.state.backends.sync.CreateAutomationRule(
            pb.CreateAutomationRuleRequest(
                tenant_id=principal_of(request).tenant_id,
                rule=services.rule_pb(data),
                templates=services.templates_pb(data),
            )
        )
        return services.rule_out(resp.rule)

    @allow("admin")
    @get("/", summary="List automation rules")
    async def list(self, request: Request, cursor: Cursor, limit: Limit) -> schemas.AutomationRulesPage:
        resp = await request.app.state.backends.sync.ListAutomationRules(
            pb.ListAutomationRulesRequest(
                tenant_id=principal_of(request).tenant_id, page={"page_size": limit, "page_token": cursor}
            )
        )
        return Page([services.rule_out(r) for r in resp.rules], resp.page.next_page_token or None)


class FunnelController(Controller):
    path = "/v1/funnel"
    tags = ["funnel"]
    guards = [require_api_key]

    @allow("admin", "recruiter")
    @get(
        "/",
        summary="Time in stage, drop-off, source-to-hire, offer acceptance, sync error and duplicate rates",
    )
    async def funnel(self, request: Request, connection_id: str = "") -> schemas.FunnelOut:
        f = await request.app.state.backends.sync.GetFunnel(
            pb.GetFunnelRequest(tenant_id=principal_of(request).tenant_id, connection_id=connection_id)
        )
        return services.funnel_out(f)


class OutcomesController(Controller):
    path = "/v1/outcomes"
    tags = ["outcomes"]
    guards = [require_api_key]

    @allow("admin", "recruiter")
    @post(
        "/",
        summary="Record post-hire outcomes (90-day retention, first rating) for predictive validity",
        status_code=201,
    )
    @idempotent
    async def record(self, request: Request, data: schemas.OutcomeIn) -> schemas.RecordedOutcomesOut:
        tenant = principal_of(request).tenant_id
        items = []
        for outcome, value in services.observed_outcomes(data):
            resp = await request.app.state.backends.sync.RecordOutcome(
                services.outcome_request(tenant, data, outcome, value)
            )
            items.append(schemas.RecordedOutcomeOut(outcome, value, resp.event_id, resp.duplicate))
        return schemas.RecordedOutcomesOut(items)


CONTROLLERS: list[type] = [
    ConnectionsController,
    OutcomesController,
    DeadLettersController,
    CommunicationsController,
    AutomationsController,
    FunnelController,
]
