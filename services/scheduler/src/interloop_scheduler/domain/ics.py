"""Busy intervals from iCalendar text (an exported calendar, an ICS feed, a CalDAV VFREEBUSY answer).

Parsing only, no I/O: VEVENT occurrences are expanded by recurring-ical-events (RRULE, RDATE, EXDATE,
RECURRENCE-ID overrides, TZIDs); transparent and cancelled events do not block; an all-day event blocks
its whole local day(s) in ``tz``; floating times are read in ``tz``; VFREEBUSY periods block unless
FBTYPE=FREE."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from .intervals import intersect_sorted, merge


class CalendarParseError(ValueError):
    """The text is not a usable iCalendar object."""


def _instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value
    return datetime.combine(value, time(0), tzinfo=tz)


def parse_calendar(data: bytes | str) -> icalendar.Calendar:
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and friends on malformed text
        raise CalendarParseError(f"not valid iCalendar: {exc}") from exc
    if not isinstance(cal, icalendar.Calendar) or cal.name != "VCALENDAR":
        raise CalendarParseError("not valid iCalendar: no VCALENDAR object")
    return cal


def _event_busy(
    cal: icalendar.Calendar, start: datetime, end: datetime, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    pad = timedelta(days=2)  # floating and all-day occurrences are compared in ``tz`` after expansion
    try:
        occurrences = recurring_ical_events.of(cal).between(start - pad, end + pad)
    except Exception as exc:  # bad RRULE, DTEND before DTSTART, ...
        raise CalendarParseError(f"cannot expand events: {exc}") from exc
    out: list[tuple[datetime, datetime]] = []
    for event in occurrences:
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        try:
            begin, finish = event.start, event.end
        except Exception as exc:
            raise CalendarParseError(f"event {event.get('UID', '?')}: {exc}") from exc
        if isinstance(begin, date) and not isinstance(begin, datetime):
            if not isinstance(finish, date) or isinstance(finish, datetime) or finish <= begin:
                finish = begin + timedelta(days=1)
        out.append((_instant(begin, tz), _instant(finish, tz)))
    return out


def _periods(prop: Any) -> list[Any]:
    # icalendar splits "a/b,c/d" into one vPeriod per period, each carrying the parameters
    return [getattr(prop, "dt", None)]


def _freebusy_busy(cal: icalendar.Calendar, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for component in cal.walk("VFREEBUSY"):
        props = component.get("FREEBUSY")
        if props is None:
            continue
        for prop in props if isinstance(props, list) else [props]:
            fbtype = str(prop.params.get("FBTYPE", "BUSY")).upper()
            if fbtype == "FREE":
                continue
            for period in _periods(prop):
                try:
                    begin, second = period
                except (TypeError, ValueError):
                    raise CalendarParseError(f"FREEBUSY: not a period: {period!r}") from None
                finish = begin + second if isinstance(second, timedelta) else second
                out.append((_instant(begin, tz), _instant(finish, tz)))
    return out


def busy_from_ics(
    data: bytes | str, start: datetime, end: datetime, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Merged busy intervals (aware, UTC) of one iCalendar text, clipped to ``[start, end)``."""
    cal = parse_calendar(data)
    raw = _event_busy(cal, start, end, tz) + _freebusy_busy(cal, tz)
    spans = merge((s.astimezone(UTC), e.astimezone(UTC)) for s, e in raw)
    return intersect_sorted(spans, [(start.astimezone(UTC), end.astimezone(UTC))])
