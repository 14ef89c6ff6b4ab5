"""ICS invites (REQUEST/CANCEL, stable UID, SEQUENCE), booking policy and signed scheduling-link tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from interloop_scheduler.domain.invites import Invite, Party, booking_uid, cancel_ics, request_ics
from interloop_scheduler.domain.links import InvalidLink, issue_link_token, verify_link_token
from interloop_scheduler.domain.policy import BookingPolicy, BookingState, PolicyViolation, cancel, reschedule

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
KEY = b"k" * 32


def invite(seq: int = 0, start: datetime = datetime(2026, 3, 9, 9, tzinfo=NY)) -> Invite:
    return Invite(
        "b-42",
        seq,
        start,
        start + timedelta(hours=1),
        "Interview: Ada Lovelace",
        Party("coord@acme.example", "Coordinator"),
        (Party("ada@example.com", "Ada"), Party("grace@acme.example")),
        optional=(Party("trainee@acme.example"),),
        location="Zoom",
    )


def event_of(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    return cal, cal.walk("VEVENT")[0]


def test_request_has_stable_uid_utc_times_and_attendees() -> None:
    cal, ev = event_of(request_ics(invite(), NOW))
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(ev["UID"]) == booking_uid("b-42") == "b-42@interloop"
    assert ev["SEQUENCE"] == 0
    assert ev.decoded("DTSTART") == datetime(2026, 3, 9, 13, tzinfo=UTC)  # 09:00 EDT
    assert b"DTSTART:20260309T130000Z" in request_ics(invite(), NOW)
    assert str(ev["ORGANIZER"]) == "mailto:coord@acme.example"
    attendees = [str(a) for a in ev["ATTENDEE"]]
    assert attendees == ["mailto:ada@example.com", "mailto:grace@acme.example", "mailto:trainee@acme.example"]
    assert ev["ATTENDEE"][2].params["ROLE"] == "OPT-PARTICIPANT"


def test_reschedule_bumps_sequence_and_cancel_keeps_uid() -> None:
    state = BookingState("b-42", invite().start, invite().end)
    moved = reschedule(
        state, state.start + timedelta(days=1), state.end + timedelta(days=1), BookingPolicy(), NOW
    )
    assert (moved.sequence, moved.reschedules) == (1, 1)
    _, ev = event_of(request_ics(invite(moved.sequence, moved.start), NOW))
    assert ev["SEQUENCE"] == 1 and str(ev["UID"]) == "b-42@interloop"
    gone = cancel(moved, BookingPolicy(), NOW)
    cal, ev = event_of(cancel_ics(invite(gone.sequence, gone.start), NOW))
    assert str(cal["METHOD"]) == "CANCEL" and ev["SEQUENCE"] == 2 and str(ev["STATUS"]) == "CANCELLED"
    assert str(ev["UID"]) == "b-42@interloop"


def test_reschedule_limit_and_cutoff() -> None:
    policy = BookingPolicy(max_reschedules=1, reschedule_cutoff=timedelta(hours=24))
    state = BookingState("b", datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC))
    with pytest.raises(PolicyViolation) as err:  # 21 hours before the start
        reschedule(state, state.start + timedelta(days=2), state.end + timedelta(days=2), policy, NOW)
    assert err.value.field == "start"
    early = NOW - timedelta(days=1)
    once = reschedule(state, state.start + timedelta(days=2), state.end + timedelta(days=2), policy, early)
    with pytest.raises(PolicyViolation) as err:
        reschedule(once, once.start + timedelta(days=1), once.end + timedelta(days=1), policy, early)
    assert err.value.field == "reschedules"
    with pytest.raises(PolicyViolation):
        cancel(cancel(state, policy, NOW), policy, NOW)


def test_link_tokens_verify_expire_and_reject_tampering() -> None:
    token = issue_link_token({"link_id": "L1", "tenant": "acme"}, KEY, NOW + timedelta(days=7))
    assert verify_link_token(token, KEY, NOW) == {"link_id": "L1", "tenant": "acme"}
    with pytest.raises(InvalidLink) as err:
        verify_link_token(token, KEY, NOW + timedelta(days=7))
    assert err.value.field == "expires_at"
    body, _, sig = token.partition(".")
    forged = issue_link_token({"link_id": "L2", "tenant": "acme"}, KEY, NOW + timedelta(days=7)).split(".")[0]
    for bad in (f"{forged}.{sig}", f"{body}.{sig[:-2]}AA", "garbage", f"{body}."):
        with pytest.raises(InvalidLink):
            verify_link_token(bad, KEY, NOW)
    with pytest.raises(InvalidLink):
        verify_link_token(token, b"x" * 32, NOW)
