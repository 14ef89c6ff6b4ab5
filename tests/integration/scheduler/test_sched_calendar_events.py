"""Events in interviewers' calendars, on the session platform: a booking writes an event with a conference
link into every Google / Graph calendar (and a calendar object into CalDAV), a reschedule moves them, a
cancel removes them, and a revoked token leaves the write failed with an alert to the calendar's owner.
The scheduler's own worker does the writing (staged in the booking's transaction, written after it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from interloop.events.v1 import ats_pb2
from interloop_common.events import decode
from interloop_fakes.calendars import FakeCalDav, FakeGoogleCalendar, FakeGraphCalendar

from .conftest import ALWAYS, Tenant

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        yield fake


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphCalendar]:
    with FakeGraphCalendar() as fake:
        yield fake


@pytest.fixture(scope="module")
def caldav() -> Iterator[FakeCalDav]:
    with FakeCalDav() as fake:
        yield fake


async def eventually(what: str, check: Callable[[], object], timeout: float = 60.0) -> object:
    """Polls until ``check`` answers something truthy (the worker runs every couple of seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        got = await check() if asyncio.iscoroutinefunction(check) else check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def writes(t: Tenant, booking_id: str) -> dict[str, dict]:
    rows = await t.fetch(
        "SELECT * FROM calendar_writes WHERE booking_id = $1::uuid ORDER BY interviewer_id", booking_id
    )
    return {r["interviewer_id"]: dict(r) for r in rows}


async def settled(t: Tenant, booking_id: str, status: str, n: int) -> dict[str, dict]:
    async def check() -> dict[str, dict] | None:
        got = await writes(t, booking_id)
        return got if len(got) == n and all(w["status"] == status for w in got.values()) else None

    return await eventually(f"{n} calendar writes {status}", check)  # type: ignore[return-value]


async def panel(
    t: Tenant, google: FakeGoogleCalendar, graph: FakeGraphCalendar, caldav: FakeCalDav, tag: str
) -> dict[str, str]:
    """Three interviewers, one per writable calendar kind, with known (refreshed) calendars."""
    ids = {"google": f"gia-{tag}", "graph": f"gus-{tag}", "caldav": f"cleo-{tag}"}
    google.add_calendar(f"{ids['google']}@acme.test")
    graph.add_calendar(f"{ids['graph']}@contoso.test")
    caldav.add_calendar(ids["caldav"])
    await t.put_interviewer(
        ids["google"],
        working_hours=ALWAYS,
        calendar={
            "kind": "google",
            "calendar_id": f"{ids['google']}@acme.test",
            "url": f"{google.base_url}/calendar/v3",
            "credential": google.token,
        },
    )
    await t.put_interviewer(
        ids["graph"],
        working_hours=ALWAYS,
        calendar={
            "kind": "graph",
            "calendar_id": f"{ids['graph']}@contoso.test",
            "url": f"{graph.base_url}/v1.0",
            "credential": graph.token,
            "user": "coord@contoso.test",
        },
    )
    await t.put_interviewer(
        ids["caldav"],
        working_hours=ALWAYS,
        calendar={
            "kind": "caldav",
            "calendar_id": ids["caldav"],
            "url": caldav.base_url,
            "user": caldav.username,
            "credential": caldav.password,
        },
    )
    r = await t.http.post("/v1/scheduling/calendars/refresh", json={"interviewer_ids": list(ids.values())})
    assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"known"}, r.text
    return ids


