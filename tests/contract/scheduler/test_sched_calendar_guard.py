"""Calendar URLs are the tenant's to choose: every calendar read passes the outbound guard and bounded
parsing. Against the local fakes (on loopback) and a metadata-shaped address: refused unless loopback is
opened explicitly, nothing of a feed ever echoed in a reason, the RRULE bomb refused while the event loop
keeps serving others, and a feed that makes the parser spin cut off by the child's time limit."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from interloop_common import vendor_http
from interloop_fakes.calendars import FakeCalDav, FakeGoogleCalendar, FakeGraphCalendar, FakeIcsFeed
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store.interviewers import InterviewerRow
from interloop_scheduler.usecases.calendars import outbound_policies, parse_limits, read_calendars
from interloop_scheduler.vendors import IcsFeedSource, IcsParser, ParseLimits, RetryPolicy, Unknown

START = datetime(2026, 3, 2, tzinfo=UTC)
END = START + timedelta(days=7)
SECRET = "ASIA-METADATA-SECRET-do-not-echo"
OPEN = SchedulerSettings(outbound_allow_networks="127.0.0.0/8", calendar_http_attempts=1)
CLOSED = SchedulerSettings(calendar_http_attempts=1)
ONCE = RetryPolicy(attempts=1)
# 159 bytes: one event repeating every second
BOMB = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:b\r\n"
    "DTSTART:20260301T000000Z\r\nDTEND:20260301T000001Z\r\nRRULE:FREQ=SECONDLY\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)
# never matches (no 30 February), so the recurrence engine walks on towards year 9999 without yielding
SPIN = BOMB.replace("FREQ=SECONDLY", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def feeds() -> Iterator[FakeIcsFeed]:
    with FakeIcsFeed() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _reset(feeds: FakeIcsFeed) -> None:
    with feeds.lock:
        feeds.calendars.clear()
        feeds.raw.clear()
        feeds.requests.clear()


def row(iid: str, **calendar: str) -> InterviewerRow:
    return InterviewerRow(
        id=iid,
        email=f"{iid}@acme.test",
        display_name=iid,
        time_zone="UTC",
        working_hours=[],
        daily_cap=0,
        weekly_cap=0,
        calendar=calendar,
    )


def assert_no_echo(got: dict) -> None:
    for value in got.values():
        if isinstance(value, Unknown):
            assert SECRET not in value.reason and "BEGIN" not in value.reason


async def test_every_kind_reaches_loopback_only_when_it_is_opened_explicitly(feeds: FakeIcsFeed) -> None:
    feeds.add_busy("ivy", at(2, 9), at(2, 10))
    with FakeGoogleCalendar() as google, FakeGraphCalendar() as graph, FakeCalDav() as dav:
        google.add_busy("gia@acme.test", at(2, 10), at(2, 11))
        graph.add_busy("gus@contoso.test", at(2, 11), at(2, 12))
        dav.add_busy("cleo", at(2, 12), at(2, 13))
        rows = [
            ("acme", row("ivy", kind="ics", url=feeds.url("ivy"))),
            (
                "acme",
                row(
                    "gia",
                    kind="google",
                    calendar_id="gia@acme.test",
                    url=f"{google.base_url}/calendar/v3",
                    credential="google-test-token",
                ),
            ),
            (
                "acme",
                row(
                    "gus",
                    kind="graph",
                    calendar_id="gus@contoso.test",
                    url=f"{graph.base_url}/v1.0",
                    credential="graph-test-token",
                    user="coord@contoso.test",
                ),
            ),
            (
                "acme",
                row(
                    "cleo",
                    kind="caldav",
                    calendar_id="cleo",
                    url=dav.base_url,
                    user="caldav-user",
                    credential="caldav-pass",
                ),
            ),
        ]
        closed = await read_calendars(rows, START, END, CLOSED)
        reached = len(feeds.requests) + len(google.requests) + len(graph.requests) + len(dav.requests)
        opened = await read_calendars(rows, START, END, OPEN)
    assert closed == {
        ("acme", "ivy"): Unknown("ics: destination_not_allowed"),
        ("acme", "gia"): Unknown("google: host_not_allowed"),  # pinned to googleapis.com
        ("acme", "gus"): Unknown("graph: host_not_allowed"),
        ("acme", "cleo"): Unknown("caldav: destination_not_allowed"),
    }
    assert reached == 0
    assert opened == {
        ("acme", "ivy"): [(at(2, 9), at(2, 10))],
        ("acme", "gia"): [(at(2, 10), at(2, 11))],
        ("acme", "gus"): [(at(2, 11), at(2, 12))],
        ("acme", "cleo"): [(at(2, 12), at(2, 13))],
    }


async def test_a_metadata_shaped_feed_url_is_refused_and_nothing_is_echoed(feeds: FakeIcsFeed) -> None:
    async def metadata(host: str, port: int) -> list[str]:
        return ["169.254.169.254"]

    policy = dataclasses.replace(outbound_policies(OPEN)["ics"], resolver=metadata)
    urls = {
        "literal": "http://169.254.169.254/latest/meta-data/iam/security-credentials/role",
        "named": "http://metadata.attacker.test/latest/meta-data/",
        "mapped": "http://[::ffff:169.254.169.254]/latest/meta-data/",
    }
    async with vendor_http.client(guard=policy) as client:
        got = await IcsFeedSource(client, urls, retry=ONCE).busy(list(urls), START, END)
    assert got == dict.fromkeys(urls, Unknown("ics: destination_not_allowed"))


async def test_a_feed_that_is_not_icalendar_is_a_fixed_reason_never_its_text(feeds: FakeIcsFeed) -> None:
    feeds.set_feed("leak", f'{{"AccessKeyId": "{SECRET}", "Token": "{SECRET}"}}')
    feeds.set_feed("half", f"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:{SECRET}\r\nEND:VCALENDAR\r\n")
    urls = {n: feeds.url(n) for n in ("leak", "half")}
    async with vendor_http.client(guard=outbound_policies(OPEN)["ics"]) as client:
        got = await IcsFeedSource(client, urls, retry=ONCE).busy(list(urls), START, END)
    assert got == {"leak": Unknown("ics: invalid_calendar"), "half": Unknown("ics: invalid_calendar")}
    assert_no_echo(got)


async def test_a_feed_over_the_size_cap_is_refused(feeds: FakeIcsFeed) -> None:
    for i in range(60):
        feeds.add_busy("big", at(2, 0) + timedelta(hours=i), at(2, 0) + timedelta(hours=i, minutes=30))
    settings = SchedulerSettings(outbound_allow_networks="127.0.0.1", calendar_max_feed_bytes=4096)
    async with vendor_http.client(guard=outbound_policies(settings)["ics"]) as client:
        source = IcsFeedSource(client, {"big": feeds.url("big")}, retry=ONCE)
        got = await source.busy(["big"], START, END)
    assert got == {"big": Unknown("ics: response_too_large")}


async def _with_ticker(work: asyncio.Future | asyncio.Task) -> tuple[object, int]:  # type: ignore[type-arg]
    """Runs ``work`` while another coroutine ticks on the same loop; (result, ticks seen meanwhile)."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    other = asyncio.create_task(ticker())
    try:
        result = await work
    finally:
        other.cancel()
    return result, ticks


