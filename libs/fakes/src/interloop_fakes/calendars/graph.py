"""Fake Microsoft Graph v1.0 ``calendar/getSchedule`` (POST /v1.0/users/{id}/calendar/getSchedule and
/v1.0/me/calendar/getSchedule): Bearer auth, Graph's ``{"error": {"code", "message"}}`` envelope, at most
20 schedules and a range under 42 days per request, per-schedule ``error`` for unknown mailboxes,
scheduleItems in UTC (7 fractional digits, as Graph writes them) and an availabilityView string.

Events (vendor-contracts-2.md A7.4, A7.6): POST /v1.0/users/{id}/calendar/events (and /users/{id}/events)
-> 201 and the event, a Teams ``onlineMeeting.joinUrl`` when ``isOnlineMeeting`` with
``onlineMeetingProvider: teamsForBusiness``; a create repeating a ``transactionId`` already used in that
mailbox answers the event it created (UNCONFIRMED: Graph documents transactionId as avoiding redundant
POSTs, not its answer). PATCH /v1.0/users/{id}/events/{eventId} -> 200, DELETE -> 204, 404
``ErrorItemNotFound`` for an unknown event; an unknown mailbox is 404 ``ErrorInvalidUser``. Created events
are kept in ``events`` and do not change getSchedule (seed busy blocks with ``add_busy``)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, Response, delete, patch, post

from ..ats._server import bearer_token, json_response, parse_json_body
from ._common import FakeCalendarVendor

MAX_SCHEDULES = 20
_VIEW = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
_RANK = {"free": 0, "workingElsewhere": 1, "tentative": 2, "busy": 3, "oof": 4}


def _error(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return json_response(
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": "00000000-0000-0000-0000-000000000000",
                },
            }
        },
        status,
        headers,
    )


def _read(value: Any) -> datetime | None:
    try:
        text, zone_name = value["dateTime"], value.get("timeZone", "UTC")
        head = str(text).split(".")[0]
        moment = datetime.fromisoformat(head)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if zone_name != "UTC":
        return None  # the fake speaks UTC only
    return moment.replace(tzinfo=UTC)


def _write(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


class FakeGraphCalendar(FakeCalendarVendor):
    provider = "microsoft-graph"

    def __init__(self, token: str = "graph-test-token") -> None:  # noqa: S107
        super().__init__()
        self.token = token
        self.events: dict[str, dict[str, dict[str, Any]]] = {}  # mailbox -> event id -> event
        self._revision = 0

    def live_events(self, user: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.events.get(user, {}).values())

    def _stamp(self, event: dict[str, Any]) -> None:
        self._revision += 1
        key = base64.b64encode(hashlib.sha256(f"{event['id']}/{self._revision}".encode()).digest()[:15])
        event["changeKey"] = key.decode()
        event["@odata.etag"] = f'W/"{key.decode()}"'
        event["lastModifiedDateTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")

    def _create(self, user: str, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error(400, "BadRequest", "Empty Payload. JSON content expected.")
        mailbox = self.events.setdefault(user, {})
        txn = body.get("transactionId")
        if isinstance(txn, str) and txn:
            for existing in mailbox.values():
                if existing.get("transactionId") == txn:
                    return json_response(existing, 201)
        start, end = _read(body.get("start")), _read(body.get("end"))
        if start is None or end is None:
            return _error(400, "ErrorInvalidRequest", "start and end must be dateTimeTimeZone values (UTC).")
        if end <= start:
            return _error(400, "ErrorInvalidRequest", "The end time must be after the start time.")
        digest = hashlib.sha256(f"{user}/{len(mailbox)}/{txn}".encode()).digest()
        event_id = "AAMkAG" + base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=") + "AAA="
        online = (
            body.get("isOnlineMeeting") is True and body.get("onlineMeetingProvider") == "teamsForBusiness"
        )
        event: dict[str, Any] = {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{user}')/events/$entity",
            "id": event_id,
            "createdDateTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "iCalUId": "040000008200E00074C5B7101A82E008" + digest.hex()[:32].upper(),
            "isOrganizer": True,
            "type": "singleInstance",
            "subject": body.get("subject", ""),
            "body": body.get("body") or {"contentType": "text", "content": ""},
            "start": _write(start),
            "end": _write(end),
            "attendees": body.get("attendees") or [],
            "organizer": {"emailAddress": {"name": user, "address": user}},
            "onlineMeetingUrl": None,
            "isOnlineMeeting": online,
            "onlineMeetingProvider": "teamsForBusiness" if online else "unknown",
            "onlineMeeting": {
                "joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_"
                + digest.hex()[:40]
                + "%40thread.v2/0",
                "conferenceId": str(int(digest.hex()[:8], 16)),
            }
            if online
            else None,
        }
        if isinstance(txn, str) and txn:
            event["transactionId"] = txn
        self._stamp(event)
        mailbox[event_id] = event
        return json_response(event, 201)

    def _update(self, user: str, event_id: str, body: Any) -> Response:
        event = self.events.get(user, {}).get(event_id)
        if event is None:
            return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if not isinstance(body, dict):
            return _error(400, "BadRequest", "Empty Payload. JSON content expected.")
        changed = dict(event)
        for name in ("start", "end"):
            if name in body:
                moment = _read(body[name])
                if moment is None:
                    return _error(
                        400, "ErrorInvalidRequest", f"{name} must be a dateTimeTimeZone value (UTC)."
                    )
                changed[name] = _write(moment)
        for name in ("subject", "body", "attendees", "location"):
            if name in body:
                changed[name] = body[name]
        if _read(changed["end"]) <= _read(changed["start"]):  # type: ignore[operator]
            return _error(400, "ErrorInvalidRequest", "The end time must be after the start time.")
        self._stamp(changed)
        self.events[user][event_id] = changed
        return json_response(changed)

    def check_auth(self, request: Request) -> Response | None:
        if bearer_token(request) != self.token:
            return _error(
                401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
            )
        return None

    def throttle_response(self, retry_after: float | None) -> Response:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        return _error(429, "TooManyRequests", "Too many requests.", headers)

    def failure_response(self, status: int) -> Response:
        return _error(status, "ServiceNotAvailable", "The service is temporarily unavailable.")

    def _answer(self, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error(400, "BadRequest", "Empty Payload. JSON content expected.")
        schedules = body.get("schedules") or body.get("Schedules")
        start = _read(body.get("startTime") or body.get("StartTime"))
        end = _read(body.get("endTime") or body.get("EndTime"))
        if not isinstance(schedules, list) or not schedules:
            return _error(400, "ErrorInvalidParameter", "The parameter 'schedules' is required.")
        if start is None or end is None or end <= start:
            return _error(
                400, "ErrorInvalidParameter", "startTime and endTime must be valid and ordered (UTC)."
            )
        if len(schedules) > MAX_SCHEDULES:
            return _error(
                400,
                "ErrorInvalidParameter",
                f"The number of schedules requested exceeds the maximum of {MAX_SCHEDULES}.",
            )
        if end - start >= timedelta(days=42):
            return _error(
                400, "ErrorInvalidParameter", "The time period to look up must be less than 42 days."
            )
        try:
            interval = int(body.get("availabilityViewInterval", 30))
        except (TypeError, ValueError):
            return _error(400, "ErrorInvalidParameter", "availabilityViewInterval must be a number.")
        if not 5 <= interval <= 1440:
            return _error(
                400, "ErrorInvalidParameter", "availabilityViewInterval must be between 5 and 1440."
            )
        value = []
        for sid in schedules:
            sid = str(sid)
            if sid not in self.calendars:
                value.append(
                    {
                        "scheduleId": sid,
                        "availabilityView": "",
                        "error": {
                            "message": f"The mailbox {sid} was not found.",
                            "responseCode": "ErrorMailRecipientNotFound",
                        },
                    }
                )
                continue
            blocks = self.blocks(sid, start, end)
            view = []
            cursor = start
            while cursor < end:
                nxt = cursor + timedelta(minutes=interval)
                states = [b.status for b in blocks if b.start < nxt and cursor < b.end]
                view.append(_VIEW.get(max(states, key=lambda s: _RANK.get(s, 3)), "2") if states else "0")
                cursor = nxt
            value.append(
                {
                    "scheduleId": sid,
                    "availabilityView": "".join(view),
                    "scheduleItems": [
                        {
                            "isPrivate": False,
                            "status": b.status,
                            "subject": "",
                            "location": "",
                            "start": _write(b.start),
                            "end": _write(b.end),
                        }
                        for b in blocks
                    ],
                    "workingHours": {
                        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "startTime": "08:00:00.0000000",
                        "endTime": "17:00:00.0000000",
                        "timeZone": {"name": "UTC"},
                    },
                }
            )
        return json_response(
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
                "value": value,
            }
        )

    def routes(self) -> list[Any]:
        fake = self

        async def handle(request: Request) -> Response:
            broken = fake.take_malformed()
            if broken is not None:
                return broken
            body, problem = parse_json_body(await request.body())
            if problem:
                return _error(400, "BadRequest", f"Unable to read JSON request payload: {problem}")
            return fake._answer(body)

        @post("/v1.0/users/{user:str}/calendar/getSchedule", status_code=200)
        async def user_schedule(request: Request, user: str) -> Response:
            return await handle(request)

        @post("/v1.0/me/calendar/getSchedule", status_code=200)
        async def my_schedule(request: Request) -> Response:
            return await handle(request)

        def mailbox_or_404(user: str) -> Response | None:
            if user not in fake.calendars and user not in fake.events:
                return _error(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")
            return None

        async def create(request: Request, user: str) -> Response:
            raw = await request.body()
            body, problem = parse_json_body(raw)
            if problem:
                return _error(400, "BadRequest", f"Unable to read JSON request payload: {problem}")
            with fake.lock:
                answer = mailbox_or_404(user) or fake._create(user, body)
            if answer.status_code == 201:
                fake._record_write(request, raw)
            return answer

        @post("/v1.0/users/{user:str}/calendar/events", status_code=201)
        async def create_in_calendar(request: Request, user: str) -> Response:
            return await create(request, user)

        @post("/v1.0/users/{user:str}/events", status_code=201)
        async def create_event(request: Request, user: str) -> Response:
            return await create(request, user)

        @patch("/v1.0/users/{user:str}/events/{event_id:str}", status_code=200)
        async def update_event(request: Request, user: str, event_id: str) -> Response:
            raw = await request.body()
            body, problem = parse_json_body(raw)
            if problem:
                return _error(400, "BadRequest", f"Unable to read JSON request payload: {problem}")
            with fake.lock:
                answer = mailbox_or_404(user) or fake._update(user, event_id, body)
            if answer.status_code == 200:
                fake._record_write(request, raw)
            return answer

        @delete("/v1.0/users/{user:str}/events/{event_id:str}", status_code=200)  # the Response carries 204
        async def delete_event(request: Request, user: str, event_id: str) -> Response:
            with fake.lock:
                missing = mailbox_or_404(user)
                if missing is not None:
                    return missing
                if fake.events.get(user, {}).pop(event_id, None) is None:
                    return _error(
                        404, "ErrorItemNotFound", "The specified object was not found in the store."
                    )
            fake._record_write(request, b"")
            return Response(content=b"", status_code=200)  # the Response carries 204

        return [user_schedule, my_schedule, create_in_calendar, create_event, update_event, delete_event]
