"""Fake ICS feeds: GET /feeds/{name}.ics answers text/calendar, built with icalendar from the seeded busy
blocks (or raw text set with ``set_feed``); unknown feeds are 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import icalendar
from litestar import Response, get

from ._common import FakeCalendarVendor


class FakeIcsFeed(FakeCalendarVendor):
    provider = "ics-feed"

    def __init__(self) -> None:
        super().__init__()
        self.raw: dict[str, bytes] = {}

    def set_feed(self, name: str, text: str | bytes) -> None:
        with self.lock:
            self.raw[name] = text.encode() if isinstance(text, str) else text

    def url(self, name: str) -> str:
        return f"{self.base_url}/feeds/{name}.ics"

    def render(self, name: str) -> bytes:
        cal = icalendar.Calendar()
        cal.add("prodid", "-//Interloop//Fake ICS feed//EN")
        cal.add("version", "2.0")
        for i, block in enumerate(self.calendars.get(name, [])):
            event = icalendar.Event()
            event.add("uid", f"{name}-{i}@fake")
            event.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
            event.add("dtstart", block.start)
            event.add("dtend", block.end)
            event.add("summary", "Busy")
            if block.status == "free":
                event.add("transp", "TRANSPARENT")
            cal.add_component(event)
        return cal.to_ical()

    def routes(self) -> list[Any]:
        fake = self

        @get("/feeds/{name:str}", status_code=200)
        async def feed(name: str) -> Response:
            broken = fake.take_malformed()
            if broken is not None:
                return broken
            stem = name.removesuffix(".ics")
            with fake.lock:
                if stem in fake.raw:
                    data = fake.raw[stem]
                elif stem in fake.calendars:
                    data = fake.render(stem)
                else:
                    return Response(content=b"Not Found", status_code=404, media_type="text/plain")
            return Response(content=data, status_code=200, media_type="text/calendar; charset=utf-8")

        return [feed]
