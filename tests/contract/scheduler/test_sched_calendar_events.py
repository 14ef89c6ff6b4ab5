"""The calendar event writers over real HTTP against the local fakes: Google events with a Meet conference,
Graph events with a Teams meeting, CalDAV calendar objects; an idempotent re-insert, a patch, a delete,
a revoked credential (permanent) and an outage (retried, then transient)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from interloop_fakes.calendars import FakeCalDav, FakeGoogleCalendar, FakeGraphCalendar
from interloop_scheduler.domain.calendar_events import event_id
from interloop_scheduler.vendors import (
    CalDavEvents,
    CalendarEvent,
    GoogleEvents,
    GraphEvents,
    RetryPolicy,
    WriteFailed,
)

from .conftest import Sleeps

START = datetime(2026, 3, 2, 14, tzinfo=UTC)


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        fake.add_calendar("ada@acme.example")
        yield fake


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphCalendar]:
    with FakeGraphCalendar() as fake:
        fake.add_calendar("gus@contoso.example")
        yield fake


@pytest.fixture(scope="module")
def caldav() -> Iterator[FakeCalDav]:
    with FakeCalDav() as fake:
        fake.add_calendar("cleo")
        yield fake


@pytest.fixture
async def client() -> Iterator[httpx.AsyncClient]:  # type: ignore[misc]
    async with httpx.AsyncClient() as c:
        yield c


def event(calendar_id: str, hours: int = 0) -> CalendarEvent:
    """A new booking's event (a fresh id per test: the fakes are shared by the module)."""
    return CalendarEvent(
        event_id=event_id(str(uuid.uuid4()), "ada"),
        calendar_id=calendar_id,
        start=START + timedelta(hours=hours),
        end=START + timedelta(hours=hours + 1),
        summary="Interview: onsite with Cand",
        description="Scheduled by Interloop",
    )


# -- Google


async def test_google_insert_asks_for_meet_and_reads_its_link(
    google: FakeGoogleCalendar, client: httpx.AsyncClient, retry: RetryPolicy
) -> None:
    writer = GoogleEvents(client, "google-test-token", base_url=f"{google.base_url}/calendar/v3", retry=retry)
    ev = event("ada@acme.example")
    written = await writer.upsert(ev, None)

    stored = google.event("ada@acme.example", ev.event_id)
    assert stored is not None and stored["start"]["dateTime"] == "2026-03-02T14:00:00Z"
    assert written.vendor_event_id == ev.event_id
    assert written.conference_url == stored["hangoutLink"]
    assert written.conference_url.startswith("https://meet.google.com/")
    assert written.etag == stored["etag"]
    (sent,) = google.writes_to("/calendars/ada@acme.example/events", "POST")
    assert "conferenceDataVersion=1" in sent.query and "sendUpdates=none" in sent.query
    body = sent.json()
    assert body["id"] == ev.event_id
    assert body["conferenceData"]["createRequest"]["conferenceSolutionKey"] == {"type": "hangoutsMeet"}


