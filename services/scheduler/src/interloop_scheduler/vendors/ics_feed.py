"""An ICS feed URL per calendar (GET text/calendar), parsed and expanded off the event loop with bounded
work (``IcsParser``). A failure is a fixed reason: never text of the feed or of the parser's errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime

import httpx

from interloop_scheduler.domain.ics import CalendarParseError
from interloop_scheduler.domain.model import Unknown, zone

from ._http import RetryPolicy, SourceError, send
from ._ics_parser import IcsParser


class IcsFeedSource:
    def __init__(
        self,
        client: httpx.AsyncClient,
        urls: Mapping[str, str],
        floating_zone: str = "UTC",
        retry: RetryPolicy = RetryPolicy(),
        parser: IcsParser | None = None,
    ) -> None:
        self.client, self.urls, self.tz, self.retry = (
            client,
            dict(urls),
            zone(floating_zone, "floating_zone"),
            retry,
        )
        self.parser = parser or IcsParser()

    async def busy(
        self, ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | Unknown]:
        unique = list(dict.fromkeys(ids))
        results = await asyncio.gather(*(self._one(i, start, end) for i in unique))
        return dict(zip(unique, results, strict=True))

    async def _one(
        self, cid: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]] | Unknown:
        url = self.urls.get(cid)
        if url is None:
            return Unknown("ics: no feed URL configured")
        try:
            response = await send(
                "ics", self.client, "GET", url, self.retry, headers={"Accept": "text/calendar"}
            )
        except SourceError as exc:
            return Unknown(exc.reason)
        if response.status_code != 200:
            return Unknown(f"ics: HTTP {response.status_code}")
        try:
            return await self.parser.busy(response.content, start, end, self.tz)
        except CalendarParseError as exc:
            return Unknown(f"ics: {exc.reason}")
