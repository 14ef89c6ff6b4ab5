"""Bookings: booked directly by a coordinator, moved, cancelled and completed; each change announced as an
`interview.*` event with its iCalendar invite, and the interviewers' calendar events staged, in the same
transaction.

Every new booking is checked by ``enforce`` inside the transaction that writes it, under the interviewers'
locks: overlaps with buffers, working hours, calendars, daily and weekly caps (holds count). A coordinator
may override the scheduling rules with a reason, recorded on the booking; never an overlap."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from interloop.events.v1 import interview_pb2
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.errors import AlreadyExists, Conflict, NotFound

from interloop_scheduler.domain import policy as policy_domain
from interloop_scheduler.domain.availability import Requirement, SlotRules, all_of, rules_from
from interloop_scheduler.domain.model import SchedulingError
from interloop_scheduler.domain.policy import OVERLAPS, OVERRIDABLE, Placement, Violation, check_placements
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store import bookings as booking_store
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store import links as link_store
from interloop_scheduler.store.bookings import BookingRow
from interloop_scheduler.usecases import availability, calendar_writes
from interloop_scheduler.usecases.availability import scheduling_error
from interloop_scheduler.usecases.emit import booking_event, invitation
from interloop_scheduler.usecases.interviewers import require_known
from interloop_scheduler.usecases.requests import link_token, link_url


@dataclass(frozen=True)
class Invites:
    """The iCalendar object of a change and who it is addressed to."""

    ics: bytes
    method: str
    attendees: list[interview_pb2.Attendee]


@dataclass(frozen=True)
class Override:
    """A coordinator's decision to book despite the scheduling rules: why, and who decided."""

    reason: str
    by: str = ""


class RulesBroken(Exception):
    """The booking would break ``violations`` (each names the rule, the interviewer and the session)."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(str(v) for v in violations))
        self.violations = violations

    def refusal(self) -> AlreadyExists | Conflict:
        """ALREADY_EXISTS for an overlap (as the constraint answers), FAILED_PRECONDITION for the rest."""
        if any(v.rule in OVERLAPS for v in self.violations):
            return AlreadyExists(f"interviewer already booked: {self}")
        rules = ", ".join(sorted(OVERRIDABLE))
        return Conflict(f"{self} (an override with a reason may book despite {rules})")


_CAP_PAD = timedelta(days=8)  # caps count whole local days and ISO weeks around the booking


async def enforce(
    conn: asyncpg.Connection,
    tenant_id: str,
    placements: list[Placement],
    *,
    hold_key: str | None = None,
    exclude_booking: uuid.UUID | None = None,
    override: Override | None = None,
) -> list[Violation]:
    """Lock the interviewers (in id order, until the transaction ends), then check every placement against
    what is committed now; RulesBroken unless all pass or the override covers what broke. Returns what
    the override let through (to record on the bookings)."""
    ids = sorted({i for p in placements for i in p.interviewer_ids})
    # Expired holds go first: that UPDATE may wait on a hold row a confirmation has locked, and must not
    # wait while holding interviewer locks that confirmation needs next.
    await booking_store.release_expired(conn, tenant_id, ids)
    await booking_store.lock_interviewers(conn, tenant_id, ids)
    rows = await require_known(conn, tenant_id, ids, "interviewer_ids")
    lo = min(p.start - p.buffer_before for p in placements) - _CAP_PAD
    hi = max(p.end + p.buffer_after for p in placements) + _CAP_PAD
    blocks = await interviewer_store.busy_blocks(conn, tenant_id, ids, lo, hi)
    bookings, holds = await booking_store.commitments(
        conn, tenant_id, ids, lo, hi, exclude_booking=exclude_booking
    )
    try:
        found = check_placements(
            placements,
            {i: interviewer_store.to_domain(r) for i, r in rows.items()},
            interviewer_store.busy_map(rows, blocks),
            bookings,
            holds,
            utc_now(),
            hold_key=hold_key,
        )
    except SchedulingError as exc:
        raise scheduling_error(exc) from None
    refused = [v for v in found if override is None or v.rule not in OVERRIDABLE]
    if refused:
        raise RulesBroken(refused)
    return found


def overridden(override: Override | None, let_through: list[Violation], label: str = "") -> dict:
    """The audit columns of a booking the override let break ``let_through``'s rules (none: no audit)."""
    rules = sorted({v.rule for v in let_through if v.label == label})
    if override is None or not rules:
        return {}
    return {"override_reason": override.reason, "override_by": override.by, "override_rules": tuple(rules)}


def booking_policy(settings: SchedulerSettings) -> policy_domain.BookingPolicy:
    return policy_domain.BookingPolicy(
        max_reschedules=settings.max_reschedules,
        reschedule_cutoff=timedelta(hours=settings.reschedule_cutoff_hours),
        cancel_cutoff=timedelta(hours=settings.cancel_cutoff_hours),
    )


