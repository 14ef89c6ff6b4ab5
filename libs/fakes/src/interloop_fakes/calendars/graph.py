"""Fake Microsoft Graph v1.0 ``calendar/getSchedule`` (POST /v1.0/users/{id}/calendar/getSchedule and
/v1.0/me/calendar/getSchedule): Bearer auth, Graph's ``{"error": {"code", "message"}}`` envelope, at most
20 schedules and a range under 42 days per request, per-schedule ``error`` for unknown mailboxes,
scheduleItems in UTC (7 fractional digits, as Graph writes them) and an availabilityView string."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, Response, post

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

        return [user_schedule, my_schedule]
