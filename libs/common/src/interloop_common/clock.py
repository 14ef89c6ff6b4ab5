"""The one clock: aware UTC instants. Use cases take ``now`` as a parameter where tests need to move it."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