def link_rules(settings: SchedulerSettings, link: link_store.LinkRow, zone: str = "UTC") -> SlotRules:
    return rules_from(link.settings, link.duration_minutes, zone, settings.link_horizon_days)


def manage_url(settings: SchedulerSettings, tenant_id: str, b: BookingRow) -> str:
    """The candidate's own page for a booking made through a link: reschedule or cancel it until the
    interview ends (a token of its own, so it outlives the scheduling request's expiry)."""
    if b.link_id is None:
        return ""
    valid_until = max(b.end, utc_now() + timedelta(hours=1))
    return link_url(settings, link_token(settings, tenant_id, b.link_id, valid_until))


async def announce_scheduled(
    conn: asyncpg.Connection, settings: SchedulerSettings, tenant_id: str, b: BookingRow
) -> None:
    """A new booking's `interview.scheduled` (with the candidate's manage link when booked through one)
    and the interviewers' calendar events, staged in the booking's transaction."""
    await booking_event(
        conn,
        tenant_id,
        "interview.scheduled",
        b,
        organizer=settings.organizer_email,
        manage_url=manage_url(settings, tenant_id, b),
    )
    await calendar_writes.stage_booking(conn, tenant_id, b)


async def invites(
    conn: asyncpg.Connection, settings: SchedulerSettings, tenant_id: str, b: BookingRow, method: str
) -> Invites:
    """One iCalendar object (stable UID, the booking's SEQUENCE) addressed to every attendee."""
    ics, who = await invitation(conn, tenant_id, b, settings.organizer_email, method)
    return Invites(ics, method, who)


async def schedule_interview(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str,
    *,
    override: Override | None = None,
    **booking: object,
) -> BookingRow:
    """A coordinator's booking of a known time, checked like any other (``enforce``) unless ``override``
    says why not; ``booking`` holds the columns of ``insert_booking``."""
    placement = Placement(
        tuple(booking["interviewer_ids"]),  # type: ignore[arg-type]
        booking["start"],  # type: ignore[arg-type]
        booking["end"],  # type: ignore[arg-type]
        booking.get("buffer_before", timedelta(0)),  # type: ignore[arg-type]
        booking.get("buffer_after", timedelta(0)),  # type: ignore[arg-type]
    )
    async with tenant_tx(pool, tenant_id) as conn:
        try:
            let_through = await enforce(conn, tenant_id, [placement], override=override)
        except RulesBroken as exc:
            raise exc.refusal() from None
        booking |= overridden(override, let_through)
        try:
            row = await booking_store.insert_booking(conn, tenant_id=tenant_id, **booking)  # type: ignore[arg-type]
        except booking_store.DoubleBooking as exc:
            raise AlreadyExists(f"interviewer already booked: {exc.detail}") from None
        await announce_scheduled(conn, settings, tenant_id, row)
    return row


async def reschedule(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str,
    booking_id: uuid.UUID,
    new_start: datetime,
    *,
    reason: str,
    candidate_time_zone: str,
    by_candidate: bool = False,
) -> tuple[BookingRow, Invites]:
    reqs: list[Requirement] = []
    rules: SlotRules | None = None
    hold_key: str | None = None
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            current = await booking_store.get_booking(conn, tenant_id, booking_id, for_update=True)
            if current is None:
                raise NotFound(f"booking {booking_id} not found")
            if by_candidate and current.loop_id is not None:
                raise Conflict("booking: a loop is moved as a whole: cancel it and choose another option")
            duration = current.end - current.start
            link = await link_store.get_link(conn, tenant_id, current.link_id) if current.link_id else None
            if link is not None:
                reqs, rules, hold_key = (
                    link_store.requirements(link.panel),
                    link_rules(settings, link),
                    str(link.id),
                )
            else:
                reqs = [all_of(*current.interviewer_ids)]
                rules = SlotRules(
                    duration=duration,
                    buffer_before=current.buffer_before,
                    buffer_after=current.buffer_after,
                    horizon=timedelta(days=settings.link_horizon_days),
                )
            state = policy_domain.BookingState(
                id=str(current.id),
                start=current.start,
                end=current.end,
                status=current.status,
                sequence=current.sequence,
                reschedules=current.reschedules,
            )
            try:
                policy_domain.reschedule(
                    state, new_start, new_start + duration, booking_policy(settings), utc_now()
                )
            except policy_domain.PolicyViolation as exc:
                raise Conflict(f"{exc.field}: {exc.message}") from None
            start, end, who = await availability.slot_at(
                conn,
                tenant_id,
                reqs,
                new_start,
                rules,
                utc_now(),
                hold_key=hold_key,
                exclude_booking=current.id,
            )
            if candidate_time_zone:
                await booking_store.set_candidate_zone(conn, tenant_id, current.id, candidate_time_zone)
            booking = await booking_store.move_booking(conn, tenant_id, current.id, who, start, end)
            await booking_event(
                conn,
                tenant_id,
                "interview.rescheduled",
                booking,
                reason,
                previous_start=current.start,
                organizer=settings.organizer_email,
                previous_interviewers=current.interviewer_ids,
                manage_url=manage_url(settings, tenant_id, booking),
            )
            await calendar_writes.stage_booking(conn, tenant_id, booking, current.interviewer_ids)
            sent = await invites(conn, settings, tenant_id, booking, "REQUEST")
    except (availability.SlotTaken, booking_store.DoubleBooking):
        assert rules is not None
        offered = await availability.alternatives(
            pool,
            tenant_id,
            reqs,
            rules,
            hold_key,
            default_horizon=timedelta(days=settings.link_horizon_days),
            exclude_booking=booking_id,
        )
        raise availability.SlotConflict(
            "start: that time is not available; choose another", offered
        ) from None
    return booking, sent


