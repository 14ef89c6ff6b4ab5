"""Bookings: booked directly by a coordinator, moved, cancelled and completed; each change announced as an
`interview.*` event with its iCalendar invite, and the interviewers' calendar events staged, in the same
transaction."""

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
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store import bookings as booking_store
from interloop_scheduler.store import links as link_store
from interloop_scheduler.store.bookings import BookingRow
from interloop_scheduler.usecases import availability, calendar_writes
from interloop_scheduler.usecases.emit import booking_event, invitation
from interloop_scheduler.usecases.interviewers import require_known
from interloop_scheduler.usecases.requests import link_token, link_url


@dataclass(frozen=True)
class Invites:
    """The iCalendar object of a change and who it is addressed to."""

    ics: bytes
    method: str
    attendees: list[interview_pb2.Attendee]


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


async def invites(
    conn: asyncpg.Connection, settings: SchedulerSettings, tenant_id: str, b: BookingRow, method: str
) -> Invites:
    """One iCalendar object (stable UID, the booking's SEQUENCE) addressed to every attendee."""
    ics, who = await invitation(conn, tenant_id, b, settings.organizer_email, method)
    return Invites(ics, method, who)


async def schedule_interview(
    pool: asyncpg.Pool, settings: SchedulerSettings, tenant_id: str, **booking: object
) -> BookingRow:
    """A coordinator's booking of a known time; ``booking`` holds the columns of ``insert_booking``."""
    ids = list(booking["interviewer_ids"])  # type: ignore[call-overload]
    async with tenant_tx(pool, tenant_id) as conn:
        await require_known(conn, tenant_id, ids, "interviewer_ids")
        try:
            row = await booking_store.insert_booking(conn, tenant_id=tenant_id, **booking)  # type: ignore[arg-type]
        except booking_store.DoubleBooking as exc:
            raise AlreadyExists(f"interviewer already booked: {exc.detail}") from None
        await booking_event(conn, tenant_id, "interview.scheduled", row, organizer=settings.organizer_email)
        await calendar_writes.stage_booking(conn, tenant_id, row)
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
) -> tuple[BookingRow, Invites]:
    reqs: list[Requirement] = []
    rules: SlotRules | None = None
    hold_key: str | None = None
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            current = await booking_store.get_booking(conn, tenant_id, booking_id, for_update=True)
            if current is None:
                raise NotFound(f"booking {booking_id} not found")
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
                rules = SlotRules(duration=duration, horizon=timedelta(days=settings.link_horizon_days))
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
) -> tuple[BookingRow, Invites]:
    async with tenant_tx(pool, tenant_id) as conn:
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
        await booking_event(
            conn, tenant_id, "interview.cancelled", booking, reason, organizer=settings.organizer_email
        )
        await calendar_writes.stage_booking(conn, tenant_id, booking)
        sent = await invites(conn, settings, tenant_id, booking, "CANCEL")
    return booking, sent


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
