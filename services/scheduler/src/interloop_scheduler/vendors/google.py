"""Google Calendar API v3: ``freeBusy.query`` (busy times) and ``events`` insert/patch/delete (the events we
write into an interviewer's calendar, with a Google Meet conference).

freeBusy: POST {base}/freeBusy with timeMin/timeMax/items[{id}], at most 50 calendars per request
(batched here); per-calendar ``errors`` make that calendar Unknown; 429 and 403
rateLimitExceeded/userRateLimitExceeded are retried with backoff honouring Retry-After.

Events (vendor-contracts-2.md A6.2): POST {base}/calendars/{calendarId}/events?conferenceDataVersion=1
with our own ``id`` (base32hex) and ``conferenceData.createRequest`` (hangoutsMeet); without
conferenceDataVersion=1 Google silently ignores the Meet request (confirmed). PATCH and DELETE
{base}/calendars/{calendarId}/events/{eventId} (paths confirmed). UNCONFIRMED in that pass and followed
from Google's published reference: 409 ``duplicate`` for an id already used (so a retried insert is
answered by a patch of the event already there), the Meet link in the response's ``hangoutLink`` or
``conferenceData.entryPoints[entryPointType=video].uri``, and 410 ``deleted`` / 404 for an event
already gone. ``sendUpdates=none``: the event is the interviewer's own; invitations go by our ICS email."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from interloop_scheduler.domain.calendar_events import CalendarEvent, WriteFailed, Written
from interloop_scheduler.domain.model import Unknown

from ._http import RetryPolicy, SourceError, parse_instant, rfc3339, send, vendor_code
from ._writes import refused, unanswered

MAX_ITEMS = 50
HOSTS = ("googleapis.com",)  # the outbound guard pins a google calendar's URL to these
_THROTTLE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}


def _throttled(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    try:
        errors = response.json()["error"]["errors"]
    except (ValueError, KeyError, TypeError):
        return False
    return any(e.get("reason") in _THROTTLE_REASONS for e in errors if isinstance(e, dict))


class GoogleFreeBusy:
    def __init__(
        self,
        client: httpx.AsyncClient,
        token: str,
        base_url: str = "https://www.googleapis.com/calendar/v3",
        batch_size: int = MAX_ITEMS,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        if not 1 <= batch_size <= MAX_ITEMS:
            raise ValueError(f"batch_size: must be between 1 and {MAX_ITEMS}")
        self.client, self.token, self.base_url = client, token, base_url.rstrip("/")
        self.batch_size, self.retry = batch_size, retry

    async def busy(
        self, ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | Unknown]:
        unique = list(dict.fromkeys(ids))
        batches = [unique[i : i + self.batch_size] for i in range(0, len(unique), self.batch_size)]
        out: dict[str, list[tuple[datetime, datetime]] | Unknown] = {}
        for part in await asyncio.gather(*(self._batch(b, start, end) for b in batches)):
            out.update(part)
        return out

    async def _batch(
        self, ids: list[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | Unknown]:
        body = {"timeMin": rfc3339(start), "timeMax": rfc3339(end), "items": [{"id": i} for i in ids]}
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            response = await send(
                "google",
                self.client,
                "POST",
                f"{self.base_url}/freeBusy",
                self.retry,
                throttled=_throttled,
                json=body,
                headers=headers,
            )
        except SourceError as exc:
            return dict.fromkeys(ids, Unknown(exc.reason))
        if response.status_code != 200:
            return dict.fromkeys(
                ids, Unknown(f"google: HTTP {response.status_code} {_error_code(response)}".strip())
            )
        try:
            calendars = response.json()["calendars"]
        except (ValueError, KeyError, TypeError):
            return dict.fromkeys(ids, Unknown("google: malformed freeBusy response"))
        out: dict[str, list[tuple[datetime, datetime]] | Unknown] = {}
        for cid in ids:
            entry = calendars.get(cid) if isinstance(calendars, dict) else None
            if not isinstance(entry, dict):
                out[cid] = Unknown("google: calendar missing from response")
            elif entry.get("errors"):
                reasons = ",".join(
                    vendor_code(e.get("reason")) or "error" for e in entry["errors"] if isinstance(e, dict)
                )
                out[cid] = Unknown(f"google: {reasons or 'error'}")
            else:
                try:
                    out[cid] = [
                        (parse_instant(b["start"]), parse_instant(b["end"])) for b in entry.get("busy", [])
                    ]
                except (ValueError, KeyError, TypeError):
                    out[cid] = Unknown("google: malformed busy period")
        return out


def _error_code(response: httpx.Response) -> str:
    """The first error's ``reason`` ('authError'), never its free-text message."""
    try:
        return vendor_code(response.json()["error"]["errors"][0]["reason"])
    except (ValueError, KeyError, TypeError, IndexError):
        return ""


