"""Calendars that push, on the session platform with the calendar fakes speaking Google's watch channels and
Graph's subscriptions: a refresh opens the channel (Graph's validation handshake answered by the gateway),
a notification through the gateway's door refreshes busy times within seconds, a forged token or
clientState is refused and changes nothing, a decline of an event we wrote raises one coordinator task with
replacements ranked from the same pool, and channels are renewed before they expire (the renewal window
driven through settings, the pass run in-process against the platform's database)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from interloop.events.v1 import interview_pb2
from interloop_common import db
from interloop_common.events import decode
from interloop_fakes.calendars import FakeGoogleCalendar, FakeGraphCalendar
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.usecases.calendar_push import check_declines, open_channels, sweep_declines

from .conftest import ALWAYS, Tenant
from .test_sched_calendar_events import eventually, hour, iso

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        yield fake


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphCalendar]:
    with FakeGraphCalendar() as fake:
        yield fake


def settings_of(platform, **overrides: object) -> SchedulerSettings:  # type: ignore[no-untyped-def]
    """The platform scheduler's own settings (its keys, its gateway), with ``overrides``."""
    env = platform.procs["scheduler"].env
    return SchedulerSettings(
        database_url=platform.dsns["scheduler"],
        credential_keys=env["INTERLOOP_SCHEDULER_CREDENTIAL_KEYS"],
        public_base_url=platform.base_url,
        outbound_allow_networks="127.0.0.0/8",
        calendar_http_attempts=1,
        **overrides,
    )


@pytest.fixture
async def pool(platform) -> AsyncIterator:  # type: ignore[no-untyped-def]
    p = await db.create_pool(platform.dsns["scheduler"], max_size=4)
    try:
        yield p
    finally:
        await p.close()


async def connect_google(t: Tenant, google: FakeGoogleCalendar, who: str) -> str:
    cal = f"{who}@acme.test"
    google.add_calendar(cal)
    await t.put_interviewer(
        who,
        email=cal,
        working_hours=ALWAYS,
        calendar={
            "kind": "google",
            "calendar_id": cal,
            "url": f"{google.base_url}/calendar/v3",
            "credential": google.token,
        },
    )
    return cal


async def connect_graph(t: Tenant, graph: FakeGraphCalendar, who: str) -> str:
    mailbox = f"{who}@contoso.test"
    graph.add_calendar(mailbox)
    await t.put_interviewer(
        who,
        email=mailbox,
        working_hours=ALWAYS,
        calendar={
            "kind": "graph",
            "calendar_id": mailbox,
            "url": f"{graph.base_url}/v1.0",
            "credential": graph.token,
            "user": "coord@contoso.test",
        },
    )
    return mailbox


async def refresh(t: Tenant, *ids: str) -> None:
    r = await t.http.post("/v1/scheduling/calendars/refresh", json={"interviewer_ids": list(ids)})
    assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"known"}, r.text


async def channel(t: Tenant, who: str) -> dict:
    (row,) = await t.fetch("SELECT * FROM calendar_channels WHERE interviewer_id = $1", who)
    return dict(row)


async def busy_count(t: Tenant, who: str) -> int:
    rows = await t.fetch("SELECT count(*) AS n FROM busy_blocks WHERE interviewer_id = $1", who)
    return rows[0]["n"]


