"""Bounded recurrence expansion: sub-minute rules refused before anything is expanded, the steps walked
from each DTSTART estimated and capped, occurrences capped per event and per calendar; refusals carry a
fixed reason and never the calendar's text; the child-process parser reports codes only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from interloop_scheduler.domain import ics
from interloop_scheduler.domain.ics import CalendarParseError, ExpansionLimits, busy_from_ics, parse_calendar
from interloop_scheduler.vendors import IcsParser, ParseLimits

START = datetime(2026, 3, 2, tzinfo=UTC)
UTCZ = ZoneInfo("UTC")


def event(uid: str, *lines: str) -> str:
    return (
        "BEGIN:VEVENT\r\n"
        + f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
        + "".join(f"{line}\r\n" for line in lines)
        + "END:VEVENT\r\n"
    )


def calendar(*events: str) -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + "".join(events) + "END:VCALENDAR\r\n"


def recurring(rule: str, dtstart: str = "20260301T090000Z", uid: str = "r") -> str:
    return event(uid, f"DTSTART:{dtstart}", "DURATION:PT30M", f"RRULE:{rule}")


@pytest.fixture
def expansions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the calls into the recurrence engine."""
    calls: list[int] = []
    real = ics.recurring_ical_events.of

    def counting(cal, *a, **k):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(cal, *a, **k)

    monkeypatch.setattr(ics.recurring_ical_events, "of", counting)
    return calls


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=SECONDLY",
        "FREQ=SECONDLY;INTERVAL=3600",
        "FREQ=MINUTELY",
        "FREQ=MINUTELY;INTERVAL=4",
        "FREQ=HOURLY;BYSECOND=0,30",
    ],
)
def test_sub_minute_and_minute_by_minute_rules_are_refused_before_any_expansion(
    rule: str, expansions: list[int]
) -> None:
    with pytest.raises(CalendarParseError) as caught:
        busy_from_ics(calendar(recurring(rule)), START, START + timedelta(days=29), UTCZ)
    assert caught.value.reason == "recurrence_too_frequent" and expansions == []


def test_steps_are_counted_from_dtstart_to_the_window_end() -> None:
    until = datetime(2026, 3, 31, 9)

    def steps(rule: str, dtstart: str = "20260301T090000Z") -> int:
        return ics.recurrence_steps(
            parse_calendar(calendar(recurring(rule, dtstart))), until, ExpansionLimits()
        )

    assert steps("FREQ=DAILY") == 31  # 1 March .. 31 March
    assert steps("FREQ=DAILY;COUNT=3") == 3
    assert steps("FREQ=DAILY;UNTIL=20260310T090000Z") == 10
    assert steps("FREQ=MINUTELY;INTERVAL=15", "20260330T090000Z") == 24 * 4 + 1
    assert steps("FREQ=WEEKLY;BYDAY=MO,WE") == 5 * 7  # an upper bound: 5 weeks of at most 7 days
    assert steps("FREQ=DAILY", "20260401T090000Z") == 1  # starts after the window
    assert steps("FREQ=DAILY", "19260331T090000Z") == 36525 + 1  # a century of walking to reach today


def test_a_rule_walking_from_antiquity_is_refused_before_expansion(expansions: list[int]) -> None:
    with pytest.raises(CalendarParseError) as caught:
        busy_from_ics(
            calendar(recurring("FREQ=DAILY", "00010101T090000Z")), START, START + timedelta(1), UTCZ
        )
    assert caught.value.reason == "recurrence_too_large" and expansions == []


def test_occurrences_are_capped_per_event_and_per_calendar() -> None:
    window = (START, START + timedelta(days=2))
    every_15 = calendar(recurring("FREQ=MINUTELY;INTERVAL=15", "20260302T000000Z"))  # 192 in two days
    busy = busy_from_ics(every_15, *window, UTCZ, ExpansionLimits(max_occurrences_per_event=400))
    assert busy == [window]  # back-to-back half hours merge into the whole window
    with pytest.raises(CalendarParseError) as per_event:
        busy_from_ics(every_15, *window, UTCZ, ExpansionLimits(max_occurrences_per_event=100))
    singles = calendar(
        *(event(f"s{i}", f"DTSTART:20260302T1{i}0000Z", f"DTEND:20260302T1{i}3000Z") for i in range(10))
    )
    assert len(busy_from_ics(singles, *window, UTCZ, ExpansionLimits(max_occurrences=10))) == 10
    with pytest.raises(CalendarParseError) as per_calendar:
        busy_from_ics(singles, *window, UTCZ, ExpansionLimits(max_occurrences=9))
    assert per_event.value.reason == per_calendar.value.reason == "too_many_occurrences"


def test_a_refusal_reason_never_quotes_the_text() -> None:
    secret = "ASIA-SECRET-do-not-echo"
    for text in (secret, calendar(event("e", f"DTSTART:{secret}")), calendar(recurring(f"FREQ={secret}"))):
        with pytest.raises(CalendarParseError) as caught:
            busy_from_ics(text, START, START + timedelta(1), UTCZ)
        assert caught.value.reason.startswith("invalid_") and secret not in caught.value.reason


async def test_the_child_process_parser_answers_busy_or_a_code() -> None:
    parser = IcsParser(ParseLimits(seconds=30))
    plain = calendar(event("m", "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z"))
    got = await parser.busy(plain.encode(), START, START + timedelta(1), UTCZ)
    assert got == [(datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC))]
    with pytest.raises(CalendarParseError) as bomb:
        await parser.busy(calendar(recurring("FREQ=SECONDLY")).encode(), START, START + timedelta(29), UTCZ)
    assert bomb.value.reason == "recurrence_too_frequent" and str(bomb.value) == "recurrence_too_frequent"
    small = IcsParser(ParseLimits(memory_bytes=64 * 1024 * 1024))
    huge = calendar(event("h", "DTSTART:20260302T090000Z", "X-FILL:" + "a" * (48 * 1024 * 1024)))
    with pytest.raises(CalendarParseError) as memory:
        await small.busy(huge.encode(), START, START + timedelta(1), UTCZ)
    assert memory.value.reason in ("parse_memory", "parse_failed", "invalid_calendar")