async def test_google_ignores_the_meet_request_without_conference_data_version(
    google: FakeGoogleCalendar, client: httpx.AsyncClient
) -> None:
    # the fake follows the documented rule the adapter relies on
    r = await client.post(
        f"{google.base_url}/calendar/v3/calendars/ada@acme.example/events",
        headers={"Authorization": "Bearer google-test-token"},
        json={
            "start": {"dateTime": "2026-03-02T10:00:00Z"},
            "end": {"dateTime": "2026-03-02T11:00:00Z"},
            "conferenceData": {
                "createRequest": {"requestId": "x1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}
            },
        },
    )
    assert r.status_code == 200 and "hangoutLink" not in r.json()


async def test_google_reinsert_is_idempotent_and_patch_and_delete(
    google: FakeGoogleCalendar, client: httpx.AsyncClient, retry: RetryPolicy
) -> None:
    writer = GoogleEvents(client, "google-test-token", base_url=f"{google.base_url}/calendar/v3", retry=retry)
    ev = event("ada@acme.example")
    first = await writer.upsert(ev, None)
    # A retried insert (the first answer was lost): 409 duplicate, the event is brought up to date.
    again = await writer.upsert(ev, None)
    assert len([e for e in google.live_events("ada@acme.example") if e["id"] == ev.event_id]) == 1
    assert again.conference_url == first.conference_url and again.vendor_event_id == ev.event_id
    rejected = [r for r in google.requests if r.method == "POST" and ev.event_id in r.body.decode()]
    assert len(rejected) == 2  # the second POST was answered 409, then a PATCH
    assert google.writes_to(f"/events/{ev.event_id}", "PATCH")

    later = CalendarEvent(
        event_id=ev.event_id,
        calendar_id=ev.calendar_id,
        start=ev.start + timedelta(days=1),
        end=ev.end + timedelta(days=1),
        summary=ev.summary,
    )
    patched = await writer.upsert(later, again)
    stored = google.event("ada@acme.example", ev.event_id)
    assert stored is not None and stored["start"]["dateTime"] == "2026-03-03T14:00:00Z"
    assert patched.conference_url == first.conference_url and patched.etag == stored["etag"] != first.etag

    await writer.delete(later, patched)
    assert google.event("ada@acme.example", ev.event_id)["status"] == "cancelled"  # type: ignore[index]
    await writer.delete(later, patched)  # 410 deleted: already gone is gone
    with google.lock:
        statuses = [r for r in google.requests if r.method == "DELETE" and ev.event_id in r.path]
    assert len(statuses) == 2


async def test_google_revoked_token_is_permanent(
    google: FakeGoogleCalendar, client: httpx.AsyncClient
) -> None:
    writer = GoogleEvents(client, "revoked", base_url=f"{google.base_url}/calendar/v3", retry=RetryPolicy(1))
    ev = event("ada@acme.example")
    with pytest.raises(WriteFailed) as failed:
        await writer.upsert(ev, None)
    assert failed.value.permanent and failed.value.reason == "google: HTTP 401 authError"
    assert google.event("ada@acme.example", ev.event_id) is None


async def test_google_outage_is_retried_then_transient(
    google: FakeGoogleCalendar, client: httpx.AsyncClient, retry: RetryPolicy, sleeps: Sleeps
) -> None:
    writer = GoogleEvents(client, "google-test-token", base_url=f"{google.base_url}/calendar/v3", retry=retry)
    ev = event("ada@acme.example")
    google.fail_next(2, 503)
    written = await writer.upsert(ev, None)
    assert written.conference_url and len(sleeps.delays) == 2
    google.set_down(True)
    try:
        with pytest.raises(WriteFailed) as failed:
            await writer.delete(ev, written)
    finally:
        google.set_down(False)
    assert not failed.value.permanent and "HTTP 503" in failed.value.reason
    assert "Backend Error" not in failed.value.reason  # never the vendor's text


# -- Microsoft Graph


async def test_graph_create_with_teams_meeting_idempotent_patch_delete(
    graph: FakeGraphCalendar, client: httpx.AsyncClient, retry: RetryPolicy
) -> None:
    writer = GraphEvents(client, "graph-test-token", base_url=f"{graph.base_url}/v1.0", retry=retry)
    ev = event("gus@contoso.example")
    written = await writer.upsert(ev, None)
    (sent,) = graph.writes_to("/v1.0/users/gus@contoso.example/calendar/events", "POST")
    body = sent.json()
    assert body["isOnlineMeeting"] is True and body["onlineMeetingProvider"] == "teamsForBusiness"
    assert body["transactionId"] == ev.event_id
    assert body["start"] == {"dateTime": "2026-03-02T14:00:00", "timeZone": "UTC"}
    assert sent.headers["authorization"] == "Bearer graph-test-token"
    assert written.conference_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert written.vendor_event_id and written.etag.startswith('W/"')

    # A retried create carries the same transactionId: still one event.
    again = await writer.upsert(ev, None)
    assert again.vendor_event_id == written.vendor_event_id
    assert len(graph.live_events("gus@contoso.example")) == 1

    later = CalendarEvent(
        event_id=ev.event_id,
        calendar_id=ev.calendar_id,
        start=ev.start + timedelta(hours=3),
        end=ev.end + timedelta(hours=3),
        summary=ev.summary,
    )
    patched = await writer.upsert(later, written)
    (stored,) = graph.live_events("gus@contoso.example")
    assert stored["start"]["dateTime"].startswith("2026-03-02T17:00:00")
    assert patched.etag != written.etag and patched.conference_url == written.conference_url
    assert graph.writes_to(f"/events/{written.vendor_event_id}", "PATCH")

    await writer.delete(later, patched)
    assert graph.live_events("gus@contoso.example") == []
    await writer.delete(later, patched)  # 404: already gone


async def test_graph_revoked_token_is_permanent_and_outage_transient(
    graph: FakeGraphCalendar, client: httpx.AsyncClient, retry: RetryPolicy, sleeps: Sleeps
) -> None:
    revoked = GraphEvents(client, "expired", base_url=f"{graph.base_url}/v1.0", retry=retry)
    with pytest.raises(WriteFailed) as failed:
        await revoked.upsert(event("gus@contoso.example"), None)
    assert failed.value.permanent and failed.value.reason == "graph: HTTP 401 InvalidAuthenticationToken"
    assert sleeps.delays == []  # a 401 is not retried

    writer = GraphEvents(client, "graph-test-token", base_url=f"{graph.base_url}/v1.0", retry=retry)
    graph.fail_next(3, 503)
    with pytest.raises(WriteFailed) as down:
        await writer.upsert(event("gus@contoso.example"), None)
    assert not down.value.permanent and down.value.reason == "graph: HTTP 503 after 3 attempts"
    graph.fail_next(1, 502)
    ok = await writer.upsert(event("gus@contoso.example", hours=5), None)
    assert ok.conference_url


# -- CalDAV


async def test_caldav_put_if_none_match_then_if_match_and_delete(
    caldav: FakeCalDav, client: httpx.AsyncClient, retry: RetryPolicy
) -> None:
    writer = CalDavEvents(client, caldav.base_url, auth=("caldav-user", "caldav-pass"), retry=retry)
    ev = event("cleo")
    written = await writer.upsert(ev, None)
    name = f"{ev.event_id}.ics"
    (created,) = caldav.writes_to(f"/calendars/cleo/{name}", "PUT")
    assert created.headers["if-none-match"] == "*"
    assert created.headers["content-type"].startswith("text/calendar")
    stored = caldav.object("cleo", name)
    assert stored is not None
    (vevent,) = stored.walk("VEVENT")
    assert str(vevent["UID"]) == ev.event_id and vevent.decoded("DTSTART") == START
    assert written.etag and written.vendor_event_id == ev.event_id and written.conference_url == ""

    # A retried create: 412 (it is there), then an update of it; still one resource.
    again = await writer.upsert(ev, None)
    assert caldav.names("cleo").count(name) == 1 and again.etag != written.etag

    later = CalendarEvent(
        event_id=ev.event_id,
        calendar_id="cleo",
        start=ev.start + timedelta(days=2),
        end=ev.end + timedelta(days=2),
        summary=ev.summary,
    )
    moved = await writer.upsert(later, again)
    update = caldav.writes_to(f"/calendars/cleo/{name}", "PUT")[-1]
    assert update.headers["if-match"] == again.etag
    (vevent,) = caldav.object("cleo", name).walk("VEVENT")  # type: ignore[union-attr]
    assert vevent.decoded("DTSTART") == START + timedelta(days=2)

    # Someone else changed it: 412 on our If-Match, its ETag read again, ours written once.
    caldav.touch("cleo", name)
    final = await writer.upsert(later, moved)
    assert final.etag != moved.etag
    assert [r.headers.get("if-match") for r in caldav.requests if r.method == "PUT"][-2] == moved.etag

    await writer.delete(later, final)
    assert name not in caldav.names("cleo")
    await writer.delete(later, final)  # 404: already gone


async def test_caldav_wrong_password_is_permanent_and_outage_transient(
    caldav: FakeCalDav, client: httpx.AsyncClient, retry: RetryPolicy
) -> None:
    wrong = CalDavEvents(client, caldav.base_url, auth=("caldav-user", "nope"), retry=retry)
    with pytest.raises(WriteFailed) as failed:
        await wrong.upsert(event("cleo"), None)
    assert failed.value.permanent and failed.value.reason == "caldav: HTTP 401"

    writer = CalDavEvents(client, caldav.base_url, auth=("caldav-user", "caldav-pass"), retry=retry)
    caldav.fail_next(1, 500)
    assert (await writer.upsert(event("cleo"), None)).etag  # retried through one 500
    caldav.set_down(True)
    try:
        with pytest.raises(WriteFailed) as down:
            await writer.upsert(event("cleo", hours=2), None)
    finally:
        caldav.set_down(False)
    assert not down.value.permanent


async def test_caldav_fake_refuses_what_a_server_would(caldav: FakeCalDav, client: httpx.AsyncClient) -> None:
    auth = ("caldav-user", "caldav-pass")
    url = f"{caldav.base_url}/calendars/cleo/x.ics"
    wrong_type = await client.put(url, content=b"hi", headers={"Content-Type": "text/plain"}, auth=auth)
    assert wrong_type.status_code == 415
    bad = await client.put(url, content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                           headers={"Content-Type": "text/calendar"}, auth=auth)  # fmt: skip
    assert bad.status_code == 403 and b"valid-calendar-data" in bad.content
    stale = await client.put(
        url, content=b"x", headers={"Content-Type": "text/calendar", "If-Match": '"nope"'}, auth=auth
    )
    assert stale.status_code == 403  # the body is checked before the condition
