"""How sync calls vendors and tenants' webhooks over HTTP: ``interloop_common.vendor_http`` through the
outbound guard, with failures that never carry text from an answer.

Every URL here is the tenant's to choose (a connection's ``base_url`` and ``token_url``, a rule's webhook),
so a failure is stored, alerted, e-mailed to the owner and dead-lettered as a fixed reason code and the
HTTP status only (``reason``); ``send`` rewrites a vendor refusal's message to that, so even a plain
``str(exc)`` further up carries no body. The parsed body stays on the exception (``.body``) for an
adapter that reads it (Workday's SOAP faults are classified before that and keep none). A followed
``next`` link must stay on the origin of the configured base URL (``same_origin``), so the credentials
never follow it elsewhere."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import httpx
from interloop_common import vendor_http
from interloop_common.outbound import NOT_SAME_ORIGIN, OutboundPolicy, OutboundRefused
from interloop_common.outbound import same_origin as _same_origin

# The fixed reason codes of a vendor's refusal (4xx), beside the outbound guard's codes.
AUTH_FAILED = "auth_failed"
VALIDATION_FAILED = "validation_failed"
REQUEST_REFUSED = "request_refused"


def reason(exc: BaseException) -> str:
    """What may be shown of a failed call (stored reasons, alerts, owner e-mails, dead letters): the
    provider, a fixed code and the HTTP status, never the answer's body; for any other error its type."""
    if isinstance(exc, vendor_http.Refused):
        return f"{exc.provider}: {exc.reason}"
    if isinstance(exc, vendor_http.Permanent):
        code = (
            AUTH_FAILED
            if isinstance(exc, vendor_http.AuthFailed)
            else VALIDATION_FAILED
            if isinstance(exc, vendor_http.ValidationFailed)
            else REQUEST_REFUSED
        )
        return f"{exc.provider}: {code} (HTTP {exc.status})"
    if isinstance(exc, vendor_http.RateLimited):
        return f"{exc.provider}: rate_limited (retry after {exc.retry_after_s:g}s)"
    if isinstance(exc, vendor_http.Transient):
        # "HTTP 503", "timeout: ReadTimeout", "transport error: ConnectError" or a guard code
        return f"{exc.provider}: HTTP {exc.status}" if exc.status is not None else str(exc)
    if isinstance(exc, vendor_http.VendorError):
        return f"{exc.provider}: {type(exc).__name__}"
    return type(exc).__name__


async def send(
    provider: str,
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    throttled: Callable[[httpx.Response], bool] = vendor_http.is_429,
    **kwargs: Any,
) -> httpx.Response:
    """``vendor_http.send``; a refusal's message is its ``reason`` (its body stays on ``.body``)."""
    try:
        return await vendor_http.send(provider, client, method, url, throttled=throttled, **kwargs)
    except vendor_http.Permanent as exc:
        exc.args = (reason(exc),)  # str(exc) quoted the body; it ends up in dead letters and alerts
        raise


def same_origin(provider: str, base: str, link: str) -> str:
    """``link`` (a vendor's ``next`` page) resolved against ``base``; ``Refused`` (nothing sent) unless it
    has the same scheme, host and port."""
    try:
        return str(_same_origin(base, link))
    except (OutboundRefused, httpx.InvalidURL):
        raise vendor_http.Refused(provider, NOT_SAME_ORIGIN) from None


def url_problem(url: str, policy: OutboundPolicy) -> str | None:
    """Why ``url`` cannot be a connection's base or token URL (None: it can): https, or http to an
    address the policy opens explicitly (the local fakes); no user name or password; a pinned host."""
    hosts = ", ".join(policy.allowed_host_suffixes)
    expected = f"an https URL on {hosts}" if hosts else "an https URL"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return f"not a URL; expected {expected}"
    host = parsed.host
    if parsed.scheme not in ("http", "https") or not host:
        return f"expected {expected}"
    if parsed.userinfo:
        return f"no user name or password in the URL (they go in credentials); expected {expected}"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and not policy.address_allowed(ip):
        return f"an address the outbound guard refuses; expected {expected}"
    if parsed.scheme == "http" and (ip is None or not any(ip in n for n in policy.allow_networks)):
        return f"http only for an address in OUTBOUND_ALLOW_NETWORKS; expected {expected}"
    try:
        policy.check_host(host)
    except OutboundRefused:
        return f"host {host!r} is not the vendor's; expected {expected}"
    return None
