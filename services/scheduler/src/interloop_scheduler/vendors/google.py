"""Google Calendar ``freeBusy.query``: POST {base}/freeBusy with timeMin/timeMax/items[{id}], at most 50
calendars per request (batched here); per-calendar ``errors`` make that calendar Unknown; 429 and
403 rateLimitExceeded/userRateLimitExceeded are retried with backoff honouring Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import httpx

from interloop_scheduler.domain.model import Unknown

from ._http import RetryPolicy, SourceError, parse_instant, rfc3339, send, vendor_code

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
