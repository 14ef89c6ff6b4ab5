"""Panel availability through the gateway's REST API, on the real scheduler and PostgreSQL: DST weeks in
the candidate's zone, k-of-n with busy blocks / out-of-office / date overrides, daily and weekly caps,
and a failed calendar source (unknown, never free)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop_common.rpc import ts
from interloop_fakes.calendars import FakeGoogleCalendar

from .conftest import WEEKDAYS_9_TO_5, Tenant

pytestmark = pytest.mark.integration


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


async def slots(t: Tenant, panel: list[dict], start: str, end: str, **rules: object) -> dict:
    body = {"panel": panel, "window_start": start, "window_end": end, "duration_minutes": 60, **rules}
    r = await t.http.post("/v1/scheduling/availability", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def test_dst_week_keeps_local_hours_for_candidate_and_interviewers(tenant: Tenant) -> None:
    await tenant.put_interviewer("lon", time_zone="Europe/London", working_hours=WEEKDAYS_9_TO_5)
    await tenant.put_interviewer("nyc", time_zone="America/New_York", working_hours=WEEKDAYS_9_TO_5)
    # New York springs forward on Sunday 2027-03-14; London only on 2027-03-28.
    got = await slots(
        tenant,
        [{"interviewer_ids": ["lon", "nyc"]}],
        "2027-03-11T00:00:00Z",
        "2027-03-17T00:00:00Z",
        time_zone="America/New_York",
        step_minutes=30,
    )
    by_day: dict[str, list[dict]] = defaultdict(list)
    for s in got["slots"]:
        by_day[s["local_date"]].append(s)
    assert sorted(by_day) == ["2027-03-11", "2027-03-12", "2027-03-15", "2027-03-16"]
    # Before the change the overlap is 09:00-12:00 New York (14:00-17:00 UTC),
    # after it 09:00-13:00 (13:00-17:00 UTC).
    assert [s["local_start"][11:16] for s in by_day["2027-03-12"]] == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
    ]
    assert by_day["2027-03-12"][0]["start"] == "2027-03-12T14:00:00Z"
    assert by_day["2027-03-12"][0]["local_start"].endswith("-05:00")
    assert [s["local_start"][11:16] for s in by_day["2027-03-15"]] == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "12:00",
    ]
    assert by_day["2027-03-15"][0]["start"] == "2027-03-15T13:00:00Z"
    assert by_day["2027-03-15"][0]["local_start"].endswith("-04:00")
    assert all(s["interviewer_ids"] == ["lon", "nyc"] for s in got["slots"])

    # A candidate in India (UTC+05:30) gets starts on their own whole hours (13:30 UTC = 19:00 IST).
    india = await slots(
        tenant,
        [{"interviewer_ids": ["lon", "nyc"]}],
        "2027-03-15T00:00:00Z",
        "2027-03-16T00:00:00Z",
        time_zone="Asia/Kolkata",
        step_minutes=60,
    )
    assert [s["local_start"][11:16] for s in india["slots"]] == ["19:00", "20:00", "21:00"]


async def test_k_of_n_with_busy_out_of_office_and_override(tenant: Tenant) -> None:
    await tenant.put_interviewer("lead", working_hours=WEEKDAYS_9_TO_5)
    await tenant.put_interviewer("a", working_hours=WEEKDAYS_9_TO_5)
    await tenant.put_interviewer(
        "b",
        working_hours=WEEKDAYS_9_TO_5,
        out_of_office=[{"start": "2027-01-11T13:00:00Z", "end": "2027-01-11T17:00:00Z"}],
    )
    await tenant.put_interviewer(
        "c",
        working_hours=WEEKDAYS_9_TO_5,
        overrides=[{"date": "2027-01-11", "windows": [{"start": "10:00", "end": "15:00"}]}],
    )
    await tenant.rpc.ReplaceBusyBlocks(
        pb.ReplaceBusyBlocksRequest(
            tenant_id=tenant.id,
            interviewer_id="a",
            source="manual",
            window={"start": ts(utc("2027-01-11T00:00:00Z")), "end": ts(utc("2027-01-12T00:00:00Z"))},
            busy=[{"start": ts(utc("2027-01-11T09:00:00Z")), "end": ts(utc("2027-01-11T12:00:00Z"))}],
        )
    )
    panel = [{"interviewer_ids": ["lead"]}, {"interviewer_ids": ["a", "b", "c"], "k": 2}]
    got = await slots(tenant, panel, "2027-01-11T00:00:00Z", "2027-01-12T00:00:00Z", step_minutes=60)
    assert [(s["start"][11:16], s["interviewer_ids"]) for s in got["slots"]] == [
        ("10:00", ["b", "c", "lead"]),
        ("11:00", ["b", "c", "lead"]),
        ("12:00", ["a", "b", "c", "lead"]),
        ("13:00", ["a", "c", "lead"]),
        ("14:00", ["a", "c", "lead"]),
    ]
    # A day off by override: c has no windows on the 12th, so 2-of-3 needs both a and b.
    await tenant.put_interviewer(
        "c", working_hours=WEEKDAYS_9_TO_5, overrides=[{"date": "2027-01-12", "windows": []}]
    )
    tue = await slots(tenant, panel, "2027-01-12T00:00:00Z", "2027-01-13T00:00:00Z", step_minutes=60)
    assert {tuple(s["interviewer_ids"]) for s in tue["slots"]} == {("a", "b", "lead")}

    # Buffers: a 15-minute buffer after the event keeps a 60-minute slot off a's busy block start.
    await tenant.rpc.ReplaceBusyBlocks(
        pb.ReplaceBusyBlocksRequest(
            tenant_id=tenant.id,
            interviewer_id="lead",
            source="manual",
            window={"start": ts(utc("2027-01-13T00:00:00Z")), "end": ts(utc("2027-01-14T00:00:00Z"))},
            busy=[{"start": ts(utc("2027-01-13T11:00:00Z")), "end": ts(utc("2027-01-13T17:00:00Z"))}],
        )
    )
    wed = await slots(
        tenant,
        [{"interviewer_ids": ["lead"]}],
        "2027-01-13T00:00:00Z",
        "2027-01-14T00:00:00Z",
        step_minutes=30,
        buffer_after_minutes=15,
    )
    assert [s["start"][11:16] for s in wed["slots"]] == ["09:00", "09:30"]


async def test_daily_and_weekly_caps_count_bookings(tenant: Tenant) -> None:
    await tenant.put_interviewer(
        "capped", working_hours=WEEKDAYS_9_TO_5, daily_cap=1, weekly_cap=2, time_zone="Europe/Berlin"
    )
    panel = [{"interviewer_ids": ["capped"]}]

    async def days(start: str, end: str) -> list[str]:
        got = await slots(tenant, panel, start, end, time_zone="Europe/Berlin", step_minutes=60)
        return sorted({s["local_date"] for s in got["slots"]})

    week = ("2027-02-01T00:00:00+01:00", "2027-02-06T00:00:00+01:00")  # Mon..Fri in Berlin
    assert await days(*week) == ["2027-02-01", "2027-02-02", "2027-02-03", "2027-02-04", "2027-02-05"]
    for day in ("2027-02-02", "2027-02-03"):
        r = await tenant.http.post(
            "/v1/interviews",
            json={
                "candidate_id": f"c-{day}",
                "interviewer_ids": ["capped"],
                "start": f"{day}T10:00:00+01:00",
                "end": f"{day}T11:00:00+01:00",
            },
        )
        assert r.status_code == 201, r.text
    # One per day: Tue and Wed are full; two per ISO week: the whole week is full now.
    assert await days(*week) == []
    assert await days("2027-02-08T00:00:00+01:00", "2027-02-09T00:00:00+01:00") == ["2027-02-08"]


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        yield fake


async def test_failed_calendar_source_is_unknown_never_free(
    tenant: Tenant, google: FakeGoogleCalendar
) -> None:
    cal = {
        "kind": "google",
        "calendar_id": "gcal-ada@acme.test",
        "url": f"{google.base_url}/calendar/v3",
        "credential": "google-test-token",
    }
    ada = await tenant.put_interviewer("ada", working_hours=WEEKDAYS_9_TO_5, calendar=cal)
    assert ada["calendar_status"] == "unknown" and "credential" not in ada["calendar"]
    # At rest the token is sealed (Fernet), never the plaintext; the refresh below still reads it.
    stored = await tenant.fetch("SELECT calendar::text AS c FROM interviewers WHERE id = 'ada'")
    assert "google-test-token" not in stored[0]["c"] and "fernet:" in stored[0]["c"]
    await tenant.put_interviewer("bob", working_hours=WEEKDAYS_9_TO_5)
    # Calendars are read a few weeks ahead: use the Monday after next.
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 + (7 - today.weekday()) % 7)
    window = (f"{monday}T00:00:00Z", f"{monday + timedelta(days=1)}T00:00:00Z")

    # Never read yet: unknown, so an all-of panel has no slots and says why.
    got = await slots(tenant, [{"interviewer_ids": ["ada", "bob"]}], *window, step_minutes=60)
    assert got["slots"] == [] and got["unknown_interviewer_ids"] == ["ada"]
    assert any("calendar unknown" in r for r in got["reasons"])

    google.add_calendar("gcal-ada@acme.test")
    google.add_busy("gcal-ada@acme.test", utc(f"{monday}T09:00:00Z"), utc(f"{monday}T15:00:00Z"))
    r = await tenant.http.post("/v1/scheduling/calendars/refresh", json={})
    assert r.json()["results"] == [
        {"interviewer_id": "ada", "status": "known", "reason": "", "busy_blocks": 1}
    ]
    got = await slots(tenant, [{"interviewer_ids": ["ada", "bob"]}], *window, step_minutes=60)
    assert [s["start"][11:16] for s in got["slots"]] == ["15:00", "16:00"]

    # The vendor goes down: ada is unknown again (not free, not stale-busy), 1-of-2 falls back to bob.
    google.set_down(True)
    try:
        r = await tenant.http.post("/v1/scheduling/calendars/refresh", json={"interviewer_ids": ["ada"]})
        (result,) = r.json()["results"]
        assert result["status"] == "unknown" and "google" in result["reason"]
    finally:
        google.set_down(False)
    got = await slots(tenant, [{"interviewer_ids": ["ada", "bob"]}], *window, step_minutes=60)
    assert got["slots"] == [] and got["unknown_interviewer_ids"] == ["ada"]
    one = await slots(tenant, [{"interviewer_ids": ["ada", "bob"], "k": 1}], *window, step_minutes=60)
    assert len(one["slots"]) == 8 and all(s["interviewer_ids"] == ["bob"] for s in one["slots"])
    listed = (await tenant.http.get("/v1/interviewers")).json()["items"]
    assert {i["id"] for i in listed} == {"ada", "bob"}
    # The older interviewers endpoint does not know calendar sources: it cannot wipe them.
    r = await tenant.http.post(
        "/v1/interviewers",
        json={"id": "ada", "email": "ada@acme.test", "time_zone": "UTC", "working_hours": WEEKDAYS_9_TO_5},
    )
    assert r.status_code == 200
    got = await slots(tenant, [{"interviewer_ids": ["ada", "bob"]}], *window, step_minutes=60)
    assert got["unknown_interviewer_ids"] == ["ada"]


async def test_every_calendar_source_kind_feeds_availability(tenant: Tenant) -> None:
    from interloop_fakes.calendars import FakeCalDav, FakeGraphCalendar, FakeIcsFeed

    today = datetime.now(UTC).date()
    day = today + timedelta(days=3)
    window = (f"{day}T00:00:00Z", f"{day + timedelta(days=1)}T00:00:00Z")
    hours = [{"weekday": d, "start": "09:00", "end": "13:00"} for d in range(1, 8)]
    with FakeIcsFeed() as feed, FakeGraphCalendar() as graph, FakeCalDav() as dav:
        feed.add_busy("ivy", utc(f"{day}T09:00:00Z"), utc(f"{day}T10:00:00Z"))
        graph.add_busy("gus@contoso.test", utc(f"{day}T10:00:00Z"), utc(f"{day}T11:00:00Z"))
        dav.add_busy("cleo", utc(f"{day}T11:00:00Z"), utc(f"{day}T12:00:00Z"))
        await tenant.put_interviewer(
            "ivy", working_hours=hours, calendar={"kind": "ics", "url": feed.url("ivy")}
        )
        await tenant.put_interviewer(
            "gus",
            working_hours=hours,
            calendar={
                "kind": "graph",
                "calendar_id": "gus@contoso.test",
                "url": f"{graph.base_url}/v1.0",
                "credential": "graph-test-token",
                "user": "coord@contoso.test",
            },
        )
        await tenant.put_interviewer(
            "cleo",
            working_hours=hours,
            calendar={
                "kind": "caldav",
                "calendar_id": "cleo",
                "url": dav.base_url,
                "user": "caldav-user",
                "credential": "caldav-pass",
            },
        )
        r = await tenant.http.post("/v1/scheduling/calendars/refresh", json={})
        results = {x["interviewer_id"]: (x["status"], x["busy_blocks"]) for x in r.json()["results"]}
        assert results == {"ivy": ("known", 1), "gus": ("known", 1), "cleo": ("known", 1)}
    got = await slots(tenant, [{"interviewer_ids": ["ivy", "gus", "cleo"]}], *window, step_minutes=60)
    assert [s["start"][11:16] for s in got["slots"]] == ["12:00"]
    anyone = await slots(
        tenant, [{"interviewer_ids": ["ivy", "gus", "cleo"], "k": 2}], *window, step_minutes=60
    )
    assert [(s["start"][11:16], s["interviewer_ids"]) for s in anyone["slots"]] == [
        ("09:00", ["cleo", "gus"]),
        ("10:00", ["cleo", "ivy"]),
        ("11:00", ["gus", "ivy"]),
        ("12:00", ["cleo", "gus", "ivy"]),
    ]
