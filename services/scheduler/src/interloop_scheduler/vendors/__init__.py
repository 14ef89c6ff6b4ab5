"""Calendar vendors, one module each behind one protocol (``CalendarSource``): interviewers' busy times
from Google Calendar (freeBusy), Microsoft Graph (getSchedule), ICS feed URLs and CalDAV servers
(free-busy-query), over httpx.AsyncClient.

Every source answers ``await source.busy(ids, start, end) -> {id: [(start, end), ...] | Unknown}``.
A calendar that could not be read (5xx after retries, auth error, malformed answer, per-calendar error)
is ``Unknown(reason)``, never an empty (free) list.

Google, Graph and CalDAV also take the events we write into an interviewer's calendar, behind one
protocol (``EventWriter``): ``upsert`` creates the event (with a Meet / Teams conference where the vendor
has one) or updates it, ``delete`` removes it; both raise ``WriteFailed`` with a fixed reason code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from interloop_scheduler.domain.calendar_events import CalendarEvent, WriteFailed, Written
from interloop_scheduler.domain.model import Unknown

from ._http import RetryPolicy, SourceError
from ._ics_parser import IcsParser, ParseLimits
from .caldav import CalDavEvents, CalDavSource
from .google import GoogleEvents, GoogleFreeBusy
from .graph import GraphEvents, GraphSchedule
from .ics_feed import IcsFeedSource

BusyResult = dict[str, list[tuple[datetime, datetime]] | Unknown]


class CalendarSource(Protocol):
    async def busy(self, ids: Sequence[str], start: datetime, end: datetime) -> BusyResult: ...


class EventWriter(Protocol):
    async def upsert(self, event: CalendarEvent, written: Written | None) -> Written: ...

    async def delete(self, event: CalendarEvent, written: Written | None) -> None: ...


__all__ = [
    "BusyResult",
    "CalDavEvents",
    "CalDavSource",
    "CalendarEvent",
    "CalendarSource",
    "EventWriter",
    "GoogleEvents",
    "GoogleFreeBusy",
    "GraphEvents",
    "GraphSchedule",
    "IcsFeedSource",
    "IcsParser",
    "ParseLimits",
    "RetryPolicy",
    "SourceError",
    "Unknown",
    "WriteFailed",
    "Written",
]
