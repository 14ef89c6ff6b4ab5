"""The calendar push doors without a network: Google's headers and Graph's handshake and notification
batches reach the scheduler's CalendarChanged as (kind, channel, secret, state); an unknown channel is 404
and a wrong secret 401 problem+json; the Graph handshake echoes the URL-decoded token as text/plain; a
scheduler that cannot be reached is 503, never 500."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop_gateway import audit, problems
from interloop_gateway.domain.webhooks.calendars import google_push, graph_push
from litestar import Litestar
from litestar.testing import TestClient

CHANNELS = {("google", "ch-1"): "s3cret", ("graph", "sub-1"): "state-1"}


class _Scheduler:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str]] = []
        self.down = False

    def CalendarChanged(self, request: pb.CalendarChangedRequest) -> Any:  # noqa: N802 - an RPC name
        async def answer() -> pb.CalendarChangedResponse:
            if self.down:
                raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, None, None, details="down")
            key = (request.kind, request.channel_id)
            if key not in CHANNELS:
                raise grpc.aio.AioRpcError(grpc.StatusCode.NOT_FOUND, None, None, details="no channel")
            if CHANNELS[key] != request.secret:
                raise grpc.aio.AioRpcError(grpc.StatusCode.PERMISSION_DENIED, None, None, details="no")
            self.calls.append((request.kind, request.channel_id, request.secret, request.resource_state))
            return pb.CalendarChangedResponse(
                tenant_id="acme", interviewer_id="ivy", refreshing=request.resource_state != "sync"
            )

        return answer()


@pytest.fixture
def scheduler(monkeypatch: pytest.MonkeyPatch) -> _Scheduler:
    async def no_audit(*args: object, **kwargs: object) -> None:
        return None

    monkeypatch.setattr(audit, "append", no_audit)
    return _Scheduler()


@pytest.fixture
def client(scheduler: _Scheduler) -> TestClient:
    app = Litestar([google_push, graph_push], plugins=[problems.plugin()])
    app.state.backends = SimpleNamespace(scheduler=scheduler)
    app.state.pool = None
    return TestClient(app)


def _google(channel: str, token: str, state: str = "exists") -> dict[str, str]:
    return {
        "X-Goog-Channel-ID": channel,
        "X-Goog-Channel-Token": token,
        "X-Goog-Resource-State": state,
        "X-Goog-Resource-ID": "res-1",
        "X-Goog-Message-Number": "2",
    }


def test_google_exists_and_sync_reach_the_scheduler(client: TestClient, scheduler: _Scheduler) -> None:
    with client:
        r = client.post("/webhooks/calendars/google", headers=_google("ch-1", "s3cret"))
        assert (r.status_code, r.json()["outcome"]) == (200, "refreshing")
        r = client.post("/webhooks/calendars/google", headers=_google("ch-1", "s3cret", "sync"))
        assert (r.status_code, r.json()["outcome"]) == (200, "acknowledged")
    assert scheduler.calls == [("google", "ch-1", "s3cret", "exists"), ("google", "ch-1", "s3cret", "sync")]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (_google("ch-1", "forged"), 401),
        (_google("ch-404", "s3cret"), 404),
        ({"X-Goog-Resource-State": "exists"}, 400),
        (_google("ch-1", "s3cret", "bogus"), 400),
    ],
)
def test_google_refusals_are_problem_json(
    client: TestClient, scheduler: _Scheduler, headers: dict, status: int
) -> None:
    with client:
        r = client.post("/webhooks/calendars/google", headers=headers)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    assert scheduler.calls == []


def test_graph_validation_echoes_the_decoded_token_as_plain_text(client: TestClient) -> None:
    with client:
        r = client.post(
            "/webhooks/calendars/graph?validationToken=Validation%3A%20Testing%20client%20application%20reachability",
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == "text/plain"
    assert r.text == "Validation: Testing client application reachability"


def _batch(*items: tuple[str, str]) -> bytes:
    return json.dumps(
        {
            "value": [
                {
                    "subscriptionId": s,
                    "clientState": c,
                    "changeType": "updated",
                    "resource": "Users/x/Events/1",
                }
                for s, c in items
            ]
        }
    ).encode()


def test_graph_notifications_are_verified_each(client: TestClient, scheduler: _Scheduler) -> None:
    with client:
        ok = client.post("/webhooks/calendars/graph", content=_batch(("sub-1", "state-1"), ("sub-1", "x")))
        forged = client.post("/webhooks/calendars/graph", content=_batch(("sub-1", "wrong")))
        unknown = client.post("/webhooks/calendars/graph", content=_batch(("sub-9", "state-1")))
        broken = client.post("/webhooks/calendars/graph", content=b"<xml/>")
    assert (ok.status_code, ok.json()["notifications"]) == (202, 1)
    assert (forged.status_code, unknown.status_code, broken.status_code) == (401, 404, 400)
    assert all(
        r.headers["content-type"].startswith("application/problem+json") for r in (forged, unknown, broken)
    )
    assert scheduler.calls == [("graph", "sub-1", "state-1", "updated")]


def test_a_scheduler_that_cannot_be_reached_is_503_not_500(client: TestClient, scheduler: _Scheduler) -> None:
    scheduler.down = True
    with client:
        r = client.post("/webhooks/calendars/google", headers=_google("ch-1", "s3cret"))
    assert r.status_code == 503