async def test_the_rrule_bomb_is_refused_while_the_loop_keeps_serving(feeds: FakeIcsFeed) -> None:
    assert len(BOMB) == 159
    feeds.set_feed("bomb", BOMB)
    feeds.add_busy("calm", at(2, 9), at(2, 10))
    urls = {n: feeds.url(n) for n in ("bomb", "calm")}
    async with vendor_http.client(guard=outbound_policies(OPEN)["ics"]) as client:
        source = IcsFeedSource(client, urls, retry=ONCE, parser=IcsParser(parse_limits(OPEN)))
        got = await source.busy(["bomb", "calm"], START, START + timedelta(days=29))
    assert got == {"bomb": Unknown("ics: recurrence_too_frequent"), "calm": [(at(2, 9), at(2, 10))]}


async def test_a_spinning_feed_is_cut_off_by_the_time_limit_off_the_loop(feeds: FakeIcsFeed) -> None:
    feeds.set_feed("spin", SPIN)
    parser = IcsParser(ParseLimits(seconds=1.0))
    async with vendor_http.client(guard=outbound_policies(OPEN)["ics"]) as client:
        source = IcsFeedSource(client, {"spin": feeds.url("spin")}, retry=ONCE, parser=parser)
        got, ticks = await _with_ticker(asyncio.ensure_future(source.busy(["spin"], START, END)))
    assert got == {"spin": Unknown("ics: parse_timeout")}
    # the child spun for the whole limit; on the loop the ticker would have been starved
    assert ticks >= 20
