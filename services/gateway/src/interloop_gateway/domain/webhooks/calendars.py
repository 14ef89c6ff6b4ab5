"""Inbound pushes from interviewers' calendars: no API key — each is verified by the scheduler against the
channel it opened (Google's X-Goog-Channel-Token, Graph's clientState; constant time), then that
interviewer's busy times are refreshed at once.

Google (vendor-contracts-2.md A6.1): headers only, no body; ``sync`` (the handshake right after the
watch) is acknowledged once verified. Graph (A7.2, A7.3): a POST carrying ``?validationToken=`` is the
subscription's handshake, answered 200 text/plain with the URL-decoded token (no lookup: it must be back
within 10 s); any other POST is a batch of notifications, each verified by its clientState. An unknown
channel is 404 and a wrong secret 401, problem+json, and nothing changes; a scheduler that cannot be
reached is 503 (the vendors retry), never 500."""

from __future__ import annotations

import grpc
import msgspec
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop_common.audit import Door
from litestar import Request, Response, post
from litestar.exceptions import HTTPException

from interloop_gateway import audit
from interloop_gateway.domain.webhooks.schemas import CalendarPushOut
from interloop_gateway.problems import problem

_REFUSED = {
    grpc.StatusCode.NOT_FOUND: (404, "unknown channel"),
    grpc.StatusCode.PERMISSION_DENIED: (401, "channel token does not match"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "malformed notification"),
}
MAX_VALIDATION_TOKEN = 4096  # Graph's tokens are short; a longer one is not Graph's


async def _changed(
    request: Request, kind: str, channel_id: str, secret: str, state: str
) -> pb.CalendarChangedResponse:
    try:
        resp = await request.app.state.backends.scheduler.CalendarChanged(
            pb.CalendarChangedRequest(kind=kind, channel_id=channel_id, secret=secret, resource_state=state)
        )
    except grpc.aio.AioRpcError as exc:
        status, detail = _REFUSED.get(exc.code(), (503, "the scheduler cannot take notifications now"))
        raise problem(status, f"{kind} push refused: {detail}") from None
    client = request.client
    await audit.append(
        request.app.state.pool,
        tenant_id=resp.tenant_id,
        actor=f"webhook:{kind}-calendar",
        action=f"POST /webhooks/calendars/{kind}",
        target=f"interviewer/{resp.interviewer_id}",
        door=Door.WEBHOOK,
        remote=client.host if client else "",
        status=200,
        request_id=request.headers.get(audit.REQUEST_ID, ""),
    )
    return resp


@post("/webhooks/calendars/google", summary="Receive a Google Calendar push notification", status_code=200)
async def google_push(request: Request) -> CalendarPushOut:
    headers = request.headers
    channel_id = headers.get("x-goog-channel-id", "")
    state = headers.get("x-goog-resource-state", "")
    if not channel_id or state not in ("sync", "exists", "not_exists"):
        raise problem(400, "X-Goog-Channel-ID and X-Goog-Resource-State (sync, exists, not_exists) required")
    resp = await _changed(request, "google", channel_id, headers.get("x-goog-channel-token", ""), state)
    return CalendarPushOut(outcome="refreshing" if resp.refreshing else "acknowledged", notifications=1)


class _Notification(msgspec.Struct):
    subscriptionId: str = ""  # noqa: N815 - Graph's names
    clientState: str | None = None  # noqa: N815
    changeType: str = ""  # noqa: N815
    lifecycleEvent: str = ""  # noqa: N815


class _Batch(msgspec.Struct):
    value: list[_Notification]


@post(
    "/webhooks/calendars/graph",
    summary="Receive Microsoft Graph change notifications (and the subscription's validation handshake)",
    status_code=202,
)
async def graph_push(request: Request) -> CalendarPushOut:
    token = request.query_params.get("validationToken")
    if token is not None:
        if not token or len(token) > MAX_VALIDATION_TOKEN:
            raise problem(400, "validationToken: must be 1 to 4096 characters")
        # A7.2: 200, text/plain, the URL-decoded token (the query parser has decoded it)
        return Response(content=token, status_code=200, media_type="text/plain")  # type: ignore[return-value]
    try:
        batch = msgspec.json.decode(await request.body(), type=_Batch)
    except msgspec.DecodeError:
        raise problem(400, 'body: a Graph notification collection {"value": [...]} expected') from None
    if not batch.value:
        raise problem(400, "value: at least one notification expected")
    accepted, refusal = 0, None
    for seen in {(n.subscriptionId, n.clientState or ""): n for n in batch.value}.values():
        try:
            await _changed(
                request,
                "graph",
                seen.subscriptionId,
                seen.clientState or "",
                seen.lifecycleEvent or seen.changeType,
            )
            accepted += 1
        except HTTPException as exc:  # one forged item does not void the others of the batch
            refusal = refusal or exc
    if not accepted and refusal is not None:
        raise refusal
    return CalendarPushOut(outcome="refreshing", notifications=accepted)