async def test_a_google_notification_through_the_gateway_refreshes_busy_times(
    tenant: Tenant, google: FakeGoogleCalendar, platform
) -> None:  # type: ignore[no-untyped-def]
    cal = await connect_google(tenant, google, "gpush")
    await refresh(tenant, "gpush")
    ch = await channel(tenant, "gpush")
    assert (ch["kind"], ch["status"]) == ("google", "active") and ch["resource_id"]
    (live,) = google.live_channels(cal)
    assert live.id == ch["channel_id"] and live.address == f"{platform.base_url}/webhooks/calendars/google"
    assert live.token and live.token not in ch["secret"]  # the secret is stored sealed
    # Google's sync handshake, right after the watch, was acknowledged by the door
    await eventually(
        "sync acknowledged",
        lambda: any(
            d.headers["X-Goog-Resource-State"] == "sync" and d.status == 200 for d in google.deliveries
        ),
    )
    assert await busy_count(tenant, "gpush") == 0

    start = hour(3, 10)
    google.add_busy(cal, start, start + timedelta(hours=1))
    assert await google.notify(cal) == [200]

    async def refreshed() -> bool:
        return await busy_count(tenant, "gpush") == 1

    await eventually("busy times refreshed by the push", refreshed, timeout=15)

    # a forged token or an unknown channel is refused, problem+json, and marks nothing
    before = (await channel(tenant, "gpush"))["notified_at"]
    assert before is not None
    headers = {
        "X-Goog-Channel-ID": live.id,
        "X-Goog-Channel-Token": "forged-token",
        "X-Goog-Resource-State": "exists",
        "X-Goog-Resource-ID": live.resource_id,
        "X-Goog-Message-Number": "99",
    }
    async with httpx.AsyncClient(base_url=platform.base_url) as client:
        forged = await client.post("/webhooks/calendars/google", headers=headers)
        unknown = await client.post(
            "/webhooks/calendars/google", headers={**headers, "X-Goog-Channel-ID": "not-ours"}
        )
        no_token = await client.post(
            "/webhooks/calendars/google", headers={k: v for k, v in headers.items() if "Token" not in k}
        )
    assert (forged.status_code, unknown.status_code, no_token.status_code) == (401, 404, 401)
    assert forged.headers["content-type"].startswith("application/problem+json")
    assert (await channel(tenant, "gpush"))["notified_at"] == before


async def test_graph_handshake_and_notification_refresh_busy_times(
    tenant: Tenant, graph: FakeGraphCalendar, platform
) -> None:  # type: ignore[no-untyped-def]
    mailbox = await connect_graph(tenant, graph, "mpush")
    await refresh(tenant, "mpush")
    ch = await channel(tenant, "mpush")
    (sub,) = graph.live_subscriptions(f"/users/{mailbox}/events")
    assert (ch["kind"], ch["channel_id"], ch["status"]) == ("graph", sub["id"], "active")
    assert sub["notificationUrl"] == f"{platform.base_url}/webhooks/calendars/graph"
    assert sub["clientState"] and sub["clientState"] not in ch["secret"]
    # the validation handshake went to the gateway and was echoed
    assert any("validationToken=" in d.address and d.status == 200 for d in graph.deliveries)

    # a notificationUrl that does not echo the token gets no subscription
    async with httpx.AsyncClient(base_url=graph.base_url) as client:
        refused = await client.post(
            "/v1.0/subscriptions",
            headers={"Authorization": f"Bearer {graph.token}"},
            json={
                "changeType": "updated",
                "notificationUrl": f"{platform.base_url}/webhooks/greenhouse/nope",
                "resource": f"/users/{mailbox}/events",
                "expirationDateTime": iso(hour(1, 0)),
                "clientState": "x",
            },
        )
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "ValidationError")
    assert len(graph.live_subscriptions(f"/users/{mailbox}/events")) == 1

    start = hour(3, 13)
    graph.add_busy(mailbox, start, start + timedelta(minutes=30))
    assert await graph.notify(mailbox, "AAMkAG-any") == [202]

    async def refreshed() -> bool:
        return await busy_count(tenant, "mpush") == 1

    await eventually("busy times refreshed by the Graph notification", refreshed, timeout=15)

    forged = {"value": [{"subscriptionId": sub["id"], "clientState": "forged", "changeType": "updated"}]}
    async with httpx.AsyncClient(base_url=platform.base_url) as client:
        r = await client.post("/webhooks/calendars/graph", json=forged)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


async def outbox(t: Tenant, event_type: str) -> list:
    rows = await t.fetch(
        "SELECT envelope FROM outbox WHERE tenant_id = $1 AND event_type = $2 ORDER BY seq", t.id, event_type
    )
    return [decode(bytes(r["envelope"])) for r in rows]


