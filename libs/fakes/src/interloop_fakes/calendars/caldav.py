"""Fake CalDAV server answering the free-busy-query REPORT (RFC 4791 §7.10) on /calendars/{id}/ with a
text/calendar VFREEBUSY (FREEBUSY periods with FBTYPE). Basic auth (401 + WWW-Authenticate), 400 for
a body without a time-range, 404 for unknown collections, 405 for other methods. Litestar routes only
standard methods, so a thin ASGI shim hands REPORT to the app as POST with a marker header."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - parses test requests from our own client only
from datetime import UTC, datetime
from typing import Any

import icalendar
from litestar import Request, Response, post

from ..ats._server import basic_credentials
from ._common import FakeCalendarVendor

CALDAV_NS = "urn:ietf:params:xml:ns:caldav"
_FBTYPE = {"busy": "BUSY", "tentative": "BUSY-TENTATIVE", "oof": "BUSY-UNAVAILABLE", "free": "FREE"}


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(content=message.encode(), status_code=status, media_type="text/plain", headers=headers)


class FakeCalDav(FakeCalendarVendor):
    provider = "caldav"

    def __init__(self, username: str = "caldav-user", password: str = "caldav-pass") -> None:  # noqa: S107
        super().__init__()
        self.username, self.password = username, password

    def check_auth(self, request: Request) -> Response | None:
        if basic_credentials(request) != (self.username, self.password):
            return _text(401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="fake caldav"'})
        return None

    def throttle_response(self, retry_after: float | None) -> Response:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        return _text(429, "Too Many Requests", headers)

    def failure_response(self, status: int) -> Response:
        return _text(status, "Service Unavailable")

    def app(self) -> Any:
        inner = super().app()

        async def asgi(scope: dict, receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and scope.get("method") == "REPORT":
                scope = {
                    **scope,
                    "method": "POST",
                    "headers": [*scope["headers"], (b"x-dav-method", b"REPORT")],
                }
            await inner(scope, receive, send)

        return asgi

    def render(self, calendar_id: str, start: datetime, end: datetime) -> bytes:
        cal = icalendar.Calendar()
        cal.add("prodid", "-//Interloop//Fake CalDAV//EN")
        cal.add("version", "2.0")
        fb = icalendar.FreeBusy()
        fb.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
        fb.add("dtstart", start)
        fb.add("dtend", end)
        for block in self.blocks(calendar_id, start, end):
            prop = icalendar.vPeriod((max(block.start, start), min(block.end, end)))
            prop.params["FBTYPE"] = _FBTYPE.get(block.status, "BUSY")
            fb.add("freebusy", prop, encode=False)
        cal.add_component(fb)
        return cal.to_ical()

    def routes(self) -> list[Any]:
        fake = self

        @post("/calendars/{calendar_id:str}", status_code=200)
        async def report(request: Request, calendar_id: str) -> Response:
            if request.headers.get("x-dav-method") != "REPORT":
                return _text(405, "Method Not Allowed", {"Allow": "OPTIONS, GET, PROPFIND, REPORT"})
            broken = fake.take_malformed()
            if broken is not None:
                return broken
            cid = calendar_id.strip("/")
            if cid not in fake.calendars:
                return _text(404, "Not Found")
            try:
                root = ET.fromstring(await request.body())  # noqa: S314
            except ET.ParseError:
                return _text(400, "Bad Request: body is not XML")
            if root.tag != f"{{{CALDAV_NS}}}free-busy-query":
                return _text(403, "Forbidden: only free-busy-query REPORT is supported")
            rng = root.find(f"{{{CALDAV_NS}}}time-range")
            start = _time(rng.get("start")) if rng is not None else None
            end = _time(rng.get("end")) if rng is not None else None
            if start is None or end is None or end <= start:
                return _text(400, "Bad Request: free-busy-query needs a valid time-range")
            return Response(
                content=fake.render(cid, start, end),
                status_code=200,
                media_type="text/calendar; charset=utf-8",
            )

        return [report]
