"""Fake Google Calendar API v3 ``freebusy.query`` (POST /calendar/v3/freeBusy): Bearer auth, Google's error
envelope ``{"error": {"errors": [{domain, reason, message}], "code", "message"}}``, at most 50 items
(calendarExpansionMax's ceiling), per-calendar ``errors: [{domain: global, reason: notFound}]``, and
throttling as 429 or 403 ``rateLimitExceeded`` with Retry-After.

Events (vendor-contracts-2.md A6.2): POST /calendar/v3/calendars/{calendarId}/events with an optional
client-chosen ``id`` (base32hex, 5-1024 characters; 400 ``invalid`` otherwise, 409 ``duplicate`` when the
calendar already has it, deleted events included), a Meet conference created from
``conferenceData.createRequest`` only with ``?conferenceDataVersion=1`` (then ``hangoutLink`` and
``conferenceData.entryPoints``); PATCH .../events/{eventId} merges (404 ``notFound``), DELETE answers 204
(410 ``deleted`` when already deleted, 404 when never there). Inserted events are kept in ``events`` and
do not change freeBusy (seed busy blocks with ``add_busy``).

Push (vendor-contracts-2.md A6.1): POST /calendar/v3/calendars/{calendarId}/events/watch with ``{id (at
most 64 characters), type: "web_hook", address (HTTPS), token?, expiration? (ms)}`` -> the channel
``{kind: "api#channel", id, resourceId, resourceUri, token, expiration}``, then a ``sync`` notification
right away; ``notify(calendar_id)`` sends ``exists`` to every live channel of that calendar (headers only:
X-Goog-Channel-ID, X-Goog-Channel-Token, X-Goog-Channel-Expiration, X-Goog-Message-Number,
X-Goog-Resource-ID, X-Goog-Resource-State, X-Goog-Resource-URI; no body). Expired or stopped channels
deliver nothing; POST /calendar/v3/channels/stop {id, resourceId} -> 204 (404 when unknown). The longest
channel lifetime (``max_channel_seconds``, Google's default for events is a week) caps ``expiration``.
GET .../events/{eventId} reads an event; ``respond(calendar, event, email, status)`` sets an attendee's
``responseStatus`` (needsAction, declined, tentative, accepted) as its owner answering would."""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from litestar import Request, Response, delete, get, patch, post

from ..ats._server import bearer_token, json_response, parse_json_body
from ._common import FakeCalendarVendor
from ._push import Delivery, deliver, deliverable

MAX_ITEMS = 50
_EVENT_ID = re.compile(r"[0-9a-v]{5,1024}")
_MERGED = ("summary", "description", "location", "start", "end", "attendees", "transparency")


def _error(
    code: int, reason: str, message: str, domain: str = "global", headers: dict | None = None
) -> Response:
    body = {
        "error": {
            "errors": [{"domain": domain, "reason": reason, "message": message}],
            "code": code,
            "message": message,
        }
    }
    return json_response(body, code, headers)


