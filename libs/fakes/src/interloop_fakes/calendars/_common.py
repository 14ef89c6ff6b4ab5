"""What the fake calendars share: busy blocks per calendar and a switch to answer with a broken body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar import Response

from ..ats._server import FakeVendor


@dataclass(frozen=True, slots=True)
class Block:
    start: datetime
    end: datetime
    status: str = "busy"  # busy | tentative | oof | workingElsewhere | free


class FakeCalendarVendor(FakeVendor):
    def __init__(self) -> None:
        super().__init__()
        self.calendars: dict[str, list[Block]] = {}
        self._malformed = 0

    def add_calendar(self, calendar_id: str) -> None:
        with self.lock:
            self.calendars.setdefault(calendar_id, [])

    def add_busy(self, calendar_id: str, start: datetime, end: datetime, status: str = "busy") -> None:
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start/end: must be timezone-aware")
        with self.lock:
            self.calendars.setdefault(calendar_id, []).append(Block(start, end, status))

    def malformed_next(self, n: int = 1) -> None:
        """The next ``n`` answers are 200 with a body the vendor would never send."""
        with self.lock:
            self._malformed = n

    def take_malformed(self) -> Response | None:
        with self.lock:
            if self._malformed > 0:
                self._malformed -= 1
                return Response(content=b"<html>oops</html>", status_code=200, media_type="text/html")
        return None

    def blocks(self, calendar_id: str, start: datetime, end: datetime) -> list[Block]:
        with self.lock:
            return sorted(
                (b for b in self.calendars.get(calendar_id, []) if b.start < end and start < b.end),
                key=lambda b: b.start,
            )
