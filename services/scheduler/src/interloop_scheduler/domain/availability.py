"""Panel availability: when can a candidate meet a panel (everyone, k of a pool, or a mix)?

Each interviewer's free time is their working hours (built day by day in their own zone, so 09:00
local stays 09:00 across DST) minus out-of-office, calendar busy blocks, bookings (with the booking's
own buffers plus the new event's), other requests' holds and any day/ISO week whose cap is reached
(other requests' holds count against caps too).
Free intervals become "can start the whole meeting here" sets, then a k-of-n sweep finds where every
requirement has enough people, and slot starts are laid on a grid aligned in the candidate's zone.
Internally times are integer epoch seconds; the API speaks aware datetimes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .intervals import Segment, coverage, intersect_sorted, merge, shrink_ends, subtract_sorted
from .model import Booking, Hold, Interviewer, SchedulingError, Unknown, require_aware, zone

Busy = Sequence[tuple[datetime, datetime]] | Unknown


@dataclass(frozen=True, slots=True)
class Requirement:
    """``k`` of ``pool`` must attend (``k=None``: all of them)."""

    pool: tuple[str, ...]
    k: int | None = None
    name: str = ""

    @property
    def needed(self) -> int:
        return len(self.pool) if self.k is None else self.k


def all_of(*ids: str, name: str = "") -> Requirement:
    return Requirement(tuple(ids), None, name)


def k_of(k: int, *ids: str, name: str = "") -> Requirement:
    return Requirement(tuple(ids), k, name)


@dataclass(frozen=True, slots=True)
class SlotRules:
    duration: timedelta
    step: timedelta = timedelta(minutes=30)
    buffer_before: timedelta = timedelta(0)  # must be free before the new event
    buffer_after: timedelta = timedelta(0)  # must be free after it
    min_notice: timedelta = timedelta(0)
    horizon: timedelta | None = None  # the slot must end within now + horizon
    candidate_zone: str = "UTC"  # slot starts are aligned on this zone's wall clock ...
    align_to: time = time(0)  # ... at align_to + k * step


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # in the candidate's zone
    end: datetime
    available: tuple[tuple[str, ...], ...]  # per requirement, the free interviewers (sorted)

    @property
    def interviewers(self) -> tuple[str, ...]:
        return tuple(sorted({i for group in self.available for i in group}))


@dataclass(frozen=True, slots=True)
class Availability:
    slots: list[Slot]
    unknown: tuple[str, ...] = ()  # excluded: their calendar could not be read
    reasons: tuple[str, ...] = ()  # why there are no (or fewer) slots

    @property
    def reason(self) -> str | None:
        return "; ".join(self.reasons) or None


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int, tz: ZoneInfo | None = None) -> datetime:
    return datetime.fromtimestamp(seconds, tz or UTC)


def _local_start(day: date, at: time, tz: ZoneInfo) -> int:
    return epoch(datetime.combine(day, at, tzinfo=tz))


def _local_days(window: tuple[int, int], tz: ZoneInfo) -> Iterable[date]:
    first = from_epoch(window[0], tz).date() - timedelta(days=1)
    last = from_epoch(window[1], tz).date() + timedelta(days=1)
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def working_intervals(interviewer: Interviewer, window: tuple[int, int]) -> list[tuple[int, int]]:
    """Working hours as epoch intervals, built per local date in the interviewer's zone."""
    tz = zone(interviewer.zone, f"interviewers[{interviewer.id}].zone")
    out: list[tuple[int, int]] = []
    for day in _local_days(window, tz):
        windows = interviewer.overrides.get(day)
        if windows is None:
            windows = interviewer.working_hours.get(day.weekday(), ())
        for start, end in windows:
            if end != time(0) and end <= start:
                raise SchedulingError(
                    f"interviewers[{interviewer.id}].working_hours",
                    f"window {start}-{end} must end after it starts",
                )
            lo = _local_start(day, start, tz)
            hi = (
                _local_start(day + timedelta(days=1), time(0), tz)
                if end == time(0)
                else _local_start(day, end, tz)
            )
            out.append((lo, hi))
    return merge(out)


def _counted(
    interviewer_id: str, bookings: Iterable[Booking], holds: Iterable[Hold], hold_key: str | None
) -> Iterable[datetime]:
    """Starts of what counts against an interviewer's caps: bookings, and other requests' holds."""
    for b in bookings:
        if interviewer_id in b.interviewer_ids:
            yield b.start
    for h in holds:
        if interviewer_id in h.interviewer_ids and h.key != hold_key:
            yield h.start


