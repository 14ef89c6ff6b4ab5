"""Self-scheduling through a link: the candidate's token, the link's open slots, holding a slot and
confirming a booking (retried confirmations answer the same booking again). A loop link offers loop
options instead and books the chosen one as a whole (usecases.loops)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.erasure import is_erased
from interloop_common.errors import Conflict, FieldViolations, NotFound, Unauthenticated

from interloop_scheduler.domain.availability import Availability, Requirement, SlotRules
from interloop_scheduler.domain.links import InvalidLink, verify_link_token
from interloop_scheduler.domain.loops import LoopOption
from interloop_scheduler.domain.policy import Placement
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store import bookings as booking_store
from interloop_scheduler.store import links as link_store
from interloop_scheduler.store.bookings import BookingRow, HoldRow
from interloop_scheduler.store.links import LinkRow
from interloop_scheduler.usecases import availability, loops
from interloop_scheduler.usecases.bookings import (
    Invites,
    RulesBroken,
    announce_scheduled,
    cancel_in,
    enforce,
    invites,
    link_rules,
)
from interloop_scheduler.usecases.interviewers import require_known
from interloop_scheduler.usecases.requests import link_key, open_request, refuse_closed

_ALREADY_BOOKED = "booking: already booked through this link; reschedule or cancel it"


def verify(settings: SchedulerSettings, token: str) -> tuple[str, uuid.UUID]:
    """(tenant, link id) of a candidate's token."""
    try:
        payload = verify_link_token(token, link_key(settings), utc_now())
        return str(payload["t"]), uuid.UUID(str(payload["l"]))
    except InvalidLink as exc:
        if exc.field == "expires_at":
            raise Conflict("expires_at: the scheduling link has expired") from None
        raise Unauthenticated(f"token: {exc.message}") from None
    except (KeyError, ValueError):
        raise Unauthenticated("token: payload is not a scheduling link") from None


async def _link(
    conn: asyncpg.Connection,
    tenant_id: str,
    link_id: uuid.UUID,
    *,
    for_update: bool = False,
    panel_only: bool = False,
) -> LinkRow:
    link = await link_store.get_link(conn, tenant_id, link_id, for_update=for_update)
    if link is None:
        raise NotFound("scheduling link not found")
    refuse_closed(link)
    if panel_only and link_store.loop_of(link.settings) is not None:
        raise FieldViolations(
            [("loop_sessions", "this link books a whole loop: confirm an option's sessions")]
        )
    return link


async def create_link(
    pool: asyncpg.Pool, settings: SchedulerSettings, tenant_id: str, **request: object
) -> tuple[LinkRow, str, str]:
    """A coordinator opens a scheduling request; ``request`` holds ``open_request``'s fields."""
    panel: list[dict] = request["panel"]  # type: ignore[assignment]
    loop = request["slot_settings"].get("loop") or {"sessions": []}  # type: ignore[attr-defined]
    ids = {i for p in panel for i in p["interviewer_ids"]}
    ids |= {i for s in loop["sessions"] for i in (*s["pool"], *s["fixed"])}
    async with tenant_tx(pool, tenant_id) as conn:
        await require_known(conn, tenant_id, sorted(ids), "loop" if loop["sessions"] else "panel")
        if await is_erased(conn, tenant_id, str(request.get("candidate_id", ""))):
            raise Conflict(f"candidate {request['candidate_id']!r} was erased: nothing is scheduled for them")
        return await open_request(conn, settings, tenant_id, utc_now(), **request)  # type: ignore[arg-type]


async def booked_through(pool: asyncpg.Pool, tenant_id: str, link_id: uuid.UUID) -> tuple[str, uuid.UUID]:
    """(tenant, booking id) a candidate's token may change."""
    async with tenant_tx(pool, tenant_id) as conn:
        link = await _link(conn, tenant_id, link_id)
    if link.booking_id is None:
        raise Conflict("booking: nothing booked through this link")
    return tenant_id, link.booking_id


