"""Fake Google Calendar API v3 ``freebusy.query`` (POST /calendar/v3/freeBusy): Bearer auth, Google's error
envelope ``{"error": {"errors": [{domain, reason, message}], "code", "message"}}``, at most 50 items
(calendarExpansionMax's ceiling), per-calendar ``errors: [{domain: global, reason: notFound}]``, and
throttling as 429 or 403 ``rateLimitExceeded`` with Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, post

from ..ats._server import bearer_token, json_response, parse_json_body
from ._common import FakeCalendarVendor

MAX_ITEMS = 50


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

        return [free_busy]
