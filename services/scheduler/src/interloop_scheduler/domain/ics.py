"""Busy intervals from iCalendar text (an exported calendar, an ICS feed, a CalDAV VFREEBUSY answer).

Parsing only, no I/O: VEVENT occurrences are expanded by recurring-ical-events (RRULE, RDATE, EXDATE,
RECURRENCE-ID overrides, TZIDs); transparent and cancelled events do not block; an all-day event blocks
its whole local day(s) in ``tz``; floating times are read in ``tz``; VFREEBUSY periods block unless
FBTYPE=FREE.

Expansion is bounded (``ExpansionLimits``): sub-minute rules are refused, the steps the recurrence engine
would walk from each DTSTART are estimated and capped before anything is expanded, and occurrences are
capped per event and per calendar. A refusal is a ``CalendarParseError`` with a fixed ``reason`` code; the
text that was parsed never appears in it (only ``detail``, for an operator reading their own file)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from .intervals import intersect_sorted, merge


class CalendarParseError(ValueError):
    """The text is not a usable iCalendar object, or expanding it would cost more than the limits allow.

    ``reason`` is a fixed code (``invalid_calendar``, ``invalid_event``, ``invalid_recurrence``,
    ``invalid_freebusy``, ``recurrence_too_frequent``, ``recurrence_too_large``, ``too_many_occurrences``);
    ``detail`` may quote the text and is only for the CLI reading a local file."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True, slots=True)
class ExpansionLimits:
    max_occurrences_per_event: int = 1_000
    max_occurrences: int = 20_000
    # recurrence steps walked from each DTSTART up to the window's end, summed over the calendar
    max_recurrence_steps: int = 200_000
    min_interval_minutes: int = 5


_STEP = {
    "YEARLY": timedelta(days=365),
    "MONTHLY": timedelta(days=28),
    "WEEKLY": timedelta(weeks=1),
    "DAILY": timedelta(days=1),
    "HOURLY": timedelta(hours=1),
    "MINUTELY": timedelta(minutes=1),
    "SECONDLY": timedelta(seconds=1),
}
_DAYS_PER_PERIOD = {"YEARLY": 366, "MONTHLY": 31, "WEEKLY": 7}
_DAY_RULES = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")


def _instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value
    return datetime.combine(value, time(0), tzinfo=tz)


def parse_calendar(data: bytes | str) -> icalendar.Calendar:
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and friends on malformed text
        raise CalendarParseError("invalid_calendar", f"not valid iCalendar: {exc}") from exc
    if not isinstance(cal, icalendar.Calendar) or cal.name != "VCALENDAR":
        raise CalendarParseError("invalid_calendar", "no VCALENDAR object")
    return cal


def _naive_utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return datetime.combine(value, time(0))


def _first(rule: Any, key: str, default: Any) -> Any:
    values = rule.get(key) or [default]
    return values[0] if isinstance(values, list) else values


def _rule_steps(rule: Any, dtstart: date | datetime, until: datetime, limits: ExpansionLimits) -> int:
    """An upper bound of the steps the recurrence engine walks from ``dtstart`` to ``until`` for one
    RRULE (it always starts at DTSTART, however old); sub-minute rules are refused outright."""
    freq = str(_first(rule, "FREQ", "")).upper()
    if freq not in _STEP:
        raise CalendarParseError("invalid_recurrence", f"FREQ={freq!r}")
    interval = max(1, int(_first(rule, "INTERVAL", 1) or 1))
    seconds = len(rule.get("BYSECOND") or [])
    if freq == "SECONDLY" or seconds > 1 or (freq == "MINUTELY" and interval < limits.min_interval_minutes):
        raise CalendarParseError("recurrence_too_frequent", f"FREQ={freq};INTERVAL={interval}")
    last = min([until, *(_naive_utc(u) for u in rule.get("UNTIL") or [])])
    periods = max(0, (last - _naive_utc(dtstart)) // (_STEP[freq] * interval)) + 1
    per = 1
    if freq in _DAYS_PER_PERIOD and any(rule.get(k) for k in _DAY_RULES):
        per *= _DAYS_PER_PERIOD[freq]
    if freq not in ("HOURLY", "MINUTELY") and rule.get("BYHOUR"):
        per *= len(rule["BYHOUR"])
    if freq != "MINUTELY" and rule.get("BYMINUTE"):
        per *= len(rule["BYMINUTE"])
    count = _first(rule, "COUNT", None)
    return min(periods * per, int(count)) if count else periods * per


def recurrence_steps(cal: icalendar.Calendar, until: datetime, limits: ExpansionLimits) -> int:
    """The estimated recurrence work of a calendar up to ``until``; refused over the limits."""
    total = 0
    for event in cal.walk("VEVENT"):
        rules = event.get("RRULE")
        start = event.get("DTSTART")
        if not rules or start is None:
            continue
        try:
            for rule in rules if isinstance(rules, list) else [rules]:
                total += _rule_steps(rule, start.dt, _naive_utc(until), limits)
        except CalendarParseError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            raise CalendarParseError("invalid_recurrence", str(exc)) from exc
        if total > limits.max_recurrence_steps:
            raise CalendarParseError("recurrence_too_large", f"more than {limits.max_recurrence_steps} steps")
    return total


def _event_busy(
    cal: icalendar.Calendar, start: datetime, end: datetime, tz: ZoneInfo, limits: ExpansionLimits
) -> list[tuple[datetime, datetime]]:
    pad = timedelta(days=2)  # floating and all-day occurrences are compared in ``tz`` after expansion
    recurrence_steps(cal, end + pad, limits)
    try:
        occurrences = recurring_ical_events.of(cal).between(start - pad, end + pad)
    except Exception as exc:  # bad RRULE, DTEND before DTSTART, ...
        raise CalendarParseError("invalid_recurrence", f"cannot expand events: {exc}") from exc
    per_event = Counter(str(e.get("UID")) for e in occurrences if e.get("UID"))
    if len(occurrences) > limits.max_occurrences or (
        per_event and max(per_event.values()) > limits.max_occurrences_per_event
    ):
        raise CalendarParseError("too_many_occurrences", f"{len(occurrences)} occurrences in the window")
    out: list[tuple[datetime, datetime]] = []
    for event in occurrences:
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        try:
            begin, finish = event.start, event.end
        except Exception as exc:
            raise CalendarParseError("invalid_event", f"event {event.get('UID', '?')}: {exc}") from exc
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
                    raise CalendarParseError("invalid_freebusy", f"not a period: {period!r}") from None
                finish = begin + second if isinstance(second, timedelta) else second
                out.append((_instant(begin, tz), _instant(finish, tz)))
    return out


def busy_from_ics(
    data: bytes | str,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    limits: ExpansionLimits = ExpansionLimits(),
) -> list[tuple[datetime, datetime]]:
    """Merged busy intervals (aware, UTC) of one iCalendar text, clipped to ``[start, end)``."""
    cal = parse_calendar(data)
    raw = _event_busy(cal, start, end, tz, limits) + _freebusy_busy(cal, tz)
    spans = merge((s.astimezone(UTC), e.astimezone(UTC)) for s, e in raw)
    return intersect_sorted(spans, [(start.astimezone(UTC), end.astimezone(UTC))])
