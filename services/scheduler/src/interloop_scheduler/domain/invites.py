"""Calendar invites for bookings: iCalendar (RFC 5545/5546) METHOD:REQUEST and METHOD:CANCEL built with
the icalendar library. The UID is stable per booking so a reschedule (SEQUENCE + 1) or cancel updates the
event already in the attendee's calendar instead of adding a new one; times are written in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import icalendar

from .model import SchedulingError, require_aware

PRODID = "-//Interloop//Scheduler//EN"


@dataclass(frozen=True, slots=True)
class Party:
    email: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Invite:
    booking_id: str
    sequence: int  # 0 when first sent; the booking's sequence after each reschedule
    start: datetime
    end: datetime
    summary: str
    organizer: Party
    attendees: tuple[Party, ...]
    description: str = ""
    location: str = ""
    optional: tuple[Party, ...] = ()  # e.g. shadow trainees


def booking_uid(booking_id: str, domain: str = "interloop") -> str:
    """The same booking always gets the same UID."""
    return f"{booking_id}@{domain}"


def _address(party: Party, role: str | None = None, rsvp: bool = False) -> icalendar.vCalAddress:
    if not party.email or "@" not in party.email:
        raise SchedulingError("email", f"{party.email!r} is not an email address")
    addr = icalendar.vCalAddress(f"mailto:{party.email}")
    if party.name:
        addr.params["CN"] = party.name
    if role:
        addr.params["ROLE"] = role
        addr.params["PARTSTAT"] = "NEEDS-ACTION"
        addr.params["RSVP"] = "TRUE" if rsvp else "FALSE"
    return addr


def _build(invite: Invite, method: str, stamp: datetime) -> bytes:
    require_aware(invite.start, "start")
    require_aware(invite.end, "end")
    require_aware(stamp, "now")
    if invite.end <= invite.start:
        raise SchedulingError("end", "must be after start")
    if invite.sequence < 0:
        raise SchedulingError("sequence", "must be >= 0")
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", booking_uid(invite.booking_id))
    event.add("sequence", invite.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", invite.start.astimezone(UTC))
    event.add("dtend", invite.end.astimezone(UTC))
    event.add("summary", invite.summary)
    if invite.description:
        event.add("description", invite.description)
    if invite.location:
        event.add("location", invite.location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(invite.organizer))
    for party in invite.attendees:
        event.add("attendee", _address(party, "REQ-PARTICIPANT", rsvp=True))
    for party in invite.optional:
        event.add("attendee", _address(party, "OPT-PARTICIPANT"))
    cal.add_component(event)
    return cal.to_ical()


def request_ics(invite: Invite, now: datetime) -> bytes:
    """METHOD:REQUEST: a new invite, or an update of the same UID with a higher SEQUENCE."""
    return _build(invite, "REQUEST", now)


def cancel_ics(invite: Invite, now: datetime) -> bytes:
    """METHOD:CANCEL for the booking's UID; pass the booking's sequence after cancelling (one higher)."""
    return _build(invite, "CANCEL", now)
