"""Microsoft Graph calendars: ``calendar/getSchedule`` (busy times) and events create/patch/delete (the
events we write into an interviewer's mailbox calendar, with a Teams online meeting).

getSchedule: POST {base}/users/{user}/calendar/getSchedule with up to 20 schedules and a range under 42
days per request (both split here). Times are asked for and read in UTC; scheduleItems with a busy status
block (free and workingElsewhere do not); a schedule with ``error`` is Unknown; 429 is retried honouring
Retry-After.

Events (vendor-contracts-2.md A7.4, confirmed): POST {base}/users/{id}/calendar/events with
``isOnlineMeeting: true`` and ``onlineMeetingProvider: teamsForBusiness`` -> 201 and the event, its join
URL in ``onlineMeeting.joinUrl``. UNCONFIRMED there (A7.4/A7.6) and followed from Graph's published
reference: ``transactionId`` de-duplicating a retried create, PATCH {base}/users/{id}/events/{eventId}
-> 200 and DELETE -> 204 (404 ``ErrorItemNotFound``: already gone). No attendees: the event is the
interviewer's own, so Graph sends no invitations (ours go by ICS email)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from interloop_scheduler.domain.calendar_events import CalendarEvent, WriteFailed, Written
from interloop_scheduler.domain.model import Unknown

from ._http import RetryPolicy, SourceError, send, vendor_code
from ._writes import refused, unanswered

MAX_SCHEDULES = 20
# the outbound guard pins a graph calendar's URL to these (the global service and the national clouds)
HOSTS = (
    "graph.microsoft.com",
    "graph.microsoft.us",
    "dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn",
)
MAX_RANGE = timedelta(days=41)  # Graph: the period must be under 42 days
BUSY_STATUSES = frozenset({"busy", "oof", "tentative"})


def _graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def _read_time(value: dict[str, str]) -> datetime:
    text, zone_name = value["dateTime"], value.get("timeZone", "UTC")
    head, _, frac = text.partition(".")
    moment = datetime.fromisoformat(head + (f".{frac[:6]}" if frac else ""))  # Graph sends 7 digits
    if moment.tzinfo is not None:
        return moment
    try:
        tz = UTC if zone_name in ("UTC", "tzone://Microsoft/Utc") else ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unsupported timeZone {zone_name!r}") from None
    return moment.replace(tzinfo=tz)


class GraphSchedule:
    def __init__(
        self,
        client: httpx.AsyncClient,
        token: str,
        user: str,
        base_url: str = "https://graph.microsoft.com/v1.0",
        batch_size: int = MAX_SCHEDULES,
        interval_minutes: int = 30,
        busy_statuses: frozenset[str] = BUSY_STATUSES,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        if not 1 <= batch_size <= MAX_SCHEDULES:
            raise ValueError(f"batch_size: must be between 1 and {MAX_SCHEDULES}")
        self.client, self.token, self.user = client, token, user
        self.base_url, self.batch_size, self.interval = base_url.rstrip("/"), batch_size, interval_minutes
        self.busy_statuses, self.retry = busy_statuses, retry

    async def busy(
        self, ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | Unknown]:
        unique = list(dict.fromkeys(ids))
        batches = [unique[i : i + self.batch_size] for i in range(0, len(unique), self.batch_size)]
        ranges = []
        cursor = start
        while cursor < end:
            ranges.append((cursor, min(cursor + MAX_RANGE, end)))
            cursor = ranges[-1][1]
        parts = await asyncio.gather(*(self._batch(b, lo, hi) for b in batches for lo, hi in ranges))
        out: dict[str, list[tuple[datetime, datetime]] | Unknown] = {i: [] for i in unique}
        for part in parts:
            for sid, value in part.items():
                current = out[sid]
                if isinstance(value, Unknown):
                    out[sid] = value if not isinstance(current, Unknown) else current
                elif not isinstance(current, Unknown):
                    current.extend(value)
        return out

    async def _batch(
        self, ids: list[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | Unknown]:
        url = f"{self.base_url}/users/{quote(self.user, safe='@')}/calendar/getSchedule"
        body = {
            "schedules": ids,
            "startTime": _graph_time(start),
            "endTime": _graph_time(end),
            "availabilityViewInterval": self.interval,
        }
        headers = {"Authorization": f"Bearer {self.token}", "Prefer": 'outlook.timezone="UTC"'}
        try:
            response = await send("graph", self.client, "POST", url, self.retry, json=body, headers=headers)
        except SourceError as exc:
            return dict.fromkeys(ids, Unknown(exc.reason))
        if response.status_code != 200:
            code = _error_code(response)
            return dict.fromkeys(ids, Unknown(f"graph: HTTP {response.status_code} {code}".strip()))
        try:
            values = response.json()["value"]
            by_id = {v["scheduleId"].lower(): v for v in values}
        except (ValueError, KeyError, TypeError, AttributeError):
            return dict.fromkeys(ids, Unknown("graph: malformed getSchedule response"))
        out: dict[str, list[tuple[datetime, datetime]] | Unknown] = {}
        for sid in ids:
            info = by_id.get(sid.lower())
            if info is None:
                out[sid] = Unknown("graph: schedule missing from response")
            elif info.get("error"):
                err = info["error"]
                out[sid] = Unknown(f"graph: {vendor_code(err.get('responseCode')) or 'error'}")
            else:
                try:
                    out[sid] = [
                        (_read_time(item["start"]), _read_time(item["end"]))
                        for item in info.get("scheduleItems", [])
                        if str(item.get("status", "busy")).lower() in self.busy_statuses
                    ]
                except (ValueError, KeyError, TypeError):
                    out[sid] = Unknown("graph: malformed schedule item")
        return out


def _error_code(response: httpx.Response) -> str:
    """Graph's ``error.code`` ('InvalidAuthenticationToken'), never its message."""
    try:
        return vendor_code(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


class GraphEvents:
    """Writes our events into Graph mailbox calendars; the mailbox is the event's ``calendar_id``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        token: str,
        base_url: str = "https://graph.microsoft.com/v1.0",
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.client, self.token, self.base_url, self.retry = client, token, base_url.rstrip("/"), retry

    def _user(self, event: CalendarEvent) -> str:
        return f"{self.base_url}/users/{quote(event.calendar_id, safe='@')}"

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Prefer": 'outlook.timezone="UTC"'}
        try:
            return await send("graph", self.client, method, url, self.retry, headers=headers, **kwargs)
        except SourceError as exc:
            raise unanswered(exc) from None

    @staticmethod
    def _body(event: CalendarEvent) -> dict[str, Any]:
        return {
            "subject": event.summary,
            "body": {"contentType": "text", "content": event.description},
            "start": _graph_time(event.start),
            "end": _graph_time(event.end),
        }

    @staticmethod
    def _written(response: httpx.Response, before: Written | None) -> Written:
        try:
            body = response.json()
            event_id = body["id"]
        except (ValueError, KeyError, TypeError):
            raise WriteFailed("graph: malformed event response", permanent=False) from None
        meeting = body.get("onlineMeeting") or {}
        url = meeting.get("joinUrl") if isinstance(meeting, dict) else None
        etag = body.get("@odata.etag")
        return Written(
            vendor_event_id=str(event_id),
            etag=etag if isinstance(etag, str) else "",
            conference_url=url
            if isinstance(url, str) and url.startswith("https://")
            else (before.conference_url if before else ""),
        )

    async def upsert(self, event: CalendarEvent, written: Written | None) -> Written:
        """Create the event with a Teams meeting (a retry carries the same transactionId), or patch it."""
        if written is not None and written.vendor_event_id:
            url = f"{self._user(event)}/events/{quote(written.vendor_event_id, safe='')}"
            response = await self._send("PATCH", url, json=self._body(event))
            if response.status_code == 200:
                return self._written(response, written)
            raise refused("graph", response, _error_code(response))
        body = {
            **self._body(event),
            "isOnlineMeeting": True,
            "onlineMeetingProvider": "teamsForBusiness",
            "transactionId": event.event_id,
        }
        response = await self._send("POST", f"{self._user(event)}/calendar/events", json=body)
        if response.status_code in (200, 201):
            return self._written(response, written)
        raise refused("graph", response, _error_code(response))

    async def delete(self, event: CalendarEvent, written: Written | None) -> None:
        """Remove the event; one never created or already gone (404) counts as removed."""
        if written is None or not written.vendor_event_id:
            return  # Graph ids are the vendor's: without one nothing of ours is there to find
        url = f"{self._user(event)}/events/{quote(written.vendor_event_id, safe='')}"
        response = await self._send("DELETE", url)
        if response.status_code in (200, 204, 404):
            return
        raise refused("graph", response, _error_code(response))
