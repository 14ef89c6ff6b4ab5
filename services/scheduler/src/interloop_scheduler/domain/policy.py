"""Booking policy: may a booking be rescheduled or cancelled now, and the booking state afterwards.
Each change bumps the invite SEQUENCE; reschedules are limited in number and closed near the start."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .model import SchedulingError, require_aware


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
