"""Shared HTTP plumbing for the adapters: response → typed error, Link headers, Retry-After."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from .errors import AuthFailed, Permanent, RateLimited, Transient, ValidationFailed

DEFAULT_RETRY_AFTER_S = 10.0
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^",;]+)"?')


def parse_link_header(value: str | None) -> dict[str, str]:
    """RFC 5988 ``Link`` → {rel: url}; tolerates Greenhouse's trailing commas and line breaks."""
    if not value:
        return {}
    return {rel: url for url, rel in _LINK.findall(value)}


def retry_after_seconds(headers: httpx.Headers, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds or an HTTP date; else ``X-RateLimit-Reset`` as an epoch timestamp."""
    raw = headers.get("retry-after")
    if raw:
        raw = raw.strip()
        try:
            return max(0.0, float(raw))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(raw) if raw else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now())
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        # Seconds-until-reset or an epoch timestamp: vendors use both.
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


def raise_for_response(provider: str, response: httpx.Response, *, throttle_503: bool = False) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429 or (throttle_503 and status == 503 and "retry-after" in response.headers):
        after = retry_after_seconds(response.headers)
        raise RateLimited(provider, DEFAULT_RETRY_AFTER_S if after is None else after)
    body = _body(response)
    if status in (401, 403):
        raise AuthFailed(provider, status, body)
    if status in (400, 422):
        raise ValidationFailed(provider, status, body, field_errors(body))
    if status == 408 or status >= 500:
        raise Transient(provider, f"HTTP {status}", status, retry_after_seconds(response.headers))
    raise Permanent(provider, status, body)


async def send(
    provider: str,
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    throttle_503: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise Transient(provider, f"timeout: {type(exc).__name__}") from None
    except httpx.TransportError as exc:
        raise Transient(provider, f"transport error: {type(exc).__name__}") from None
    raise_for_response(provider, response, throttle_503=throttle_503)
    return response
