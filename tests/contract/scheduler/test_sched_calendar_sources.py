"""Calendar sources over real HTTP against the local fakes: request/response shapes, batching limits,
throttling with Retry-After, auth errors, outages and malformed bodies (Unknown, never free)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from interloop_fakes.calendars import FakeCalDav, FakeGoogleCalendar, FakeGraphCalendar, FakeIcsFeed
from interloop_scheduler.vendors import (
    CalDavSource,
    GoogleFreeBusy,
    GraphSchedule,
    IcsFeedSource,
    RetryPolicy,
    Unknown,
)

from .conftest import Sleeps

START = datetime(2026, 3, 2, tzinfo=UTC)
END = START + timedelta(days=7)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        yield fake


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphCalendar]:
    with FakeGraphCalendar() as fake:
        yield fake


@pytest.fixture(scope="module")
def feeds() -> Iterator[FakeIcsFeed]:
    with FakeIcsFeed() as fake:
        yield fake


@pytest.fixture(scope="module")
def caldav() -> Iterator[FakeCalDav]:
    with FakeCalDav() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _reset(request: pytest.FixtureRequest) -> None:
    for name in ("google", "graph", "feeds", "caldav"):
        if name in request.fixturenames:
            fake = request.getfixturevalue(name)
            with fake.lock:
                fake.calendars.clear()
                fake.requests.clear()
                fake._injected.rate_limits = fake._injected.failures = 0
                fake._injected.down = False
                fake._malformed = 0


# -- Google freeBusy


async def test_google_busy_batches_at_50_and_marks_not_found_unknown(
    google: FakeGoogleCalendar, retry: RetryPolicy
) -> None:
    ids = [f"u{i}@acme.example" for i in range(120)]
    for i in ids[:-1]:
        google.add_calendar(i)
    google.add_busy("u0@acme.example", at(2, 14), at(2, 15))
    google.add_busy("u0@acme.example", at(1, 10), at(2, 1))  # clipped to timeMin by the vendor
    async with httpx.AsyncClient() as client:
        source = GoogleFreeBusy(
            client, "google-test-token", base_url=f"{google.base_url}/calendar/v3", retry=retry
        )
        got = await source.busy(ids, START, END)
    assert got["u0@acme.example"] == [(START, at(2, 1)), (at(2, 14), at(2, 15))]
    assert got["u1@acme.example"] == []
    assert got["u119@acme.example"] == Unknown("google: notFound")
    sizes = sorted(len(r.json()["items"]) for r in google.requests)
    assert sizes == [20, 50, 50]
    assert google.requests[0].json()["timeMin"] == "2026-03-02T00:00:00Z"


async def test_google_rejects_more_than_50_items_with_its_error_body(google: FakeGoogleCalendar) -> None:
    async with httpx.AsyncClient() as client:
        r = await client.post(
            f"{google.base_url}/calendar/v3/freeBusy",
            headers={"Authorization": "Bearer google-test-token"},
            json={
                "timeMin": "2026-03-02T00:00:00Z",
                "timeMax": "2026-03-03T00:00:00Z",
                "items": [{"id": f"c{i}"} for i in range(51)],
            },
        )
    assert r.status_code == 400
    assert r.json()["error"]["errors"][0]["reason"] == "tooManyCalendarsRequested"


@pytest.mark.parametrize("status", [429, 403])
async def test_google_throttling_is_retried_honouring_retry_after(
    google: FakeGoogleCalendar, retry: RetryPolicy, sleeps: Sleeps, status: int
) -> None:
    google.add_busy("a@acme.example", at(2, 9), at(2, 10))
    google.throttle_status = status
    google.rate_limit_next(2, retry_after=7)
    try:
        async with httpx.AsyncClient() as client:
            got = await GoogleFreeBusy(
                client, "google-test-token", f"{google.base_url}/calendar/v3", retry=retry
            ).busy(["a@acme.example"], START, END)
    finally:
        google.throttle_status = 429
    assert got == {"a@acme.example": [(at(2, 9), at(2, 10))]}
    assert sleeps.delays == [7, 7]


async def test_google_failures_are_unknown_never_free(
    google: FakeGoogleCalendar, retry: RetryPolicy, sleeps: Sleeps
) -> None:
    google.add_busy("a@acme.example", at(2, 9), at(2, 10))
    async with httpx.AsyncClient() as client:
        good = GoogleFreeBusy(client, "google-test-token", f"{google.base_url}/calendar/v3", retry=retry)
        google.set_down(True)
        down = await good.busy(["a@acme.example"], START, END)
        google.set_down(False)
        assert isinstance(down["a@acme.example"], Unknown) and "503" in down["a@acme.example"].reason
        # exponential backoff with full jitter (the one vendor-HTTP policy) without Retry-After: each wait is
        # at most 0.25 s doubled per attempt
        assert len(sleeps.delays) == 2
        assert all(0 <= d <= 0.25 * 2**n for n, d in enumerate(sleeps.delays))
        bad_auth = await GoogleFreeBusy(client, "wrong", f"{google.base_url}/calendar/v3", retry=retry).busy(
            ["a@acme.example"], START, END
        )
        # the vendor's error code, never its free-text message
        assert bad_auth["a@acme.example"] == Unknown("google: HTTP 401 authError")
        google.malformed_next()
        broken = await good.busy(["a@acme.example"], START, END)
        assert broken["a@acme.example"] == Unknown("google: malformed freeBusy response")


# -- Microsoft Graph getSchedule


async def test_graph_batches_at_20_reads_items_and_statuses(
    graph: FakeGraphCalendar, retry: RetryPolicy
) -> None:
    ids = [f"u{i}@contoso.example" for i in range(45)]
    for i in ids:
        graph.add_calendar(i)
    graph.add_busy("u0@contoso.example", at(2, 9), at(2, 10))
    graph.add_busy("u0@contoso.example", at(2, 11), at(2, 12), status="tentative")
    graph.add_busy("u0@contoso.example", at(3, 9), at(3, 17), status="oof")
    graph.add_busy("u0@contoso.example", at(4, 9), at(4, 17), status="workingElsewhere")
    graph.add_busy("u0@contoso.example", at(5, 9), at(5, 10), status="free")
    async with httpx.AsyncClient() as client:
        source = GraphSchedule(
            client,
            "graph-test-token",
            user="coord@contoso.example",
            base_url=f"{graph.base_url}/v1.0",
            retry=retry,
        )
        got = await source.busy([*ids, "ghost@contoso.example"], START, END)
    assert got["u0@contoso.example"] == [(at(2, 9), at(2, 10)), (at(2, 11), at(2, 12)), (at(3, 9), at(3, 17))]
    assert got["u44@contoso.example"] == []
    assert got["ghost@contoso.example"] == Unknown("graph: ErrorMailRecipientNotFound")
    bodies = [r.json() for r in graph.requests]
    assert sorted(len(b["schedules"]) for b in bodies) == [6, 20, 20]
    assert bodies[0]["startTime"] == {"dateTime": "2026-03-02T00:00:00", "timeZone": "UTC"}
    assert graph.requests[0].path == "/v1.0/users/coord@contoso.example/calendar/getSchedule"


async def test_graph_limits_and_errors(graph: FakeGraphCalendar, retry: RetryPolicy, sleeps: Sleeps) -> None:
    graph.add_busy("a@contoso.example", at(2, 9), at(2, 10))
    async with httpx.AsyncClient() as client:
        r = await client.post(
            f"{graph.base_url}/v1.0/me/calendar/getSchedule",
            headers={"Authorization": "Bearer graph-test-token"},
            json={
                "schedules": [f"x{i}" for i in range(21)],
                "startTime": {"dateTime": "2026-03-02T00:00:00", "timeZone": "UTC"},
                "endTime": {"dateTime": "2026-03-03T00:00:00", "timeZone": "UTC"},
            },
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == "ErrorInvalidParameter"
        source = GraphSchedule(client, "graph-test-token", "me", f"{graph.base_url}/v1.0", retry=retry)
        graph.rate_limit_next(1, retry_after=3)
        assert await source.busy(["a@contoso.example"], START, END) == {
            "a@contoso.example": [(at(2, 9), at(2, 10))]
        }
        assert sleeps.delays == [3]
        # a 60-day range is split under Graph's 42-day limit
        graph.requests.clear()
        long = await source.busy(["a@contoso.example"], START, START + timedelta(days=60))
        assert long == {"a@contoso.example": [(at(2, 9), at(2, 10))]} and len(graph.requests) == 2
        denied = await GraphSchedule(client, "expired", "me", f"{graph.base_url}/v1.0", retry=retry).busy(
            ["a@contoso.example"], START, END
        )
        assert denied["a@contoso.example"] == Unknown("graph: HTTP 401 InvalidAuthenticationToken")
        graph.fail_next(3, 502)
        down = await source.busy(["a@contoso.example"], START, END)
        assert isinstance(down["a@contoso.example"], Unknown)


# -- ICS feeds


async def test_ics_feed_expands_events_and_flags_broken_feeds(feeds: FakeIcsFeed, retry: RetryPolicy) -> None:
    feeds.add_busy("alice", at(2, 9), at(2, 10))
    feeds.add_busy("alice", at(2, 12), at(2, 13), status="free")  # TRANSP:TRANSPARENT
    feeds.set_feed(
        "weekly",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:w\r\n"
        "DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/London:20260302T090000\r\n"
        "DTEND;TZID=Europe/London:20260302T093000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    feeds.set_feed("junk", "not a calendar")
    urls = {n: feeds.url(n) for n in ("alice", "weekly", "junk", "missing")}
    async with httpx.AsyncClient() as client:
        got = await IcsFeedSource(client, urls, retry=retry).busy(
            [*urls, "unconfigured"], START, START + timedelta(days=14)
        )
    assert got["alice"] == [(at(2, 9), at(2, 10))]
    assert got["weekly"] == [(at(2, 9), at(2, 9, 30)), (at(9, 9), at(9, 9, 30))]
    assert isinstance(got["junk"], Unknown) and got["missing"] == Unknown("ics: HTTP 404")
    assert got["unconfigured"] == Unknown("ics: no feed URL configured")
    feeds.set_down(True)
    try:
        async with httpx.AsyncClient() as client:
            down = await IcsFeedSource(client, urls, retry=retry).busy(["alice"], START, END)
    finally:
        feeds.set_down(False)
    assert isinstance(down["alice"], Unknown)


# -- CalDAV free-busy-query


async def test_caldav_free_busy_query_report(caldav: FakeCalDav, retry: RetryPolicy) -> None:
    caldav.add_busy("alice", at(2, 9), at(2, 10))
    caldav.add_busy("alice", at(2, 11), at(2, 12), status="tentative")
    caldav.add_busy("alice", at(2, 13), at(2, 14), status="free")
    caldav.add_calendar("bob")
    async with httpx.AsyncClient() as client:
        source = CalDavSource(client, caldav.base_url, auth=("caldav-user", "caldav-pass"), retry=retry)
        got = await source.busy(["alice", "bob", "carol"], START, END)
        wrong = await CalDavSource(client, caldav.base_url, auth=("caldav-user", "nope"), retry=retry).busy(
            ["alice"], START, END
        )
        caldav.malformed_next()
        broken = await source.busy(["alice"], START, END)
        plain = await client.post(f"{caldav.base_url}/calendars/alice/", auth=("caldav-user", "caldav-pass"))
    assert got["alice"] == [(at(2, 9), at(2, 10)), (at(2, 11), at(2, 12))]
    assert got["bob"] == [] and got["carol"] == Unknown("caldav: HTTP 404")
    assert wrong["alice"] == Unknown("caldav: HTTP 401")
    assert broken["alice"] == Unknown("caldav: answer is not text/calendar")
    assert plain.status_code == 405
    report = next(r for r in caldav.requests if r.method == "POST" and r.path.startswith("/calendars/alice"))
    assert b"free-busy-query" in report.body and b'start="20260302T000000Z"' in report.body
    assert report.headers.get("depth") == "1"


async def test_a_failed_source_makes_availability_exclude_and_report(
    google: FakeGoogleCalendar, retry: RetryPolicy
) -> None:
    from datetime import time

    from interloop_scheduler.domain.availability import SlotRules, find_slots, k_of
    from interloop_scheduler.domain.model import Interviewer, weekday_hours

    google.add_busy("a@acme.example", at(2, 9), at(2, 10))
    async with httpx.AsyncClient() as client:
        good = await GoogleFreeBusy(
            client, "google-test-token", f"{google.base_url}/calendar/v3", retry=retry
        ).busy(["a@acme.example", "b@acme.example"], START, END)
    assert good["b@acme.example"] == Unknown("google: notFound")
    people = [
        Interviewer(id=i, zone="UTC", working_hours=weekday_hours(time(9), time(11)))
        for i in ("a@acme.example", "b@acme.example")
    ]
    res = find_slots(
        interviewers=people,
        requirements=[k_of(1, *good)],
        busy=good,
        window=(at(2, 0), at(3, 0)),
        now=START,
        rules=SlotRules(duration=timedelta(hours=1), step=timedelta(hours=1)),
    )
    assert [(s.start.hour, s.interviewers) for s in res.slots] == [(10, ("a@acme.example",))]
    assert res.unknown == ("b@acme.example",)
