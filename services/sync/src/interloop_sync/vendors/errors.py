"""Typed outcomes of a vendor call, so the caller's retry policy (libs/common) can decide what to do."""

from __future__ import annotations

from typing import Any


class VendorError(Exception):
    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class RateLimited(VendorError):
    """429 (or a vendor's throttle 503): retry no sooner than ``retry_after_s`` seconds."""

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


class Permanent(VendorError):
    """A 4xx the same request will always get: do not retry; quarantine and alert."""

    def __init__(self, provider: str, status: int, body: Any, message: str | None = None) -> None:
        super().__init__(provider, message or f"HTTP {status}: {body!r}"[:500])
        self.status = status
        self.body = body


class AuthFailed(Permanent):
    """401/403: the connection's credentials are wrong or lack a permission."""


class ValidationFailed(Permanent):
    """400/422 with the vendor's field errors, as ``[(field, message)]``."""

    def __init__(self, provider: str, status: int, body: Any, errors: list[tuple[str, str]]) -> None:
        super().__init__(provider, status, body, f"HTTP {status} validation error: {errors}"[:500])
        self.errors = errors