@dataclass
class WatchChannel:
    id: str
    resource_id: str
    calendar_id: str
    address: str
    token: str
    expiration: datetime
    stopped: bool = False
    messages: int = 0
    # set once the ``sync`` message has been answered: Google sends nothing else before it
    synced: threading.Event = field(default_factory=threading.Event)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class FakeGoogleCalendar(FakeCalendarVendor):
    provider = "google-calendar"

    def __init__(self, token: str = "google-test-token") -> None:  # noqa: S107
        super().__init__()
        self.token = token
        self.throttle_status = 429  # Google also throttles with 403 rateLimitExceeded
        self.events: dict[str, dict[str, dict[str, Any]]] = {}  # calendar id -> event id -> event
        self._revision = 0
        self.channels: dict[str, WatchChannel] = {}
        self.deliveries: list[Delivery] = []
        self.max_channel_seconds = 7 * 24 * 3600.0
        self._tasks: set[asyncio.Task] = set()

    # -- push channels

    def live_channels(self, calendar_id: str) -> list[WatchChannel]:
        now = datetime.now(UTC)
        with self.lock:
            return [
                c
                for c in self.channels.values()
                if c.calendar_id == calendar_id and not c.stopped and c.expiration > now
            ]

    async def _send(self, channel: WatchChannel, state: str) -> int:
        with self.lock:
            channel.messages += 1
            number = channel.messages
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": format_datetime(channel.expiration, usegmt=True),
            "X-Goog-Message-Number": str(number),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-State": state,
            "X-Goog-Resource-URI": f"{self.base_url}/calendar/v3/calendars/{channel.calendar_id}/events",
        }
        if channel.token:
            headers["X-Goog-Channel-Token"] = channel.token
        status, _ = await deliver(channel.address, headers)
        with self.lock:
            self.deliveries.append(Delivery(channel.address, headers, b"", status))
        return status

    async def _sync(self, channel: WatchChannel) -> None:
        try:
            await self._send(channel, "sync")
        finally:
            channel.synced.set()

    async def notify(self, calendar_id: str) -> list[int]:
        """``exists`` to every live channel watching this calendar; the answers' statuses."""
        out = []
        for channel in self.live_channels(calendar_id):
            await asyncio.to_thread(channel.synced.wait, 10)
            out.append(await self._send(channel, "exists"))
        return out

    async def forge(self, address: str, headers: dict[str, str]) -> int:
        """A delivery no channel made (a test of the receiving door)."""
        status, _ = await deliver(address, headers)
        return status

    def respond(self, calendar_id: str, event_id: str, email: str, response_status: str) -> None:
        """The attendee ``email`` answers the event (``self: true`` marks the calendar's owner)."""
        with self.lock:
            event = self.events[calendar_id][event_id]
            people = [dict(a) for a in event.get("attendees") or [] if a.get("email") != email]
            people.append({"email": email, "self": email == calendar_id, "responseStatus": response_status})
            event.update(attendees=people, etag=self._etag(), updated=_rfc3339(datetime.now(UTC)))

    def _watch(self, calendar_id: str, body: dict[str, Any]) -> Response:
        channel_id, address = body.get("id"), body.get("address")
        if not isinstance(channel_id, str) or not 1 <= len(channel_id) <= 64:
            return _error(400, "invalid", "Invalid channel id.", "push")
        if body.get("type") != "web_hook":
            return _error(400, "invalid", "Invalid channel type.", "push")
        if not deliverable(address):
            return _error(400, "push.webhookUrlNotHttps", "WebHook callback must be HTTPS.", "push")
        if channel_id in self.channels:
            return _error(400, "channelIdNotUnique", "Channel id not unique.", "push")
        longest = datetime.now(UTC) + timedelta(seconds=self.max_channel_seconds)
        try:
            asked = body.get("expiration")
            expiration = datetime.fromtimestamp(int(asked) / 1000, UTC) if asked else longest
        except (TypeError, ValueError):
            return _error(400, "invalid", "Invalid expiration.", "push")
        token = body.get("token") or ""
        resource_id = hashlib.sha256(f"resource/{calendar_id}".encode()).hexdigest()[:27]
        channel = WatchChannel(
            channel_id, resource_id, calendar_id, str(address), str(token), min(expiration, longest)
        )
        self.channels[channel_id] = channel
        task = asyncio.get_running_loop().create_task(self._sync(channel))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        answer = {
            "kind": "api#channel",
            "id": channel_id,
            "resourceId": resource_id,
            "resourceUri": f"{self.base_url}/calendar/v3/calendars/{calendar_id}/events?alt=json",
            "expiration": str(int(channel.expiration.timestamp() * 1000)),
        }
        if token:
            answer["token"] = token
        return json_response(answer)

    def event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        """The event as stored (``status: cancelled`` once deleted), or None."""
        with self.lock:
            return self.events.get(calendar_id, {}).get(event_id)

    def live_events(self, calendar_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events.get(calendar_id, {}).values() if e["status"] != "cancelled"]

    def _etag(self) -> str:
        self._revision += 1
        return f'"{3181161784712000 + self._revision}"'

    def _insert(self, calendar_id: str, body: dict[str, Any], conference: bool) -> Response:
        event_id = body.get("id", uuid.uuid4().hex)  # Google picks one when the client does not
        if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
            return _error(400, "invalid", "Invalid resource id value.")
        if not isinstance(body.get("start"), dict) or not isinstance(body.get("end"), dict):
            return _error(
                400, "required", "Missing end time." if body.get("start") else "Missing start time."
            )
        start, end = _parse(body["start"].get("dateTime")), _parse(body["end"].get("dateTime"))
        if start is None or end is None:
            return _error(400, "invalid", "Invalid start or end time.")
        if end <= start:
            return _error(400, "timeRangeEmpty", "The specified time range is empty.")
        calendar = self.events.setdefault(calendar_id, {})
        if event_id in calendar:
            return _error(409, "duplicate", "The requested identifier already exists.")
        event: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": self._etag(),
            "id": event_id,
            "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "created": _rfc3339(datetime.now(UTC)),
            "updated": _rfc3339(datetime.now(UTC)),
            "iCalUID": f"{event_id}@google.com",
            "sequence": 0,
            **{k: body[k] for k in _MERGED if k in body},
        }
        request = (body.get("conferenceData") or {}).get("createRequest")
        if conference and isinstance(request, dict):
            key = (request.get("conferenceSolutionKey") or {}).get("type")
            if not request.get("requestId") or key not in (
                "hangoutsMeet",
                "eventHangout",
                "eventNamedHangout",
            ):
                return _error(400, "invalid", "Invalid conference type value.")
            code = hashlib.sha256(f"{calendar_id}/{event_id}".encode()).hexdigest()
            letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in code[:10])
            meet = f"https://meet.google.com/{letters[:3]}-{letters[3:7]}-{letters[7:10]}"
            event["hangoutLink"] = meet
            event["conferenceData"] = {
                "createRequest": {
                    "requestId": request["requestId"],
                    "conferenceSolutionKey": {"type": key},
                    "status": {"statusCode": "success"},
                },
                "entryPoints": [{"entryPointType": "video", "uri": meet, "label": meet[8:]}],
                "conferenceSolution": {"key": {"type": key}, "name": "Google Meet"},
                "conferenceId": meet.rsplit("/", 1)[1],
            }
        calendar[event_id] = event
        return json_response(event)

    def _patch(self, calendar_id: str, event_id: str, body: dict[str, Any]) -> Response:
        event = self.events.get(calendar_id, {}).get(event_id)
        if event is None or event["status"] == "cancelled":
            return _error(404, "notFound", "Not Found")
        merged = {**event, **{k: body[k] for k in _MERGED if k in body}}
        start, end = _parse(merged["start"].get("dateTime")), _parse(merged["end"].get("dateTime"))
        if start is None or end is None or end <= start:
            return _error(400, "timeRangeEmpty", "The specified time range is empty.")
        merged.update(etag=self._etag(), updated=_rfc3339(datetime.now(UTC)), sequence=event["sequence"] + 1)
        self.events[calendar_id][event_id] = merged
        return json_response(merged)

    def check_auth(self, request: Request) -> Response | None:
        if bearer_token(request) != self.token:
            return _error(401, "authError", "Invalid Credentials")
        return None

    def throttle_response(self, retry_after: float | None) -> Response:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        return _error(
            self.throttle_status, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits", headers
        )

    def failure_response(self, status: int) -> Response:
        return _error(status, "backendError", "Backend Error")

    def routes(self) -> list[Any]:
        fake = self

        @post("/calendar/v3/freeBusy", status_code=200)
        async def free_busy(request: Request) -> Response:
            broken = fake.take_malformed()
            if broken is not None:
                return broken
            body, problem = parse_json_body(await request.body())
            if problem or not isinstance(body, dict):
                return _error(400, "parseError", "Parse Error")
            time_min, time_max = _parse(body.get("timeMin")), _parse(body.get("timeMax"))
            if time_min is None:
                return _error(400, "required", "Missing timeMin.")
            if time_max is None:
                return _error(400, "required", "Missing timeMax.")
            if time_max <= time_min:
                return _error(400, "timeRangeEmpty", "The specified time range is empty.")
            items = body.get("items") or []
            if len(items) > MAX_ITEMS:
                return _error(400, "tooManyCalendarsRequested", "Too many calendars requested.", "calendar")
            calendars: dict[str, Any] = {}
            for item in items:
                cid = str(item.get("id", ""))
                if cid not in fake.calendars:
                    calendars[cid] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                    continue
                calendars[cid] = {
                    "busy": [
                        {"start": _rfc3339(max(b.start, time_min)), "end": _rfc3339(min(b.end, time_max))}
                        for b in fake.blocks(cid, time_min, time_max)
                        if b.status != "free"
                    ]
                }
            return json_response(
                {
                    "kind": "calendar#freeBusy",
                    "timeMin": _rfc3339(time_min),
                    "timeMax": _rfc3339(time_max),
                    "calendars": calendars,
                }
            )

        def calendar_or_404(calendar_id: str) -> Response | None:
            if calendar_id not in fake.calendars and calendar_id not in fake.events:
                return _error(404, "notFound", "Not Found")
            return None

        @post("/calendar/v3/calendars/{calendar_id:str}/events", status_code=200)
        async def insert_event(request: Request, calendar_id: str) -> Response:
            raw = await request.body()
            body, problem = parse_json_body(raw)
            if problem or not isinstance(body, dict):
                return _error(400, "parseError", "Parse Error")
            with fake.lock:
                missing = calendar_or_404(calendar_id)
                if missing is not None:
                    return missing
                conference = request.query_params.get("conferenceDataVersion") == "1"
                answer = fake._insert(calendar_id, body, conference)
            if answer.status_code == 200:
                fake._record_write(request, raw)
            return answer

        @patch("/calendar/v3/calendars/{calendar_id:str}/events/{event_id:str}", status_code=200)
        async def patch_event(request: Request, calendar_id: str, event_id: str) -> Response:
            raw = await request.body()
            body, problem = parse_json_body(raw)
            if problem or not isinstance(body, dict):
                return _error(400, "parseError", "Parse Error")
            with fake.lock:
                answer = calendar_or_404(calendar_id) or fake._patch(calendar_id, event_id, body)
            if answer.status_code == 200:
                fake._record_write(request, raw)
            return answer

        # status 200 here; the Response carries 204
        @delete("/calendar/v3/calendars/{calendar_id:str}/events/{event_id:str}", status_code=200)
        async def delete_event(request: Request, calendar_id: str, event_id: str) -> Response:
            with fake.lock:
                missing = calendar_or_404(calendar_id)
                if missing is not None:
                    return missing
                event = fake.events.get(calendar_id, {}).get(event_id)
                if event is None:
                    return _error(404, "notFound", "Not Found")
                if event["status"] == "cancelled":
                    return _error(410, "deleted", "Resource has been deleted")
                event.update(status="cancelled", etag=fake._etag())
            fake._record_write(request, b"")
            return Response(content=b"", status_code=200)  # the Response carries 204

        @post("/calendar/v3/calendars/{calendar_id:str}/events/watch", status_code=200)
        async def watch_events(request: Request, calendar_id: str) -> Response:
            body, problem = parse_json_body(await request.body())
            if problem or not isinstance(body, dict):
                return _error(400, "parseError", "Parse Error")
            with fake.lock:
                answer = calendar_or_404(calendar_id) or fake._watch(calendar_id, body)
            return answer

        @post("/calendar/v3/channels/stop", status_code=200)  # the Response carries 204
        async def stop_channel(request: Request) -> Response:
            body, problem = parse_json_body(await request.body())
            if problem or not isinstance(body, dict):
                return _error(400, "parseError", "Parse Error")
            with fake.lock:
                channel = fake.channels.get(str(body.get("id")))
                if channel is None or channel.resource_id != body.get("resourceId"):
                    return _error(404, "notFound", f"Channel '{body.get('id')}' not found for project")
                channel.stopped = True
            return Response(content=b"", status_code=204)

        @get("/calendar/v3/calendars/{calendar_id:str}/events/{event_id:str}", status_code=200)
        async def get_event(calendar_id: str, event_id: str) -> Response:
            with fake.lock:
                event = fake.events.get(calendar_id, {}).get(event_id)
                if event is None:
                    return calendar_or_404(calendar_id) or _error(404, "notFound", "Not Found")
                return json_response(event)

        return [
            free_busy,
            insert_event,
            patch_event,
            delete_event,
            watch_events,
            stop_channel,
            get_event,
        ]
