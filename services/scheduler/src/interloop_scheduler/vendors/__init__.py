"""Calendar vendors, one module each behind one protocol (``CalendarSource``): interviewers' busy times
from Google Calendar (freeBusy), Microsoft Graph (getSchedule), ICS feed URLs and CalDAV servers
(free-busy-query), over httpx.AsyncClient.

Every source answers ``await source.busy(ids, start, end) -> {id: [(start, end), ...] | Unknown}``.
A calendar that could not be read (5xx after retries, auth error, malformed answer, per-calendar error)
is ``Unknown(reason)``, never an empty (free) list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from interloop_scheduler.domain.model import Unknown

from ._http import RetryPolicy, SourceError
from ._ics_parser import IcsParser, ParseLimits
from .caldav import CalDavSource
from .google import GoogleFreeBusy
from .graph import GraphSchedule
from .ics_feed import IcsFeedSource

BusyResult = dict[str, list[tuple[datetime, datetime]] | Unknown]


class CalendarSource(Protocol):
    async def busy(self, ids: Sequence[str], start: datetime, end: datetime) -> BusyResult: ...


__all__ = [
    "BusyResult",
    "CalDavSource",
    "CalendarSource",
    "GoogleFreeBusy",
    "GraphSchedule",
    "IcsFeedSource",
    "IcsParser",
    "ParseLimits",
    "RetryPolicy",
    "SourceError",
    "Unknown",
]
