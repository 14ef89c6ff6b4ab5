"""Plain data the scheduler reasons about: interviewers with their zone, working hours, overrides,
out-of-office, caps and training; bookings and holds; and ``Unknown`` for a calendar we could not read.
All instants are aware datetimes; zones are IANA names."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum


class SchedulingError(ValueError):
    """Bad input to the scheduler: names the field that was wrong and what would be right."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Stage(StrEnum):
    """Where an interviewer is in training for an interview type."""

    SHADOW = "shadow"  # watches a trained interviewer
    REVERSE_SHADOW = "reverse_shadow"  # leads while a trained interviewer watches
    TRAINED = "trained"


@dataclass(frozen=True, slots=True)
class Unknown:
    """A calendar whose busy times could not be read (source failed, auth error, malformed answer).
    Never treated as free."""

    reason: str


Window = tuple[time, time]  # local wall-clock start, end; end == time(0) means midnight at the day's end
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def zone(name: str, field_name: str = "zone") -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SchedulingError(field_name, f"unknown IANA time zone {name!r} (e.g. 'Europe/London')") from None


def require_aware(moment: datetime, field_name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise SchedulingError(field_name, "must be a timezone-aware datetime")
    return moment


@dataclass(frozen=True, slots=True)
class Interviewer:
    id: str
    zone: str
    # weekday (0 = Monday) -> local windows; a weekday not listed is a day off
    working_hours: Mapping[int, tuple[Window, ...]] = field(default_factory=dict)
    # a local date -> its windows instead of the weekday's (empty tuple = day off)
    overrides: Mapping[date, tuple[Window, ...]] = field(default_factory=dict)
    out_of_office: tuple[tuple[datetime, datetime], ...] = ()
    daily_cap: int | None = None  # interviews per local day; None = no cap
    weekly_cap: int | None = None  # interviews per local ISO week
    training: Mapping[str, Stage] = field(default_factory=dict)  # interview type -> stage
    email: str = ""
    name: str = ""

    def stage_for(self, interview_type: str) -> Stage | None:
        return self.training.get(interview_type)


def weekday_hours(
    start: time, end: time, weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
) -> dict[int, tuple[Window, ...]]:
    """The common case: the same window on each of ``weekdays``."""
    return {d: ((start, end),) for d in weekdays}


@dataclass(frozen=True, slots=True)
class Booking:
    """An interview already booked through Interloop; it blocks its own buffers too."""

    id: str
    interviewer_ids: tuple[str, ...]
    start: datetime
    end: datetime
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class Hold:
    """Time tentatively reserved for one scheduling request (``key``): busy for every other request."""

    id: str
    key: str
    interviewer_ids: tuple[str, ...]
    start: datetime
    end: datetime
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