async def book(t: Tenant, who: list[str], start, job_id: str = "") -> str:  # type: ignore[no-untyped-def]
    r = await t.http.post(
        "/v1/interviews",
        json={
            "candidate_id": f"cand-{who[0]}-{start.hour}",
            "interviewer_ids": who,
            "start": iso(start),
            "end": iso(start + timedelta(hours=1)),
            "job_id": job_id,
            "round": "onsite",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def written_event(t: Tenant, booking: str) -> str:
    """The vendor's id of the event the worker wrote for this booking (once it is written)."""

    async def written() -> str | None:
        rows = await t.fetch(
            "SELECT vendor_event_id FROM calendar_writes WHERE booking_id = $1::uuid AND status = 'written'",
            booking,
        )
        return rows[0]["vendor_event_id"] if rows else None

    return await eventually("the event written", written)  # type: ignore[return-value]


async def test_a_decline_raises_one_task_with_ranked_replacements(
    tenant: Tenant, google: FakeGoogleCalendar, platform, pool
) -> None:  # type: ignore[no-untyped-def]
    cal = await connect_google(tenant, google, "dee")
    busy_cal = await connect_google(tenant, google, "rep-b")
    for who in ("rep-a", "rep-c"):
        await tenant.put_interviewer(who, working_hours=ALWAYS)
    start = hour(6, 10)
    google.add_busy(busy_cal, start, start + timedelta(hours=1))  # rep-b is not free then
    await refresh(tenant, "dee", "rep-b")
    panel = {
        "panel": [{"interviewer_ids": ["dee", "rep-a", "rep-b", "rep-c"], "k": 1}],
        "duration_minutes": 60,
    }
    r = await tenant.http.put("/v1/scheduling/job-panels/job-dec", json=panel)
    assert r.status_code == 200, r.text
    booking = await book(tenant, ["dee"], start, "job-dec")
    await book(tenant, ["rep-a"], hour(6, 14))  # rep-a is free at 10 but already interviews that day

    event_id = await written_event(tenant, booking)
    google.respond(cal, event_id, cal, "declined")  # the interviewer declines in their calendar
    assert await google.notify(cal) == [200]

    async def task() -> list:
        return await outbox(tenant, "interview.interviewer_declined")

    (raised,) = await eventually("the decline task", task, timeout=15)
    declined = raised.unpack(interview_pb2.InterviewerDeclined)
    assert (declined.booking_id, declined.interviewer_id) == (booking, "dee")
    assert list(declined.replacement_interviewer_ids) == ["rep-c", "rep-a"]  # least loaded first, rep-b busy
    assert declined.start.ToDatetime(tzinfo=start.tzinfo) == start
    (row,) = await tenant.fetch("SELECT * FROM interviewer_declines WHERE booking_id = $1::uuid", booking)
    assert (row["interviewer_id"], list(row["replacements"]), row["status"]) == (
        "dee",
        ["rep-c", "rep-a"],
        "open",
    )

    # the coordinator's open tasks, over REST
    r = await tenant.http.get("/v1/scheduling/declines")
    assert r.status_code == 200, r.text
    (open_task,) = [d for d in r.json()["declines"] if d["booking_id"] == booking]
    assert open_task["interviewer_id"] == "dee" and open_task["start"] == iso(start)
    assert open_task["replacement_interviewer_ids"] == ["rep-c", "rep-a"]

    # the same decline seen again (another notification, the polling pass) raises nothing more
    assert await check_declines(pool, settings_of(platform), tenant.id, "dee") == []
    assert await google.notify(cal) == [200]
    assert len(await outbox(tenant, "interview.interviewer_declined")) == 1
    assert (
        len(await tenant.fetch("SELECT 1 FROM interviewer_declines WHERE booking_id = $1::uuid", booking))
        == 1
    )


async def test_channels_are_renewed_before_they_expire(
    tenant: Tenant, google: FakeGoogleCalendar, graph: FakeGraphCalendar, platform, pool
) -> None:  # type: ignore[no-untyped-def]
    cal = await connect_google(tenant, google, "grenew")
    mailbox = await connect_graph(tenant, graph, "mrenew")
    await refresh(tenant, "grenew", "mrenew")
    g0, m0 = await channel(tenant, "grenew"), await channel(tenant, "mrenew")

    # nothing within the default renewal window (hours) of a channel that lives for days
    kept = await open_channels(pool, settings_of(platform), tenant.id)
    assert kept[(tenant.id, "grenew")] == kept[(tenant.id, "mrenew")] == "kept"

    # a renewal window wider than the channels' remaining life: both are due and renewed now
    soon = settings_of(
        platform, calendar_channel_seconds=3 * 3600.0, calendar_channel_renew_seconds=8 * 24 * 3600.0
    )
    renewed = await open_channels(pool, soon, tenant.id, ["grenew", "mrenew"])
    assert renewed == {(tenant.id, "grenew"): "renewed", (tenant.id, "mrenew"): "renewed"}
    g1, m1 = await channel(tenant, "grenew"), await channel(tenant, "mrenew")
    # Google: a new channel (they never renew in place), the old one stopped
    assert g1["channel_id"] != g0["channel_id"] and g1["expires_at"] < g0["expires_at"]
    assert google.channels[g0["channel_id"]].stopped
    assert [c.id for c in google.live_channels(cal)] == [g1["channel_id"]]
    # Graph: the same subscription, PATCHed to its new expiry
    assert m1["channel_id"] == m0["channel_id"] and m1["expires_at"] != m0["expires_at"]
    assert any(r.method == "PATCH" and m0["channel_id"] in r.path for r in graph.requests)
    assert len(graph.live_subscriptions(f"/users/{mailbox}/events")) == 1

    # the renewed channels still carry notifications to the door
    google.add_busy(cal, hour(4, 9), hour(4, 10))
    assert await google.notify(cal) == [200]

    async def refreshed() -> bool:
        return await busy_count(tenant, "grenew") == 1

    await eventually("busy times refreshed through the renewed channel", refreshed, timeout=15)


async def test_a_graph_decline_no_push_told_of_is_found_by_the_polling_pass(
    tenant: Tenant, graph: FakeGraphCalendar, platform, pool
) -> None:  # type: ignore[no-untyped-def]
    mailbox = await connect_graph(tenant, graph, "mdee")
    await tenant.put_interviewer("rep-x", working_hours=ALWAYS)
    await refresh(tenant, "mdee")
    panel = {"panel": [{"interviewer_ids": ["mdee", "rep-x"], "k": 1}], "duration_minutes": 60}
    r = await tenant.http.put("/v1/scheduling/job-panels/job-mdec", json=panel)
    assert r.status_code == 200, r.text
    booking = await book(tenant, ["mdee"], hour(7, 11), "job-mdec")

    event_id = await written_event(tenant, booking)
    settings = settings_of(platform)
    await sweep_declines(pool, settings)  # accepted so far: nothing raised for this booking
    mine = lambda events: [e for e in events if e.subject == f"booking/{booking}"]  # noqa: E731
    assert mine(await outbox(tenant, "interview.interviewer_declined")) == []

    graph.respond(mailbox, event_id, mailbox, "declined")  # no notification is sent
    await sweep_declines(pool, settings)
    (raised,) = mine(await outbox(tenant, "interview.interviewer_declined"))
    declined = raised.unpack(interview_pb2.InterviewerDeclined)
    assert (declined.interviewer_id, list(declined.replacement_interviewer_ids)) == ("mdee", ["rep-x"])
    await sweep_declines(pool, settings)
    assert len(mine(await outbox(tenant, "interview.interviewer_declined"))) == 1


async def test_a_removed_graph_subscription_is_made_again_at_the_next_pass(
    tenant: Tenant, graph: FakeGraphCalendar, platform, pool
) -> None:  # type: ignore[no-untyped-def]
    mailbox = await connect_graph(tenant, graph, "mgone")
    await refresh(tenant, "mgone")
    before = await channel(tenant, "mgone")
    assert await graph.lifecycle(before["channel_id"], "subscriptionRemoved") == 202
    assert graph.live_subscriptions(f"/users/{mailbox}/events") == []
    outcome = await open_channels(pool, settings_of(platform), tenant.id, ["mgone"])
    assert outcome == {(tenant.id, "mgone"): "renewed"}
    (sub,) = graph.live_subscriptions(f"/users/{mailbox}/events")
    after = await channel(tenant, "mgone")
    assert after["channel_id"] == sub["id"] != before["channel_id"] and after["status"] == "active"
    # a lifecycle notification with a forged clientState changes nothing
    forged = {
        "value": [{"subscriptionId": sub["id"], "clientState": "x", "lifecycleEvent": "subscriptionRemoved"}]
    }
    async with httpx.AsyncClient(base_url=platform.base_url) as client:
        r = await client.post("/webhooks/calendars/graph", json=forged)
    assert r.status_code == 401
    assert (await channel(tenant, "mgone"))["expires_at"] == after["expires_at"]
