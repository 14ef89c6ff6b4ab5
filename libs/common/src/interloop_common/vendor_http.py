"""The one way to call an outside vendor over HTTP (ATS, HRIS, calendars, video, webhooks).

A response or transport failure becomes a typed outcome, and ``with_retries`` applies the one policy:
transient failures (5xx, 408, timeouts, connection errors) are retried with exponential backoff and
jitter, a rate limit waits what the vendor's ``Retry-After`` says (bounded), and a permanent refusal
(4xx: bad credentials, validation) fails at once — retrying a 401 only hammers the vendor.

A call a tenant can steer goes through the outbound guard: ``client(guard=policy)``; its refusals become
``Refused`` (permanent) or ``Transient`` (its timeout) with the guard's fixed reason code."""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from interloop_common import retry
from interloop_common.outbound import OutboundError, OutboundPolicy
from interloop_common.outbound import client as guarded_client

T = TypeVar("T")
DEFAULT_RETRY_AFTER_S = 10.0
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^",;]+)"?')


class VendorError(Exception):
    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class RateLimited(VendorError):
    """429 (or a vendor's own throttle signal): retry no sooner than ``retry_after_s`` seconds."""

    def __init__(self, provider: str, retry_after_s: float, message: str = "rate limited") -> None:
        super().__init__(provider, f"{message}; retry after {retry_after_s:g}s")
        self.retry_after_s = retry_after_s


class Transient(VendorError):
    """5xx, timeouts, connection errors: safe to retry with backoff."""

    def __init__(
        self, provider: str, message: str, status: int | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(provider, message)
        self.status = status
        self.retry_after_s = retry_after_s


class Permanent(VendorError, retry.Permanent):
    """A 4xx the same request will always get: never retried; quarantine and alert."""

    def __init__(self, provider: str, status: int, body: Any, message: str | None = None) -> None:
        super().__init__(provider, message or f"HTTP {status}: {body!r}"[:500])
        self.status = status
        self.body = body


class Refused(Permanent):
    """The outbound guard refused the destination or the answer; ``reason`` is its fixed code."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(provider, 0, None, reason)
        self.reason = reason


class AuthFailed(Permanent):
    """401/403: the connection's credentials are wrong or lack a permission."""


class ValidationFailed(Permanent):
    """400/422 with the vendor's field errors, as ``[(field, message)]``."""

    def __init__(self, provider: str, status: int, body: Any, errors: list[tuple[str, str]]) -> None:
        super().__init__(provider, status, body, f"HTTP {status} validation error: {errors}"[:500])
        self.errors = errors


def parse_link_header(value: str | None) -> dict[str, str]:
    """RFC 8288 ``Link`` -> {rel: url}; tolerates trailing commas and line breaks."""
    if not value:
        return {}
    return {rel: url for url, rel in _LINK.findall(value)}


def retry_after_seconds(headers: httpx.Headers, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds or an HTTP date; else ``X-RateLimit-Reset`` (seconds or an epoch)."""
    raw = headers.get("retry-after")
    if raw:
        raw = raw.strip()
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now())
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        return max(0.0, value - now()) if value > 1e9 else max(0.0, value)
    return None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        text = response.text[:2000]
    # BambooHR sends empty bodies and the reason in a header.
    header = response.headers.get("x-bamboohr-error-message")
    if not text and header:
        return {"message": header}
    return text


def field_errors(body: Any) -> list[tuple[str, str]]:
    """Greenhouse ``errors[{field,message}]``, Workday ``errors[{field,error}]``, Lever ``{code,message}``."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            return [
                (str(e.get("field", "")), str(e.get("message") or e.get("error") or e))
                if isinstance(e, dict)
                else ("", str(e))
                for e in errors
            ]
        message = body.get("message") or body.get("error")
        if message:
            return [(str(body.get("field", "")), str(message))]
    return [("", str(body))] if body else []


def is_429(response: httpx.Response) -> bool:
    return response.status_code == 429


def raise_for_response(
    provider: str,
    response: httpx.Response,
    *,
    throttled: Callable[[httpx.Response], bool] = is_429,
    refusals: bool = True,
) -> None:
    """Raise the typed outcome of a failed response; with ``refusals=False`` 4xx answers are left to
    the caller (a calendar's 410 "sync token expired" is an answer, not an error)."""
    status = response.status_code
    if throttled(response):
        after = retry_after_seconds(response.headers)
        raise RateLimited(provider, DEFAULT_RETRY_AFTER_S if after is None else after)
    if status == 408 or status >= 500:
        raise Transient(provider, f"HTTP {status}", status, retry_after_seconds(response.headers))
    if status < 400 or not refusals:
        return
    body = _body(response)
    if status in (401, 403):
        raise AuthFailed(provider, status, body)
    if status in (400, 422):
        raise ValidationFailed(provider, status, body, field_errors(body))
    raise Permanent(provider, status, body)


def client(*, guard: OutboundPolicy | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """An httpx client for vendor calls; with ``guard`` every request (and redirect) passes the outbound
    guard. Other keyword arguments go to ``httpx.AsyncClient``."""
    return guarded_client(guard, **kwargs) if guard is not None else httpx.AsyncClient(**kwargs)


async def send(
    provider: str,
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    throttled: Callable[[httpx.Response], bool] = is_429,
    refusals: bool = True,
    **kwargs: Any,
) -> httpx.Response:
    """One request; transport failures and failed responses become typed outcomes."""
    try:
        response = await client.request(method, url, **kwargs)
    except OutboundError as exc:
        raise (Transient(provider, exc.reason) if exc.transient else Refused(provider, exc.reason)) from None
    except httpx.TimeoutException as exc:
        raise Transient(provider, f"timeout: {type(exc).__name__}") from None
    except httpx.TransportError as exc:
        raise Transient(provider, f"transport error: {type(exc).__name__}") from None
    raise_for_response(provider, response, throttled=throttled, refusals=refusals)
    return response


class _wait:
    """Backoff with full jitter; a rate limit waits what the vendor asked for, never above ``cap``."""

    def __init__(self, initial: float, maximum: float, cap: float) -> None:
        self._jitter = wait_random_exponential(multiplier=initial, max=maximum)
        self._cap = cap

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            return min(exc.retry_after_s, self._cap)
        if isinstance(exc, Transient) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, self._cap)
        return self._jitter(state)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    initial: float = 0.2,
    maximum: float = 5.0,
    rate_limit_cap: float = 30.0,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T:
    """``call()`` until it succeeds, raises a permanent outcome, or ``attempts`` run out (the last
    outcome is raised)."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=_wait(initial, maximum, rate_limit_cap),
        retry=retry_if_exception_type((Transient, RateLimited)),
        sleep=sleep,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable")