def cap_counts(
    interviewer: Interviewer,
    bookings: Iterable[Booking],
    holds: Iterable[Hold] = (),
    hold_key: str | None = None,
) -> tuple[Counter[date], Counter[date]]:
    """Interviews (bookings and other requests' holds) per local day and per ISO week (its Monday)."""
    tz = zone(interviewer.zone, f"interviewers[{interviewer.id}].zone")
    days: Counter[date] = Counter()
    weeks: Counter[date] = Counter()
    for start in _counted(interviewer.id, bookings, holds, hold_key):
        local = start.astimezone(tz).date()
        days[local] += 1
        weeks[local - timedelta(days=local.weekday())] += 1
    return days, weeks


def capped_periods(
    interviewer: Interviewer,
    bookings: Iterable[Booking],
    holds: Iterable[Hold] = (),
    hold_key: str | None = None,
) -> list[tuple[int, int]]:
    """Local days / ISO weeks in which the interviewer's cap is already reached: busy all through.
    Another request's hold counts: confirming it would use up the cap."""
    if interviewer.daily_cap is None and interviewer.weekly_cap is None:
        return []
    tz = zone(interviewer.zone, f"interviewers[{interviewer.id}].zone")
    days, weeks = cap_counts(interviewer, bookings, holds, hold_key)
    out: list[tuple[int, int]] = []
    if interviewer.daily_cap is not None:
        for day, n in days.items():
            if n >= interviewer.daily_cap:
                out.append(
                    (_local_start(day, time(0), tz), _local_start(day + timedelta(days=1), time(0), tz))
                )
    if interviewer.weekly_cap is not None:
        for monday, n in weeks.items():
            if n >= interviewer.weekly_cap:
                out.append(
                    (_local_start(monday, time(0), tz), _local_start(monday + timedelta(days=7), time(0), tz))
                )
    return merge(out)


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def free_intervals(
    interviewer: Interviewer,
    busy: Sequence[tuple[datetime, datetime]],
    window: tuple[int, int],
    rules: SlotRules,
    bookings: Sequence[Booking] = (),
    holds: Sequence[Hold] = (),
    hold_key: str | None = None,
) -> list[tuple[int, int]]:
    """Epoch intervals in ``window`` when ``interviewer`` could hold the new event (buffers included)."""
    before, after = _seconds(rules.buffer_before), _seconds(rules.buffer_after)
    # a block [s, e) keeps the new event out of [s - after, e + before): the new event's own buffers
    blocked: list[tuple[int, int]] = [(epoch(s) - after, epoch(e) + before) for s, e in busy]
    for b in bookings:
        if interviewer.id in b.interviewer_ids:
            blocked.append(
                (
                    epoch(b.start) - _seconds(b.buffer_before) - after,
                    epoch(b.end) + _seconds(b.buffer_after) + before,
                )
            )
    for h in holds:
        if interviewer.id in h.interviewer_ids and h.key != hold_key:
            blocked.append(
                (
                    epoch(h.start) - _seconds(h.buffer_before) - after,
                    epoch(h.end) + _seconds(h.buffer_after) + before,
                )
            )
    blocked.extend((epoch(s), epoch(e)) for s, e in interviewer.out_of_office)
    blocked.extend(capped_periods(interviewer, bookings, holds, hold_key))
    working = intersect_sorted(working_intervals(interviewer, window), [window])
    return subtract_sorted(working, merge(blocked))


def _intersect_segments(
    a: list[tuple[int, int, tuple[frozenset[str], ...]]], b: list[Segment]
) -> list[tuple[int, int, tuple[frozenset[str], ...]]]:
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j].start), min(a[i][1], b[j].end)
        if lo < hi:
            out.append((lo, hi, (*a[i][2], b[j].members)))
        if a[i][1] < b[j].end:
            i += 1
        else:
            j += 1
    return out


def align_ceil(t: int, tz: ZoneInfo, step: int, origin: int) -> int:
    """The first instant >= t whose wall-clock time in ``tz`` is ``origin + k * step`` seconds after
    local midnight. Re-checked after a move in case it crossed a UTC-offset change."""
    for _ in range(4):
        local = datetime.fromtimestamp(t, tz)
        since = local.hour * 3600 + local.minute * 60 + local.second - origin
        rest = since % step
        if rest == 0:
            return t
        t += step - rest
    return t


def aligned_starts(pieces: Iterable[tuple[int, int]], tz: ZoneInfo, step: int, origin: int) -> Iterable[int]:
    for lo, hi in pieces:
        t = align_ceil(lo, tz, step, origin)
        while t < hi:
            yield t
            t = align_ceil(t + step, tz, step, origin)


