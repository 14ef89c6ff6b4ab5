"""Fake calendar vendors for tests and demos: Google Calendar freeBusy, Microsoft Graph getSchedule,
ICS feeds and CalDAV free-busy-query. Each is a local HTTP server (``with FakeGoogleCalendar() as g:``
or ``g.start()`` -> base URL), seedable with busy blocks per calendar, with the vendor's errors, batch
limits, auth checks and 429 + Retry-After on demand (``rate_limit_next``, ``fail_next``, ``set_down``)."""

from .caldav import FakeCalDav
from .google import FakeGoogleCalendar
from .graph import FakeGraphCalendar
from .ics_feed import FakeIcsFeed

__all__ = ["FakeCalDav", "FakeGoogleCalendar", "FakeGraphCalendar", "FakeIcsFeed"]