def _meet_link(event: Any) -> str:
    if not isinstance(event, dict):
        return ""
    link = event.get("hangoutLink")
    if isinstance(link, str) and link.startswith("https://"):
        return link
    points = (event.get("conferenceData") or {}).get("entryPoints") or []
    for point in points if isinstance(points, list) else []:
        uri = point.get("uri") if isinstance(point, dict) else None
        if point.get("entryPointType") == "video" and isinstance(uri, str) and uri.startswith("https://"):
            return uri
    return ""


class GoogleEvents:
    """Writes our events into Google calendars (one client and bearer token per calendar owner)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        token: str,
        base_url: str = "https://www.googleapis.com/calendar/v3",
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.client, self.token, self.base_url, self.retry = client, token, base_url.rstrip("/"), retry

    def _url(self, calendar_id: str, event_id: str = "") -> str:
        url = f"{self.base_url}/calendars/{quote(calendar_id, safe='@')}/events"
        return f"{url}/{quote(event_id, safe='')}" if event_id else url

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            return await send(
                "google",
                self.client,
                method,
                url,
                self.retry,
                throttled=_throttled,
                headers=headers,
                **kwargs,
            )
        except SourceError as exc:
            raise unanswered(exc) from None

    def _written(self, response: httpx.Response, event_id: str) -> Written:
        try:
            body = response.json()
        except ValueError:
            raise WriteFailed("google: malformed event response", permanent=False) from None
        etag = body.get("etag") if isinstance(body, dict) else None
        return Written(
            vendor_event_id=str(body.get("id") or event_id) if isinstance(body, dict) else event_id,
            etag=etag if isinstance(etag, str) else "",
            conference_url=_meet_link(body),
        )

    @staticmethod
    def _times(event: CalendarEvent) -> dict[str, Any]:
        return {
            "summary": event.summary,
            "description": event.description,
            "start": {"dateTime": rfc3339(event.start), "timeZone": "UTC"},
            "end": {"dateTime": rfc3339(event.end), "timeZone": "UTC"},
        }

    async def upsert(self, event: CalendarEvent, written: Written | None) -> Written:
        """Insert the event with its Meet conference, or patch it when it is already there."""
        if written is None or not written.vendor_event_id:
            body = {
                "id": event.event_id,
                **self._times(event),
                "conferenceData": {
                    "createRequest": {
                        "requestId": event.event_id,
                        "conferenceSolutionKey": {"type": "hangoutsMeet"},
                    }
                },
            }
            params = {"conferenceDataVersion": "1", "sendUpdates": "none"}
            response = await self._send("POST", self._url(event.calendar_id), params=params, json=body)
            if response.status_code in (200, 201):
                return self._written(response, event.event_id)
            if response.status_code != 409:
                raise refused("google", response, _error_code(response))
            # 409 duplicate: our id is already in this calendar (a retried insert); bring it up to date
        return await self._patch(event)

    async def _patch(self, event: CalendarEvent) -> Written:
        params = {"conferenceDataVersion": "1", "sendUpdates": "none"}
        url = self._url(event.calendar_id, event.event_id)
        response = await self._send("PATCH", url, params=params, json=self._times(event))
        if response.status_code == 200:
            return self._written(response, event.event_id)
        raise refused("google", response, _error_code(response))

    async def delete(self, event: CalendarEvent, written: Written | None) -> None:
        """Remove the event; one already gone (404, 410 deleted) counts as removed."""
        url = self._url(event.calendar_id, (written and written.vendor_event_id) or event.event_id)
        response = await self._send("DELETE", url, params={"sendUpdates": "none"})
        if response.status_code in (200, 204, 404, 410):
            return
        raise refused("google", response, _error_code(response))
