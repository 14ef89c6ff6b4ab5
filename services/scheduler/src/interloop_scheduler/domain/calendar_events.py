"""Events we write into interviewers' own calendars: our stable event id, what the event says, and how
long a failed write waits before it is tried again. Pure: no I/O."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import require_aware

WRITABLE_KINDS = frozenset({"google", "graph", "caldav"})


def event_id(booking_id: str, interviewer_id: str) -> str:
    """The same (booking, interviewer) always gets the same id: 32 characters of base32hex (0-9, a-v),
    which Google accepts as a client-chosen event id and CalDAV as a UID. One id per calendar, not per
    booking: a vendor copying an invited attendee's event into their calendar never collides with ours."""
    digest = hashlib.sha256(f"{booking_id}/{interviewer_id}".encode()).digest()[:20]
    return base64.b32hexencode(digest).decode().lower()


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """What one interviewer's calendar should show for a booking."""

    event_id: str
    calendar_id: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    sequence: int = 0

    def __post_init__(self) -> None:
        require_aware(self.start, "start")
        require_aware(self.end, "end")


@dataclass(frozen=True, slots=True)
class Written:
    """What the vendor told us about the event we wrote."""

    vendor_event_id: str = ""
    etag: str = ""
    conference_url: str = ""


class WriteFailed(Exception):
    """A write the vendor did not take; ``reason`` is a fixed code, never text from the answer.
    ``permanent`` (401/403, a refused request): trying again cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason, self.permanent = reason, permanent


def retry_delay(attempts: int, base: timedelta, cap: timedelta) -> timedelta:
    """``base`` after the first failed attempt, doubling after each further one, never above ``cap``."""
    return min(base * 2 ** min(max(attempts - 1, 0), 30), cap)