async def cancel(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str,
    booking_id: uuid.UUID,
    *,
    reason: str,
    by_candidate: bool,
) -> tuple[BookingRow, list[Invites]]:
    """Cancel a booking (METHOD:CANCEL invites); a candidate cancelling a loop cancels all of it."""
    async with tenant_tx(pool, tenant_id) as conn:
        return await cancel_in(
            conn, settings, tenant_id, booking_id, reason=reason, by_candidate=by_candidate
        )


async def cancel_in(
    conn: asyncpg.Connection,
    settings: SchedulerSettings,
    tenant_id: str,
    booking_id: uuid.UUID,
    *,
    reason: str,
    by_candidate: bool,
    candidate_not_told: bool = False,
) -> tuple[BookingRow, list[Invites]]:
    """``cancel`` in the caller's transaction; ``candidate_not_told`` marks the `interview.cancelled` for
    the panel's messages only (the ATS closed the application and the tenant tells the candidate itself)."""
    current = await booking_store.get_booking(conn, tenant_id, booking_id, for_update=True)
    if current is None:
        raise NotFound(f"booking {booking_id} not found")
    if current.status != "scheduled":
        raise Conflict(f"booking {booking_id} is {current.status}, not scheduled")
    if by_candidate:
        state = policy_domain.BookingState(
            id=str(current.id),
            start=current.start,
            end=current.end,
            status=current.status,
            sequence=current.sequence,
        )
        decision = policy_domain.can_cancel(state, booking_policy(settings), utc_now())
        if not decision.allowed:
            raise Conflict(f"{decision.field}: {decision.reason}")
    booking = await booking_store.set_status(conn, tenant_id, booking_id, "cancelled", release=True)
    assert booking is not None
    if booking.link_id is not None:  # the candidate may pick a new time while the link lasts
        await link_store.set_link_booking(conn, tenant_id, booking.link_id, None)
    sent = [await _cancelled(conn, settings, tenant_id, booking, reason, candidate_not_told)]
    if by_candidate and booking.loop_id is not None:  # a loop booked through a link goes as a whole
        for other in await booking_store.loop_bookings(conn, tenant_id, booking.loop_id):
            gone = await booking_store.set_status(conn, tenant_id, other.id, "cancelled", release=True)
            if gone is None:  # this one, or one already cancelled
                continue
            sent.append(await _cancelled(conn, settings, tenant_id, gone, reason, candidate_not_told))
    return booking, sent


async def _cancelled(
    conn: asyncpg.Connection,
    settings: SchedulerSettings,
    tenant_id: str,
    b: BookingRow,
    reason: str,
    candidate_not_told: bool,
) -> Invites:
    """A cancelled booking's `interview.cancelled`, its calendar events' removal, and its CANCEL invite."""
    await booking_event(
        conn,
        tenant_id,
        "interview.cancelled",
        b,
        reason,
        organizer=settings.organizer_email,
        candidate_not_told=candidate_not_told,
    )
    await calendar_writes.stage_booking(conn, tenant_id, b)
    return await invites(conn, settings, tenant_id, b, "CANCEL")


async def complete(
    pool: asyncpg.Pool, settings: SchedulerSettings, tenant_id: str, booking_id: uuid.UUID
) -> BookingRow:
    async with tenant_tx(pool, tenant_id) as conn:
        booking = await booking_store.set_status(conn, tenant_id, booking_id, "completed", release=False)
        if booking is None:
            current = await booking_store.get_booking(conn, tenant_id, booking_id)
            if current is None:
                raise NotFound(f"booking {booking_id} not found")
            raise Conflict(f"booking {booking_id} is {current.status}, not scheduled")
        await booking_event(
            conn, tenant_id, "interview.completed", booking, organizer=settings.organizer_email
        )
    return booking


async def list_bookings(
    pool: asyncpg.Pool, tenant_id: str, *, candidate_id: str, after: str | None, limit: int
) -> list[BookingRow]:
    async with tenant_tx(pool, tenant_id) as conn:
        return await booking_store.list_bookings(
            conn, tenant_id, candidate_id=candidate_id, after=after, limit=limit
        )
