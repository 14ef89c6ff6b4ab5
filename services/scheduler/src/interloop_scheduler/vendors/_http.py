"""How the calendar vendors are called: ``interloop_common.vendor_http`` (throttling honouring Retry-After,
5xx and transport errors retried with backoff), its outcomes turned into ``SourceError`` reasons; a 4xx
answer is left to the vendor module (it knows the vendor's error body).

A reason is stored, returned and shown to candidates, so it never carries text from an answer: only fixed
codes, HTTP statuses, the outbound guard's codes and the vendor's code-shaped error names
(``vendor_code``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from interloop_common import vendor_http

_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}")


def vendor_code(value: object) -> str:
    """A vendor's error name ('notFound', 'ErrorMailRecipientNotFound') if it looks like one, else ''."""
    return value if isinstance(value, str) and _CODE.fullmatch(value) else ""


class SourceError(Exception):
    """A calendar source could not answer; ``reason`` ends up in ``Unknown``."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient  # throttled, 5xx or unreachable after the retries: may pass later


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep, compare=False)


def _reason(exc: vendor_http.VendorError) -> str:
    if isinstance(exc, vendor_http.RateLimited):
        return f"{exc.provider}: throttled"
    if isinstance(exc, vendor_http.Transient) and exc.status is not None:
        return f"{exc.provider}: HTTP {exc.status}"
    return str(exc)


async def send(
    vendor: str,
    client: httpx.AsyncClient,
    method: str,
    url: str,
    policy: RetryPolicy,
    *,
    throttled: Callable[[httpx.Response], bool] = vendor_http.is_429,
    **kwargs: Any,
) -> httpx.Response:
    """The first answer that is neither throttled nor a 5xx; ``SourceError`` if retries run out."""
    try:
        return await vendor_http.with_retries(
            lambda: vendor_http.send(
                vendor, client, method, url, throttled=throttled, refusals=False, **kwargs
            ),
            attempts=policy.attempts,
            initial=policy.base_delay,
            maximum=policy.max_delay,
            rate_limit_cap=policy.max_delay,
            sleep=policy.sleep,
        )
    except vendor_http.Refused as exc:  # the outbound guard: never retried
        raise SourceError(f"{vendor}: {exc.reason}") from None
    except vendor_http.VendorError as exc:
        raise SourceError(f"{_reason(exc)} after {policy.attempts} attempts", transient=True) from None


def parse_instant(text: str) -> datetime:
    """RFC 3339 with 'Z' or an offset; must carry a zone."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
