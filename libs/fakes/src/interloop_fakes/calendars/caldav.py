"""Fake CalDAV server answering the free-busy-query REPORT (RFC 4791 §7.10) on /calendars/{id}/ with a
text/calendar VFREEBUSY (FREEBUSY periods with FBTYPE). Basic auth (401 + WWW-Authenticate), 400 for
a body without a time-range, 404 for unknown collections, 405 for other methods. Litestar routes only
standard methods, so a thin ASGI shim hands REPORT to the app as POST with a marker header.

Calendar object resources (RFC 4791 §5.3.2, RFC 7232): PUT /calendars/{id}/{name}.ics with text/calendar
holding one VEVENT -> 201 (created) or 204 (replaced) with an ETag; ``If-None-Match: *`` on an existing
resource and an ``If-Match`` that is not its current ETag are 412; 415 for another media type, 403 with
``valid-calendar-data`` / ``no-uid-conflict`` preconditions (RFC 4791 §5.3.2.1) for bad data or a UID
another resource of the collection already has. GET answers it with its ETag, DELETE -> 204 (404 when
absent, 412 on an If-Match mismatch). Stored in ``objects``; they do not change free-busy answers."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - parses test requests from our own client only
from datetime import UTC, datetime
from typing import Any

import icalendar
from litestar import Request, Response, delete, get, post, put

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


def _precondition(name: str) -> Response:
    """RFC 4791 §1.3 / RFC 4918 §16: a failed precondition as a DAV:error body."""
    body = (
        '<?xml version="1.0" encoding="utf-8" ?>\n'
        f'<D:error xmlns:D="DAV:" xmlns:C="{CALDAV_NS}"><C:{name}/></D:error>'
    )
    return Response(content=body.encode(), status_code=403, media_type="application/xml; charset=utf-8")


class FakeCalDav(FakeCalendarVendor):
    provider = "caldav"

    def __init__(self, username: str = "caldav-user", password: str = "caldav-pass") -> None:  # noqa: S107
        super().__init__()
        self.username, self.password = username, password
        self.objects: dict[str, dict[str, tuple[bytes, str]]] = {}  # collection -> name -> (data, etag)
        self._revision = 0

    def object(self, calendar_id: str, name: str) -> icalendar.Calendar | None:
        """A stored resource, parsed (``name`` with its .ics)."""
        with self.lock:
            found = self.objects.get(calendar_id, {}).get(name)
        return icalendar.Calendar.from_ical(found[0]) if found else None

    def names(self, calendar_id: str) -> list[str]:
        with self.lock:
            return sorted(self.objects.get(calendar_id, {}))

    def touch(self, calendar_id: str, name: str) -> None:
        """Someone else changed the resource: its ETag moves on (the next If-Match with the old one fails)."""
        with self.lock:
            data, _ = self.objects[calendar_id][name]
            self._revision += 1
            self.objects[calendar_id][name] = (data, f'"r{self._revision}"')

    def _store(self, request: Request, calendar_id: str, name: str, data: bytes) -> Response:
        if calendar_id not in self.calendars:
            return _text(409, "Conflict: no such calendar collection")  # RFC 4918 §9.7.1
        if request.headers.get("content-type", "").split(";")[0].strip() != "text/calendar":
            return _text(415, "Unsupported Media Type")
        try:
            cal = icalendar.Calendar.from_ical(data)
            events = [c for c in cal.walk("VEVENT")]
            uid = str(events[0]["UID"]) if len(events) == 1 else ""
        except (ValueError, KeyError, IndexError):
            uid = ""
        if not uid:
            return _precondition("valid-calendar-data")
        collection = self.objects.setdefault(calendar_id, {})
        for other, (body, _) in collection.items():
            if other != name and uid in {
                str(e.get("UID")) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
            }:
                return _precondition("no-uid-conflict")
        current = collection.get(name)
        if request.headers.get("if-none-match", "").strip() == "*" and current is not None:
            return _text(412, "Precondition Failed")
        match = request.headers.get("if-match")
        if match is not None and (current is None or match.strip() != current[1]):
            return _text(412, "Precondition Failed")
        self._revision += 1
        etag = f'"r{self._revision}"'
        collection[name] = (data, etag)
        return Response(content=b"", status_code=201 if current is None else 204, headers={"ETag": etag})

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

        @put("/calendars/{calendar_id:str}/{name:str}", status_code=201)
        async def put_object(request: Request, calendar_id: str, name: str) -> Response:
            data = await request.body()
            with fake.lock:
                answer = fake._store(request, calendar_id, name, data)
            if answer.status_code in (201, 204):
                fake._record_write(request, data)
            return answer

        @get("/calendars/{calendar_id:str}/{name:str}", status_code=200)
        async def get_object(calendar_id: str, name: str) -> Response:
            with fake.lock:
                found = fake.objects.get(calendar_id, {}).get(name)
            if found is None:
                return _text(404, "Not Found")
            return Response(
                content=found[0],
                status_code=200,
                media_type="text/calendar; charset=utf-8",
                headers={"ETag": found[1]},
            )

        @delete("/calendars/{calendar_id:str}/{name:str}", status_code=200)  # the Response carries 204
        async def delete_object(request: Request, calendar_id: str, name: str) -> Response:
            with fake.lock:
                found = fake.objects.get(calendar_id, {}).get(name)
                if found is None:
                    return _text(404, "Not Found")
                match = request.headers.get("if-match")
                if match is not None and match.strip() != found[1]:
                    return _text(412, "Precondition Failed")
                del fake.objects[calendar_id][name]
            fake._record_write(request, b"")
            return Response(content=b"", status_code=200)  # the Response carries 204

        return [report, put_object, get_object, delete_object]