async def link_slots(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str,
    link_id: uuid.UUID,
    zone: str,
    window: tuple[datetime, datetime] | None,
) -> tuple[LinkRow, BookingRow | None, Availability, HoldRow | None, list[LoopOption]]:
    """A panel link's open slots, or a loop link's ranked options (then slots is empty)."""
    now = utc_now()
    async with tenant_tx(pool, tenant_id) as conn:
        link = await _link(conn, tenant_id, link_id)
        booking = None
        if link.booking_id is not None:
            booking = await booking_store.get_booking(conn, tenant_id, link.booking_id)
        if link_store.loop_of(link.settings) is not None:
            plan = await loops.link_loop_options(pool, settings, tenant_id, link, zone)
            reasons = (plan.reason,) if plan.reason else ()
            return link, booking, Availability([], plan.unknown, reasons), None, plan.options
        rules = link_rules(settings, link, zone)
        assert rules.horizon is not None
        found, _ = await availability.availability(
            conn,
            tenant_id,
            link_store.requirements(link.panel),
            window or (now, now + rules.horizon),
            rules,
            now,
            hold_key=str(link.id),
            limit=500,
        )
        hold = await booking_store.active_hold_of_link(conn, tenant_id, link.id)
    return link, booking, found, hold, []


async def _conflict(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str,
    reqs: list[Requirement],
    rules: SlotRules | None,
    link_id: uuid.UUID,
    message: str,
) -> availability.SlotConflict:
    assert rules is not None
    offered = await availability.alternatives(
        pool,
        tenant_id,
        reqs,
        rules,
        str(link_id),
        default_horizon=timedelta(days=settings.link_horizon_days),
    )
    return availability.SlotConflict(message, offered)


async def hold_slot(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str,
    link_id: uuid.UUID,
    start: datetime,
    ttl: timedelta,
) -> HoldRow:
    reqs: list[Requirement] = []
    rules: SlotRules | None = None
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            link = await _link(conn, tenant_id, link_id, for_update=True, panel_only=True)
            if link.booking_id is not None:
                raise Conflict(_ALREADY_BOOKED)
            reqs, rules = link_store.requirements(link.panel), link_rules(settings, link)
            begin, end, who = await availability.slot_at(
                conn, tenant_id, reqs, start, rules, utc_now(), hold_key=str(link.id)
            )
            return await booking_store.insert_hold(
                conn,
                tenant_id,
                link.id,
                who,
                begin,
                end,
                ttl,
                buffers=(rules.buffer_before, rules.buffer_after),
            )
    except (availability.SlotTaken, booking_store.DoubleBooking):
        message = "slot: no longer available; choose another"
        raise await _conflict(pool, settings, tenant_id, reqs, rules, link_id, message) from None


async def release_hold(pool: asyncpg.Pool, tenant_id: str, link_id: uuid.UUID, hold_id: uuid.UUID) -> bool:
    async with tenant_tx(pool, tenant_id) as conn:
        return await booking_store.release_link_holds(conn, tenant_id, link_id, hold_id) > 0


async def confirm_booking(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str,
    link_id: uuid.UUID,
    *,
    hold_id: uuid.UUID | None,
    start: datetime | None,
    candidate_time_zone: str,
) -> tuple[BookingRow, Invites]:
    reqs: list[Requirement] = []
    rules: SlotRules | None = None
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            link = await _link(conn, tenant_id, link_id, for_update=True, panel_only=True)
            reqs, rules = link_store.requirements(link.panel), link_rules(settings, link)
            if link.booking_id is not None:
                existing = await booking_store.get_booking(conn, tenant_id, link.booking_id)
                hold = await booking_store.get_hold(conn, tenant_id, hold_id) if hold_id else None
                same = (
                    existing is not None
                    and existing.status == "scheduled"
                    and (
                        (hold is not None and hold.booking_id == existing.id)
                        or (start is not None and start == existing.start)
                    )
                )
                if not same:
                    raise Conflict(_ALREADY_BOOKED)
                assert existing is not None
                booking = existing  # a retried confirmation: the same answer again
            else:
                booking = await _confirm(
                    conn, settings, tenant_id, link, hold_id, start, candidate_time_zone, rules, reqs
                )
            sent = await invites(conn, settings, tenant_id, booking, "REQUEST")
    except (availability.SlotTaken, booking_store.DoubleBooking, RulesBroken):
        message = "slot: taken by someone else; choose another"
        raise await _conflict(pool, settings, tenant_id, reqs, rules, link_id, message) from None
    return booking, sent


