"""Booking policy: may a booking be rescheduled or cancelled now, and the booking state afterwards (each
change bumps the invite SEQUENCE; reschedules are limited in number and closed near the start); and the
rules every new booking must keep (no overlap with buffers, working hours, calendars, caps)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from .availability import Busy, cap_counts, epoch, working_intervals
from .model import Booking, Hold, Interviewer, SchedulingError, Unknown, require_aware, zone


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    max_reschedules: int = 2
    reschedule_cutoff: timedelta = timedelta(hours=24)  # no reschedule closer than this to the start
    cancel_cutoff: timedelta = timedelta(0)  # no cancel closer than this (0: until the start)


@dataclass(frozen=True, slots=True)
class BookingState:
    id: str
    start: datetime
    end: datetime
    status: str = "scheduled"  # scheduled | cancelled | completed
    sequence: int = 0
    reschedules: int = 0


class PolicyViolation(SchedulingError):
    """The change is not allowed; ``field`` says which rule and ``message`` why."""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""
    field: str = ""


def can_reschedule(booking: BookingState, policy: BookingPolicy, now: datetime) -> Decision:
    require_aware(now, "now")
    if booking.status != "scheduled":
        return Decision(False, f"booking is {booking.status}", "status")
    if booking.reschedules >= policy.max_reschedules:
        return Decision(
            False,
            f"already rescheduled {booking.reschedules} times (limit {policy.max_reschedules})",
            "reschedules",
        )
    if now > booking.start - policy.reschedule_cutoff:
        return Decision(False, f"reschedules close {policy.reschedule_cutoff} before the start", "start")
    return Decision(True)


def can_cancel(booking: BookingState, policy: BookingPolicy, now: datetime) -> Decision:
    require_aware(now, "now")
    if booking.status != "scheduled":
        return Decision(False, f"booking is {booking.status}", "status")
    if now > booking.start - policy.cancel_cutoff:
        return Decision(False, f"cancellation closes {policy.cancel_cutoff} before the start", "start")
    return Decision(True)


def reschedule(
    booking: BookingState, new_start: datetime, new_end: datetime, policy: BookingPolicy, now: datetime
) -> BookingState:
    """The booking moved to ``[new_start, new_end)``: SEQUENCE + 1, reschedule count + 1."""
    decision = can_reschedule(booking, policy, now)
    if not decision.allowed:
        raise PolicyViolation(decision.field, decision.reason)
    require_aware(new_start, "new_start")
    if new_end <= new_start:
        raise PolicyViolation("new_end", "must be after new_start")
    if new_start <= now:
        raise PolicyViolation("new_start", "must be in the future")
    return replace(
        booking,
        start=new_start,
        end=new_end,
        sequence=booking.sequence + 1,
        reschedules=booking.reschedules + 1,
    )


def cancel(booking: BookingState, policy: BookingPolicy, now: datetime) -> BookingState:
    decision = can_cancel(booking, policy, now)
    if not decision.allowed:
        raise PolicyViolation(decision.field, decision.reason)
    return replace(booking, status="cancelled", sequence=booking.sequence + 1)


# -- the rules every new booking is checked against, under the interviewers' locks

# A coordinator's override (with a reason, recorded on the booking) lets these through; overlaps with
# another booking or hold never pass: the exclusion constraint refuses them whatever the override says.
OVERRIDABLE = frozenset(
    {"working_hours", "out_of_office", "calendar_unknown", "busy", "daily_cap", "weekly_cap"}
)
OVERLAPS = frozenset({"double_booking", "held"})


@dataclass(frozen=True, slots=True)
class Placement:
    """An interview about to be booked: who, when, and the free time each interviewer needs either side."""

    interviewer_ids: tuple[str, ...]
    start: datetime
    end: datetime
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    label: str = ""  # the session id in a loop


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str  # a name from OVERRIDABLE or OVERLAPS, or "unknown_interviewer"
    interviewer_id: str
    message: str
    label: str = ""

    def __str__(self) -> str:
        where = f"session {self.label}: " if self.label else ""
        return f"{self.rule}: {where}{self.message}"


def _hm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def check_placements(
    placements: Sequence[Placement],
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Busy],
    bookings: Sequence[Booking],
    holds: Sequence[Hold],
    now: datetime,
    *,
    hold_key: str | None = None,
) -> list[Violation]:
    """Every rule each placement breaks, given what is committed now. Placements are checked in order and
    each one counts for the next (a loop's sessions share caps and may not overlap with buffers).

    Overlaps (buffers included) are always checked. Working hours, out-of-office, calendars and caps are
    scheduling rules: they apply to interviews that start after ``now`` (an interview recorded after the
    fact is recorded as it happened), and working hours only where the profile sets any."""
    require_aware(now, "now")
    out: list[Violation] = []
    committed = list(bookings)
    for n, p in enumerate(placements):
        require_aware(p.start, f"placements[{n}].start")
        if p.end <= p.start:
            raise SchedulingError(f"placements[{n}].end", "must be after start")
        lo, hi = p.start - p.buffer_before, p.end + p.buffer_after
        for pid in p.interviewer_ids:

            def broke(rule: str, message: str, pid: str = pid, label: str = p.label) -> None:
                out.append(Violation(rule, pid, message, label))

            person = interviewers.get(pid)
            if person is None:
                broke("unknown_interviewer", f"{pid} is not a known interviewer")
                continue
            for b in committed:
                if (
                    pid in b.interviewer_ids
                    and lo < b.end + b.buffer_after
                    and b.start - b.buffer_before < hi
                ):
                    broke(
                        "double_booking",
                        f"{pid} is booked {_hm(b.start)}-{_hm(b.end)} (buffers included)",
                    )
                    break
            for h in holds:
                if (
                    h.key != hold_key
                    and pid in h.interviewer_ids
                    and lo < h.end + h.buffer_after
                    and h.start - h.buffer_before < hi
                ):
                    broke("held", f"{pid} is held for another request {_hm(h.start)}-{_hm(h.end)}")
                    break
            if p.start < now:
                continue
            blocks = busy.get(pid, ())
            if isinstance(blocks, Unknown):
                broke("calendar_unknown", f"{pid}'s calendar could not be read ({blocks.reason})")
            else:
                clash = next(((s, e) for s, e in blocks if lo < e and s < hi), None)
                if clash:
                    broke("busy", f"{pid}'s calendar is busy {_hm(clash[0])}-{_hm(clash[1])}")
            if any(p.start < e and s < p.end for s, e in person.out_of_office):
                broke("out_of_office", f"{pid} is out of office")
            if person.working_hours or person.overrides:
                window = (epoch(p.start), epoch(p.end))
                if not any(a <= window[0] and window[1] <= b for a, b in working_intervals(person, window)):
                    broke("working_hours", f"{_hm(p.start)}-{_hm(p.end)} is outside {pid}'s working hours")
            days, weeks = cap_counts(person, committed, holds, hold_key)
            local = p.start.astimezone(zone(person.zone)).date()
            monday = local - timedelta(days=local.weekday())
            if person.daily_cap is not None and days[local] >= person.daily_cap:
                broke(
                    "daily_cap",
                    f"{pid} already has {days[local]} interview(s) on {local} (daily cap {person.daily_cap})",
                )
            if person.weekly_cap is not None and weeks[monday] >= person.weekly_cap:
                broke(
                    "weekly_cap",
                    f"{pid} already has {weeks[monday]} interview(s) in the week of {monday} "
                    f"(weekly cap {person.weekly_cap})",
                )
        committed.append(
            Booking(
                p.label or f"placements[{n}]",
                p.interviewer_ids,
                p.start,
                p.end,
                p.buffer_before,
                p.buffer_after,
            )
        )
    return out
