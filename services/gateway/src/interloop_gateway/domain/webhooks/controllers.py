"""Inbound vendor webhooks: no API key — the vendor's signature is the auth, verified by sync on the raw
bytes.

The body is handed over unparsed (a re-serialised body would break the HMAC); the answer is fast: 202 for
accepted or duplicate deliveries, 401 for forged or stale ones, 400 for malformed bodies (quarantined)."""

from __future__ import annotations

import grpc
from interloop.sync.v1 import sync_pb2 as pb
from interloop_common.audit import Door
from litestar import Controller, Request, post

from interloop_gateway import audit
from interloop_gateway.domain.webhooks.calendars import google_push, graph_push
from interloop_gateway.domain.webhooks.schemas import DeliveryOut
from interloop_gateway.problems import problem

PROVIDERS = ("greenhouse", "lever")
_OUTCOME = {pb.INGEST_OUTCOME_ACCEPTED: "accepted", pb.INGEST_OUTCOME_DUPLICATE: "duplicate"}


class WebhooksController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post("/{provider:str}/{connection_id:str}", summary="Receive a signed ATS webhook", status_code=202)
    async def receive(self, request: Request, provider: str, connection_id: str) -> DeliveryOut:
        if provider not in PROVIDERS:
            raise problem(
                404, f"unknown provider {provider!r}; webhooks are accepted for {', '.join(PROVIDERS)}"
            )
        raw = await request.body()
        headers = {k: v for k, v in request.headers.items()}
        try:
            resp = await request.app.state.backends.sync.IngestWebhook(
                pb.IngestWebhookRequest(
                    provider=provider, connection_id=connection_id, raw_body=raw, headers=headers
                )
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                raise problem(401, exc.details() or "webhook signature rejected") from None
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                raise problem(404, f"no {provider} connection {connection_id}") from None
            raise
        if resp.outcome == pb.INGEST_OUTCOME_QUARANTINED:
            raise problem(400, f"malformed delivery (quarantined for inspection): {resp.reason}")
        if resp.tenant_id:  # verified: the delivery is the vendor acting on the tenant's data
            client = request.client
            await audit.append(
                request.app.state.pool,
                tenant_id=resp.tenant_id,
                actor=f"webhook:{provider}",
                action=f"POST /webhooks/{provider}/{{connection_id}}",
                target=f"connection/{connection_id}",
                door=Door.WEBHOOK,
                remote=client.host if client else "",
                status=202,
                request_id=resp.delivery_id or request.headers.get(audit.REQUEST_ID, ""),
            )
        return DeliveryOut(
            outcome=_OUTCOME.get(resp.outcome, "accepted"),
            delivery_id=resp.delivery_id,
            event_types=list(resp.event_types),
        )


# the calendar doors are plain handlers; their static paths win over the ATS door's path parameters
CONTROLLERS: list = [google_push, graph_push, WebhooksController]
