"""The one retry policy of the calendar sources: retry throttling (429, or a vendor's own throttle
signal), 5xx and transport errors with exponential backoff, honouring Retry-After when given."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx


class SourceError(Exception):
    """A calendar source could not answer; ``reason`` ends up in ``Unknown``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep, compare=False)

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        header = response.headers.get("retry-after") if response is not None else None
        if header:
            try:
                return min(max(float(header), 0.0), self.max_delay)
            except ValueError:
                when = email.utils.parsedate_to_datetime(header) if header else None
                if when is not None:
                    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), self.max_delay)
        return min(self.base_delay * 2**attempt, self.max_delay)


def _default_throttled(response: httpx.Response) -> bool:
    return response.status_code == 429


async def send(
    client: httpx.AsyncClient,
    request: Callable[[], Awaitable[httpx.Response]],
    policy: RetryPolicy,
    vendor: str,
    throttled: Callable[[httpx.Response], bool] = _default_throttled,
) -> httpx.Response:
    """The first non-retryable response; ``SourceError`` if retries run out or the transport fails."""
    last = ""
    for attempt in range(policy.attempts):
        response: httpx.Response | None = None
        try:
            response = await request()
        except httpx.TransportError as exc:
            last = f"{vendor}: {type(exc).__name__}"
        else:
            if throttled(response):
                last = f"{vendor}: throttled ({response.status_code})"
            elif response.status_code >= 500:
                last = f"{vendor}: HTTP {response.status_code}"
            else:
                return response
        if attempt + 1 < policy.attempts:
            await policy.sleep(policy.delay(attempt, response))
    raise SourceError(f"{last} after {policy.attempts} attempts")


def parse_instant(text: str) -> datetime:
    """RFC 3339 with 'Z' or an offset; must carry a zone."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