async def _confirm(
    conn: asyncpg.Connection,
    settings: SchedulerSettings,
    tenant_id: str,
    link: LinkRow,
    hold_id: uuid.UUID | None,
    start: datetime | None,
    candidate_time_zone: str,
    rules: SlotRules,
    reqs: list[Requirement],
) -> BookingRow:
    now = utc_now()
    who: list[str] | None = None
    if hold_id is not None:
        hold = await booking_store.get_hold(conn, tenant_id, hold_id, for_update=True)
        if hold is None or hold.link_id != link.id:
            raise NotFound("hold_id: no such hold for this link")
        start = hold.start
        if hold.status == "active" and hold.expires_at > now:
            # The hold protected the slot against overlaps; its commitments go over to the booking, and
            # what a hold cannot protect (caps, working hours, calendars changed since) is checked again.
            await booking_store.release_link_holds(conn, tenant_id, link.id, hold.id, status="confirmed")
            who, end = hold.interviewer_ids, hold.end
            placement = Placement(tuple(who), start, end, rules.buffer_before, rules.buffer_after)
            await enforce(conn, tenant_id, [placement], hold_key=str(link.id))
    else:
        # The candidate's own earlier hold must not stand in the way of the time they now confirm.
        await booking_store.release_link_holds(conn, tenant_id, link.id)
    assert start is not None
    if who is None:  # no live hold: the slot must still be free
        start, end, who = await availability.slot_at(
            conn, tenant_id, reqs, start, rules, now, hold_key=str(link.id)
        )
    booking = await booking_store.insert_booking(
        conn,
        tenant_id=tenant_id,
        candidate_id=link.candidate_id,
        application_id=link.application_id,
        job_id=link.job_id,
        round=link.round,
        interview_type=link.settings.get("interview_type", ""),
        interviewer_ids=who,
        start=start,
        end=end,
        link_id=link.id,
        candidate_email=link.candidate_email,
        candidate_name=link.candidate_name,
        candidate_time_zone=candidate_time_zone,
        buffer_before=rules.buffer_before,
        buffer_after=rules.buffer_after,
    )
    await booking_store.release_link_holds(conn, tenant_id, link.id, status="released")
    if hold_id is not None:
        await booking_store.attach_hold(conn, tenant_id, hold_id, booking.id)
    await link_store.set_link_booking(conn, tenant_id, link.id, booking.id)
    await announce_scheduled(conn, settings, tenant_id, booking)
    return booking


async def close_application(
    conn: asyncpg.Connection,
    settings: SchedulerSettings,
    tenant_id: str,
    application_id: str,
    *,
    withdrawn: bool,
    reason: str,
) -> tuple[list[uuid.UUID], list[BookingRow]]:
    """The ATS closed the application (rejected, or the candidate withdrew), in the caller's transaction:
    its links close (their pages say so) and let go of their holds, and its interviews that have not
    started are cancelled the usual way, the panel told and the candidate by the tenant's policy
    (``SchedulerSettings.tells_candidate``). Interviews that started or ended are history: left alone.
    Returns (links closed, bookings cancelled); a second delivery finds nothing left to close."""
    why = "the candidate withdrew" if withdrawn else "the application was rejected"
    closed = await link_store.close_for_application(conn, tenant_id, application_id, why)
    for link_id in closed:
        await booking_store.release_link_holds(conn, tenant_id, link_id)
    told = settings.tells_candidate(tenant_id, withdrawn=withdrawn)
    cancelled = []
    for b in await booking_store.upcoming_for_application(conn, tenant_id, application_id, utc_now()):
        booking, _ = await cancel_in(
            conn,
            settings,
            tenant_id,
            b.id,
            # the ATS's reason is internal ("Too Junior"): for the panel only, never in the candidate's mail
            reason=f"{why}: {reason}" if reason and not told else why,
            by_candidate=False,
            candidate_not_told=not told,
        )
        cancelled.append(booking)
    return closed, cancelled
