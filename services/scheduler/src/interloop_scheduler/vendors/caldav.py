"""CalDAV: free-busy-query (busy times) and calendar object resources (the events we write).

free-busy-query (RFC 4791 §7.10): REPORT on each calendar collection with a time-range; the answer is a
text/calendar VFREEBUSY whose FREEBUSY periods block unless FBTYPE=FREE.

Events (RFC 4791 §5.3.2 and RFC 7232 conditional requests; the vendor contracts do not cover CalDAV, so
this follows the RFCs, UNCONFIRMED against any one server): PUT {collection}{uid}.ics with
``If-None-Match: *`` to create (412: it is already there), ``If-Match: <etag>`` to update (412: changed
by someone else, so its current ETag is read with GET and the PUT repeated once), DELETE to remove (404:
already gone). A server may answer a PUT without an ETag; the next update then reads it first."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import icalendar

from interloop_scheduler.domain.calendar_events import CalendarEvent, Written
from interloop_scheduler.domain.ics import CalendarParseError
from interloop_scheduler.domain.invites import PRODID
from interloop_scheduler.domain.model import Unknown

from ._http import RetryPolicy, SourceError, send
from ._ics_parser import IcsParser
from ._writes import refused, unanswered

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


def event_ics(event: CalendarEvent, stamp: datetime) -> bytes:
    """One VEVENT whose UID is our event id (RFC 4791 §4.1: one UID per calendar object resource)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    vevent = icalendar.Event()
    vevent.add("uid", event.event_id)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("dtstart", event.start.astimezone(UTC))
    vevent.add("dtend", event.end.astimezone(UTC))
    vevent.add("summary", event.summary)
    if event.description:
        vevent.add("description", event.description)
    vevent.add("status", "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    cal.add_component(vevent)
    return cal.to_ical()


class CalDavEvents:
    """Writes our events as calendar object resources; ``path`` as in ``CalDavSource``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        path: str = "/calendars/{id}/",
        auth: httpx.Auth | tuple[str, str] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        now: Any = None,
    ) -> None:
        self.client, self.base_url, self.path = client, base_url.rstrip("/"), path
        self.auth, self.retry = auth, retry
        self.now = now or (lambda: datetime.now(UTC))

    def _url(self, event: CalendarEvent) -> str:
        collection = self.base_url + self.path.format(id=quote(event.calendar_id, safe="@"))
        return f"{collection.rstrip('/')}/{event.event_id}.ics"

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        auth = self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT
        try:
            return await send("caldav", self.client, method, url, self.retry, auth=auth, **kwargs)
        except SourceError as exc:
            raise unanswered(exc) from None

    async def _put(self, event: CalendarEvent, condition: dict[str, str]) -> httpx.Response:
        headers = {"Content-Type": "text/calendar; charset=utf-8", **condition}
        return await self._send(
            "PUT", self._url(event), content=event_ics(event, self.now()), headers=headers
        )

    async def _current_etag(self, event: CalendarEvent) -> str:
        response = await self._send("GET", self._url(event))
        if response.status_code != 200:
            raise refused("caldav", response, "")
        return response.headers.get("etag", "")

    def _written(self, response: httpx.Response, event: CalendarEvent) -> Written:
        return Written(vendor_event_id=event.event_id, etag=response.headers.get("etag", ""))

    async def upsert(self, event: CalendarEvent, written: Written | None) -> Written:
        if written is None or not written.vendor_event_id:
            response = await self._put(event, {"If-None-Match": "*"})
            if response.status_code in (200, 201, 204):
                return self._written(response, event)
            if response.status_code != 412:
                raise refused("caldav", response, "")
            # 412: our UID is already there (a retried create): update it like any other
            written = Written(vendor_event_id=event.event_id)
        etag = written.etag or await self._current_etag(event)
        for last in (False, True):
            response = await self._put(event, {"If-Match": etag})
            if response.status_code in (200, 201, 204):
                return self._written(response, event)
            if response.status_code != 412 or last:
                raise refused("caldav", response, "")
            etag = await self._current_etag(event)  # changed since we wrote it: ours wins, once
        raise AssertionError("unreachable")

    async def delete(self, event: CalendarEvent, written: Written | None) -> None:
        response = await self._send("DELETE", self._url(event))
        if response.status_code in (200, 204, 404):
            return
        raise refused("caldav", response, "")
