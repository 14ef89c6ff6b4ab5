"""The push adapters over real HTTP against the local fakes: a Google watch channel opened, notified (headers
only, sync first) and stopped; a Graph subscription made only when the notification URL echoes the
validation token, renewed with PATCH and refused past Graph's 4230 minutes; and the owner's decline read
from either vendor's event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from interloop_fakes.ats._server import FakeVendor
from interloop_fakes.calendars import FakeGoogleCalendar, FakeGraphCalendar
from interloop_scheduler.vendors import RetryPolicy
from interloop_scheduler.vendors.push import GoogleWatch, GraphSubscriptions, PushRefused
from litestar import Request, Response, post


class Receiver(FakeVendor):
    """Where the fakes deliver: echoes Graph's validationToken unless told not to, records the rest."""

    provider = "receiver"

    def __init__(self) -> None:
        super().__init__()
        self.echo = True

    def routes(self) -> list[Any]:
        receiver = self

        @post("/hook", status_code=200)
        async def hook(request: Request) -> Response:
            token = request.query_params.get("validationToken")
            if token is not None:
                answer = token if receiver.echo else "something else"
                return Response(content=answer, status_code=200, media_type="text/plain")
            return Response(content=b"", status_code=202)

        return [hook]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as fake:
        yield fake


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        yield fake


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphCalendar]:
    with FakeGraphCalendar() as fake:
        yield fake


ONCE = RetryPolicy(attempts=1)


async def test_a_google_channel_is_opened_notified_and_stopped(
    google: FakeGoogleCalendar, receiver: Receiver
) -> None:
    google.add_calendar("ada@acme.test")
    until = datetime.now(UTC) + timedelta(hours=2)
    async with httpx.AsyncClient() as client:
        watch = GoogleWatch(client, google.token, f"{google.base_url}/calendar/v3", ONCE)
        opened = await watch.open("ada@acme.test", "chan-1", f"{receiver.base_url}/hook", "tok-1", until)
        assert opened.channel_id == "chan-1" and opened.resource_id
        assert abs((opened.expires_at - until).total_seconds()) < 1  # milliseconds since the epoch
        sent = [r for r in google.requests if r.path.endswith("/events/watch")]
        assert sent[-1].json() == {
            "id": "chan-1",
            "type": "web_hook",
            "address": f"{receiver.base_url}/hook",
            "token": "tok-1",
            "expiration": int(until.timestamp() * 1000),
        }
        assert await google.notify("ada@acme.test") == [202]
        states = [
            d.headers["X-Goog-Resource-State"] for d in google.deliveries if d.address.endswith("/hook")
        ]
        assert states[:1] == ["sync"] and states[-1] == "exists"
        assert all(d.headers["X-Goog-Channel-Token"] == "tok-1" and d.body == b"" for d in google.deliveries)
        await watch.stop(opened.channel_id, opened.resource_id)
        assert await google.notify("ada@acme.test") == []  # stopped: nothing more is sent
        # a second watch with the same channel id is Google's channelIdNotUnique
        with pytest.raises(PushRefused, match="HTTP 400 channelIdNotUnique"):
            await watch.open("ada@acme.test", "chan-1", f"{receiver.base_url}/hook", "tok-1", until)


async def test_a_graph_subscription_needs_the_handshake_and_renews(
    graph: FakeGraphCalendar, receiver: Receiver
) -> None:
    graph.add_calendar("bo@contoso.test")
    until = datetime.now(UTC) + timedelta(days=2)
    async with httpx.AsyncClient() as client:
        subs = GraphSubscriptions(client, graph.token, f"{graph.base_url}/v1.0", ONCE)
        receiver.echo = False
        try:
            with pytest.raises(PushRefused, match="HTTP 400 ValidationError"):
                await subs.open("bo@contoso.test", f"{receiver.base_url}/hook", "state-1", until)
        finally:
            receiver.echo = True
        assert graph.live_subscriptions() == []
        opened = await subs.open("bo@contoso.test", f"{receiver.base_url}/hook", "state-1", until)
        (sub,) = graph.live_subscriptions("/users/bo@contoso.test/events")
        assert (sub["id"], sub["clientState"], sub["changeType"]) == (
            opened.channel_id,
            "state-1",
            "created,updated,deleted",
        )
        assert abs((opened.expires_at - until).total_seconds()) < 1
        later = until + timedelta(hours=12)
        renewed = await subs.renew(opened.channel_id, opened.resource_id, later)
        assert (
            renewed.channel_id == opened.channel_id and abs((renewed.expires_at - later).total_seconds()) < 1
        )
        with pytest.raises(PushRefused, match="HTTP 400 InvalidRequest"):  # past 4230 minutes
            await subs.renew(opened.channel_id, opened.resource_id, datetime.now(UTC) + timedelta(days=4))
        with pytest.raises(PushRefused, match="HTTP 404 ResourceNotFound"):
            await subs.renew("not-a-subscription", opened.resource_id, later)
        assert await graph.notify("bo@contoso.test", "AAMk-1") == [202]


async def test_the_owners_decline_is_read_from_either_vendor(
    google: FakeGoogleCalendar, graph: FakeGraphCalendar
) -> None:
    google.add_calendar("cy@acme.test")
    graph.add_calendar("di@contoso.test")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    times = {
        "start": start.strftime("%Y-%m-%dT%H:%M:%S"),
        "end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    async with httpx.AsyncClient() as client:
        g = await client.post(
            f"{google.base_url}/calendar/v3/calendars/cy@acme.test/events",
            headers={"Authorization": f"Bearer {google.token}"},
            json={
                "id": "evt00001",
                "start": {"dateTime": times["start"] + "Z"},
                "end": {"dateTime": times["end"] + "Z"},
            },
        )
        m = await client.post(
            f"{graph.base_url}/v1.0/users/di@contoso.test/calendar/events",
            headers={"Authorization": f"Bearer {graph.token}"},
            json={
                "start": {"dateTime": times["start"], "timeZone": "UTC"},
                "end": {"dateTime": times["end"], "timeZone": "UTC"},
            },
        )
        assert (g.status_code, m.status_code) == (200, 201)
        watch = GoogleWatch(client, google.token, f"{google.base_url}/calendar/v3", ONCE)
        subs = GraphSubscriptions(client, graph.token, f"{graph.base_url}/v1.0", ONCE)
        graph_id = m.json()["id"]
        assert await watch.declined("cy@acme.test", "evt00001", "cy@acme.test") is False
        assert await subs.declined("di@contoso.test", graph_id, "di@contoso.test") is False
        google.respond("cy@acme.test", "evt00001", "someone@else.test", "declined")  # not the owner
        graph.respond("di@contoso.test", graph_id, "someone@else.test", "declined")
        assert await watch.declined("cy@acme.test", "evt00001", "cy@acme.test") is False
        assert await subs.declined("di@contoso.test", graph_id, "di@contoso.test") is False
        google.respond("cy@acme.test", "evt00001", "cy@acme.test", "declined")
        graph.respond("di@contoso.test", graph_id, "di@contoso.test", "declined")
        assert await watch.declined("cy@acme.test", "evt00001", "cy@acme.test") is True
        assert await subs.declined("di@contoso.test", graph_id, "di@contoso.test") is True
        # an event that cannot be read is not known, rather than "not declined"
        assert await watch.declined("cy@acme.test", "evtmissing", "cy@acme.test") is None
        assert await subs.declined("di@contoso.test", "AAMk-missing", "di@contoso.test") is None