def find_slots(
    *,
    interviewers: Sequence[Interviewer],
    requirements: Sequence[Requirement],
    busy: Mapping[str, Busy],
    window: tuple[datetime, datetime],
    now: datetime,
    rules: SlotRules,
    bookings: Sequence[Booking] = (),
    holds: Sequence[Hold] = (),
    hold_key: str | None = None,
    candidate_windows: Sequence[tuple[datetime, datetime]] | None = None,
    limit: int | None = None,
) -> Availability:
    """Slots in ``window`` where every requirement has enough free interviewers for the whole event.

    ``busy`` maps interviewer id -> busy intervals or ``Unknown``; an interviewer missing from it is
    treated as having an empty calendar. Unknown calendars are excluded (never free) and reported."""
    require_aware(window[0], "window.start")
    require_aware(window[1], "window.end")
    require_aware(now, "now")
    if window[0] >= window[1]:
        raise SchedulingError("window", "start must be before end")
    if rules.duration <= timedelta(0):
        raise SchedulingError("rules.duration", "must be positive")
    if rules.step <= timedelta(0):
        raise SchedulingError("rules.step", "must be positive")
    if not requirements:
        raise SchedulingError("requirements", "at least one requirement is needed")
    by_id = {i.id: i for i in interviewers}
    seen: set[str] = set()
    for idx, req in enumerate(requirements):
        missing = [p for p in req.pool if p not in by_id]
        if missing:
            raise SchedulingError(f"requirements[{idx}].pool", f"unknown interviewers {missing}")
        if not 0 <= req.needed <= len(req.pool):
            raise SchedulingError(f"requirements[{idx}].k", f"must be between 0 and {len(req.pool)}")
        overlap = seen & set(req.pool)
        if overlap:
            raise SchedulingError(
                f"requirements[{idx}].pool", f"interviewers {sorted(overlap)} already in another requirement"
            )
        seen |= set(req.pool)
    cand_tz = zone(rules.candidate_zone, "rules.candidate_zone")
    dur, step = _seconds(rules.duration), _seconds(rules.step)
    win = (epoch(window[0]), epoch(window[1]))

    # where the event may start, whoever attends: inside the window, notice and horizon, candidate windows
    lo, hi = max(win[0], epoch(now + rules.min_notice)), win[1]
    if rules.horizon is not None:
        hi = min(hi, epoch(now + rules.horizon))
    allowed = shrink_ends([(lo, hi)], dur)
    if candidate_windows is not None:
        allowed = intersect_sorted(
            allowed, shrink_ends(merge((epoch(s), epoch(e)) for s, e in candidate_windows), dur)
        )
    unknown = sorted(p for p in seen if isinstance(busy.get(p), Unknown))
    reasons: list[str] = []
    if unknown:
        reasons.append(
            "calendar unknown (excluded, never assumed free): "
            + ", ".join(f"{p} ({busy[p].reason})" for p in unknown)
        )  # type: ignore[union-attr]
    pieces: list[tuple[int, int, tuple[frozenset[str], ...]]] = [(a, b, ()) for a, b in allowed]
    for idx, req in enumerate(requirements):
        known = [p for p in req.pool if p not in unknown]
        if len(known) < req.needed:
            reasons.append(
                f"requirement {req.name or idx} needs {req.needed} but only {len(known)} "
                "have a readable calendar"
            )
            return Availability([], tuple(unknown), tuple(reasons))
        starts = {}
        for p in known:
            blocks = busy.get(p, ())
            free = free_intervals(by_id[p], blocks, win, rules, bookings, holds, hold_key)  # type: ignore[arg-type]
            starts[p] = shrink_ends(free, dur)
        pieces = _intersect_segments(pieces, coverage(starts, req.needed, win))
    slots: list[Slot] = []
    origin = rules.align_to.hour * 3600 + rules.align_to.minute * 60
    for a, b, groups in pieces:
        for t in aligned_starts([(a, b)], cand_tz, step, origin):
            slots.append(
                Slot(
                    from_epoch(t, cand_tz),
                    from_epoch(t + dur, cand_tz),
                    tuple(tuple(sorted(g)) for g in groups),
                )
            )
            if limit is not None and len(slots) >= limit:
                return Availability(slots, tuple(unknown), tuple(reasons))
    if not slots:
        reasons.append("no time in the window when every requirement has enough free interviewers")
    return Availability(slots, tuple(unknown), tuple(reasons))


def rules_from(settings: dict, duration_minutes: int, zone: str, default_horizon_days: int) -> SlotRules:
    """The slot rules of a link's or a job panel's stored settings (0 or missing = the default)."""
    return SlotRules(
        duration=timedelta(minutes=duration_minutes),
        step=timedelta(minutes=settings.get("step_minutes") or 30),
        buffer_before=timedelta(minutes=settings.get("buffer_before_minutes", 0)),
        buffer_after=timedelta(minutes=settings.get("buffer_after_minutes", 0)),
        min_notice=timedelta(minutes=settings.get("min_notice_minutes", 0)),
        horizon=timedelta(days=settings.get("horizon_days") or default_horizon_days),
        candidate_zone=zone,
    )