def hour(days: int, at: int) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, at, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_booking_writes_moves_and_removes_events_in_every_calendar(
    tenant: Tenant, google: FakeGoogleCalendar, graph: FakeGraphCalendar, caldav: FakeCalDav
) -> None:
    ids = await panel(tenant, google, graph, caldav, "a")
    start = hour(4, 10)
    r = await tenant.http.post(
        "/v1/interviews",
        json={
            "candidate_id": "cand-cal",
            "interviewer_ids": sorted(ids.values()),
            "start": iso(start),
            "end": iso(start + timedelta(hours=1)),
            "round": "onsite",
        },
    )
    assert r.status_code == 201, r.text
    booking = r.json()["id"]

    written = await settled(tenant, booking, "written", 3)
    g, m, d = written[ids["google"]], written[ids["graph"]], written[ids["caldav"]]
    (gev,) = google.live_events(f"{ids['google']}@acme.test")
    assert gev["id"] == g["event_id"] == g["vendor_event_id"]
    assert gev["start"]["dateTime"] == iso(start) and gev["summary"] == "Interview: onsite"
    assert g["conference_url"] == gev["hangoutLink"] and g["conference_url"].startswith(
        "https://meet.google.com/"
    )
    (mev,) = graph.live_events(f"{ids['graph']}@contoso.test")
    assert m["vendor_event_id"] == mev["id"] and m["conference_url"] == mev["onlineMeeting"]["joinUrl"]
    assert m["conference_url"].startswith("https://teams.microsoft.com/")
    assert caldav.names(ids["caldav"]) == [f"{d['event_id']}.ics"] and d["etag"]
    # each calendar has its own event id; one write each, nothing written twice
    assert len({g["event_id"], m["event_id"], d["event_id"]}) == 3
    assert len(google.writes_to(f"/calendars/{ids['google']}@acme.test/events", "POST")) == 1
    assert all(w["attempts"] == 1 and w["reason"] == "" for w in written.values())

    # A reschedule moves every event, keeping its conference link.
    later = hour(5, 15)
    moved = await tenant.http.post(
        f"/v1/scheduling/bookings/{booking}/reschedule", json={"start": iso(later)}
    )
    assert moved.status_code == 200, moved.text

    async def all_moved() -> bool:
        (ev,) = google.live_events(f"{ids['google']}@acme.test")
        (mv,) = graph.live_events(f"{ids['graph']}@contoso.test")
        obj = caldav.object(ids["caldav"], f"{d['event_id']}.ics")
        return (
            ev["start"]["dateTime"] == iso(later)
            and mv["start"]["dateTime"].startswith(iso(later)[:19])
            and obj is not None
            and next(iter(obj.walk("VEVENT"))).decoded("DTSTART") == later
        )

    await eventually("events moved", all_moved)
    again = await settled(tenant, booking, "written", 3)
    assert again[ids["google"]]["conference_url"] == g["conference_url"]
    assert again[ids["graph"]]["conference_url"] == m["conference_url"]
    assert again[ids["graph"]]["generation"] == 1
    assert len(google.live_events(f"{ids['google']}@acme.test")) == 1  # moved, not added

    # A cancel removes them.
    cancelled = await tenant.http.post(f"/v1/scheduling/bookings/{booking}/cancel", json={"reason": "filled"})
    assert cancelled.status_code == 200, cancelled.text
    await settled(tenant, booking, "deleted", 3)
    assert google.live_events(f"{ids['google']}@acme.test") == []
    assert graph.live_events(f"{ids['graph']}@contoso.test") == []
    assert caldav.names(ids["caldav"]) == []


async def test_revoked_token_fails_the_write_and_alerts_the_owner(
    tenant: Tenant, google: FakeGoogleCalendar
) -> None:
    google.add_calendar("rev@acme.test")
    await tenant.put_interviewer(
        "rev",
        email="rev@acme.test",
        working_hours=ALWAYS,
        calendar={
            "kind": "google",
            "calendar_id": "rev@acme.test",
            "url": f"{google.base_url}/calendar/v3",
            "credential": "revoked-token",  # the fake answers 401 authError
        },
    )
    start = hour(6, 9)
    r = await tenant.http.post(
        "/v1/interviews",
        json={
            "candidate_id": "cand-rev",
            "interviewer_ids": ["rev"],
            "start": iso(start),
            "end": iso(start + timedelta(hours=1)),
            # an unreadable calendar refuses a booking unless a coordinator overrides it, with a reason
            "override_reason": "rev confirmed the time by phone",
        },
    )
    assert r.status_code == 201, r.text  # the booking stands; only the calendar is behind
    assert r.json()["override"]["rules"] == ["calendar_unknown"]
    booking = r.json()["id"]

    failed = (await settled(tenant, booking, "failed", 1))["rev"]
    assert failed["reason"] == "google: HTTP 401 authError" and failed["attempts"] == 1
    assert failed["vendor_event_id"] == "" and google.live_events("rev@acme.test") == []
    assert "Invalid Credentials" not in failed["reason"]  # never the vendor's text

    rows = await tenant.fetch(
        "SELECT envelope FROM outbox WHERE event_type = 'notification.alert' AND tenant_id = $1", tenant.id
    )
    alerts = [decode(bytes(r["envelope"])).unpack(ats_pb2.Alert) for r in rows]
    (alert,) = [a for a in alerts if booking in a.detail]
    assert alert.owner == "rev@acme.test" and "401 authError" in alert.detail
    assert "rev" in alert.summary and "google" in alert.summary
