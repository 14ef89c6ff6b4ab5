"""CalDAV free-busy-query (RFC 4791 §7.10): REPORT on each calendar collection with a time-range; the
answer is a text/calendar VFREEBUSY whose FREEBUSY periods block unless FBTYPE=FREE."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from interloop_scheduler.domain.ics import CalendarParseError
from interloop_scheduler.domain.model import Unknown

from ._http import RetryPolicy, SourceError, send
from ._ics_parser import IcsParser

_QUERY = """<?xml version="1.0" encoding="utf-8" ?>
<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">
  <C:time-range start="{start}" end="{end}"/>
</C:free-busy-query>
"""


def _caldav_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class CalDavSource:
    """``path`` is a template for each calendar collection, e.g. '/calendars/{id}/'."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        path: str = "/calendars/{id}/",
        auth: httpx.Auth | tuple[str, str] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        parser: IcsParser | None = None,
    ) -> None:
        self.client, self.base_url, self.path = client, base_url.rstrip("/"), path
        self.auth, self.retry = auth, retry
        self.parser = parser or IcsParser()  # the answer is iCalendar text: bounded like a feed

    async def busy(
        self, ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | Unknown]:
        unique = list(dict.fromkeys(ids))
        results = await asyncio.gather(*(self._one(i, start, end) for i in unique))
        return dict(zip(unique, results, strict=True))

    async def _one(
        self, cid: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]] | Unknown:
        url = self.base_url + self.path.format(id=cid)
        body = _QUERY.format(start=_caldav_time(start), end=_caldav_time(end))
        headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
        auth = self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT

        try:
            response = await send(
                "caldav",
                self.client,
                "REPORT",
                url,
                self.retry,
                content=body.encode(),
                headers=headers,
                auth=auth,
            )
        except SourceError as exc:
            return Unknown(exc.reason)
        if response.status_code != 200:
            return Unknown(f"caldav: HTTP {response.status_code}")
        if "text/calendar" not in response.headers.get("content-type", ""):
            return Unknown("caldav: answer is not text/calendar")
        try:
            return await self.parser.busy(response.content, start, end, UTC)
        except CalendarParseError as exc:
            return Unknown(f"caldav: {exc.reason}")
