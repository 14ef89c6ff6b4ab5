"""Our calendar event ids and the backoff of failed calendar writes (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from interloop_scheduler.domain.calendar_events import CalendarEvent, event_id, retry_delay
from interloop_scheduler.domain.model import SchedulingError


def test_event_ids_are_stable_base32hex_per_booking_and_interviewer() -> None:
    booking = str(uuid.uuid4())
    first = event_id(booking, "ada")
    assert first == event_id(booking, "ada")
    assert first != event_id(booking, "bob") and first != event_id(str(uuid.uuid4()), "ada")
    # Google: base32hex (0-9, a-v), 5 to 1024 characters
    assert len(first) == 32 and set(first) <= set("0123456789abcdefghijklmnopqrstuv")


def test_retry_delay_doubles_up_to_the_cap() -> None:
    base, cap = timedelta(seconds=10), timedelta(minutes=5)
    got = [retry_delay(n, base, cap).total_seconds() for n in range(1, 8)]
    assert got == [10, 20, 40, 80, 160, 300, 300]
    assert retry_delay(10_000, base, cap) == cap  # no overflow on a long outage


def test_calendar_event_needs_zoned_times() -> None:
    with pytest.raises(SchedulingError):
        CalendarEvent("abcde", "cal", datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 10, tzinfo=UTC), "x")
