"""What the calendar event writers share: an answer's status turned into ``WriteFailed`` (401/403 and
other refusals are permanent, throttling and 5xx that outlived the retries are not)."""

from __future__ import annotations

import httpx

from interloop_scheduler.domain.calendar_events import WriteFailed

from ._http import SourceError


def unanswered(exc: SourceError) -> WriteFailed:
    """5xx, throttling or a transport error after the retries; the outbound guard's refusals are for good."""
    return WriteFailed(exc.reason, permanent=not exc.transient)


def refused(vendor: str, response: httpx.Response, code: str) -> WriteFailed:
    status = response.status_code
    reason = f"{vendor}: HTTP {status} {code}".strip()
    # 408/409/423/425 can pass by themselves; any other 4xx is the same answer next time
    return WriteFailed(reason, permanent=status not in (408, 409, 423, 425))
