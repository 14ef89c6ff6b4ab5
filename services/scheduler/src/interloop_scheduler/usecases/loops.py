"""Interview loops: several sessions planned together (CP-SAT, off the event loop), and booked as one:
every session in one transaction, all or none, by a coordinator (BookLoop) or by the candidate through a
loop link (GetLinkSlots offers loop options, ConfirmBooking books the chosen one)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import asyncpg
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.errors import ConcurrentChange, Conflict, FieldViolations, NotFound

from interloop_scheduler.domain.availability import rules_from
from interloop_scheduler.domain.loops import (
    Loop,
    LoopOption,
    LoopPlan,
    LoopRules,
    ScheduledSession,
    check_choice,
    plan_loop,
)
from interloop_scheduler.domain.model import SchedulingError
from interloop_scheduler.domain.policy import Placement, Violation
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store import bookings as booking_store
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store import links as link_store
from interloop_scheduler.store.bookings import BookingRow
from interloop_scheduler.store.links import LinkRow
from interloop_scheduler.usecases.availability import scheduling_error
from interloop_scheduler.usecases.bookings import (
    Invites,
    Override,
    RulesBroken,
    announce_scheduled,
    enforce,
    invites,
    overridden,
)
from interloop_scheduler.usecases.interviewers import require_known
from interloop_scheduler.usecases.requests import refuse_closed

_PAD = timedelta(days=8)  # caps count whole local days and ISO weeks around the window
_ALTERNATIVES_SECONDS = 2.0  # a conflict's fresh options: a short solve, the caller is waiting


async def propose_loop(
    pool: asyncpg.Pool, tenant_id: str, loop: Loop, window: tuple[datetime, datetime], rules: LoopRules
) -> LoopPlan:
    now = utc_now()
    async with tenant_tx(pool, tenant_id) as conn:
        ids = sorted({p for s in loop.sessions for p in (*s.pool, *s.fixed)})
        rows = await require_known(conn, tenant_id, ids, "sessions")
        for t in {s.interview_type for s in loop.sessions if s.allow_shadow and s.interview_type}:
            rows.update(await interviewer_store.with_training(conn, tenant_id, t))
        everyone = sorted(rows)
        lo, hi = window[0] - _PAD, window[1] + _PAD
        blocks = await interviewer_store.busy_blocks(conn, tenant_id, everyone, lo, hi)
        bookings, holds = await booking_store.commitments(conn, tenant_id, everyone, lo, hi)
        load = await booking_store.load_counts(conn, tenant_id, everyone, window[0], window[1])
    try:
        interviewers = [interviewer_store.to_domain(r) for r in rows.values()]
        # CP-SAT runs off the event loop: other RPCs keep being served while it searches.
        return await asyncio.to_thread(
            plan_loop,
            loop=loop,
            interviewers=interviewers,
            busy=interviewer_store.busy_map(rows, blocks),
            window=window,
            now=now,
            rules=rules,
            bookings=bookings,
            holds=holds,
            load=load,
        )
    except SchedulingError as exc:
        raise scheduling_error(exc) from None


@dataclass(frozen=True)
class SessionBooking:
    session_id: str
    placement: Placement
    interview_type: str = ""


class LoopConflict(ConcurrentChange):
    """ABORTED: the loop could not be booked (nothing was): the first session that failed, the rules it
    broke, and fresh options when there is a proposal to solve again (the servicer sends a `LoopConflict`
    detail)."""

    def __init__(
        self, message: str, session_id: str, rules: list[str], alternatives: list[LoopOption]
    ) -> None:
        super().__init__(message)
        self.session_id, self.rules, self.alternatives = session_id, rules, alternatives


async def _write(
    conn: asyncpg.Connection,
    settings: SchedulerSettings,
    tenant_id: str,
    sessions: list[SessionBooking],
    candidate: dict[str, str],
    override: Override | None,
    link_id: uuid.UUID | None = None,
) -> list[BookingRow]:
    """Every session under the locks of all their interviewers: checked together (a loop's sessions
    share caps and never overlap, buffers included), then written with their events; RulesBroken if any
    session fails, and the caller's transaction then books none."""
    let_through = await enforce(conn, tenant_id, [s.placement for s in sessions], override=override)
    loop_id = uuid.uuid4()
    rows = []
    for s in sessions:
        p = s.placement
        try:
            row = await booking_store.insert_booking(
                conn,
                tenant_id=tenant_id,
                interview_type=s.interview_type,
                interviewer_ids=list(p.interviewer_ids),
                start=p.start,
                end=p.end,
                buffer_before=p.buffer_before,
                buffer_after=p.buffer_after,
                loop_id=loop_id,
                loop_session_id=s.session_id,
                link_id=link_id,
                **candidate,  # type: ignore[arg-type]
                **overridden(override, let_through, s.session_id),
            )
        except booking_store.DoubleBooking as exc:  # a writer without the locks: the constraint holds
            raise RulesBroken([Violation("double_booking", "", exc.detail, s.session_id)]) from None
        await announce_scheduled(conn, settings, tenant_id, row)
        rows.append(row)
    return sorted(rows, key=lambda r: r.start)


def _conflict(exc: RulesBroken, alternatives: list[LoopOption]) -> LoopConflict:
    failed = exc.violations[0].label
    broke = [v for v in exc.violations if v.label == failed]
    message = "; ".join(str(v) for v in broke)
    return LoopConflict(
        f"loop not booked (nothing was): {message}", failed, sorted({v.rule for v in broke}), alternatives
    )


async def book_loop(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str,
    sessions: list[SessionBooking],
    *,
    candidate: dict[str, str],
    override: Override | None = None,
    proposal: tuple[Loop, tuple[datetime, datetime], LoopRules] | None = None,
) -> tuple[uuid.UUID, list[BookingRow]]:
    """A coordinator's loop: every session in one transaction, all or none."""
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            rows = await _write(conn, settings, tenant_id, sessions, candidate, override)
        assert rows[0].loop_id is not None
        return rows[0].loop_id, rows
    except RulesBroken as exc:
        alternatives: list[LoopOption] = []
        if proposal is not None:
            loop, window, loop_rules = proposal
            quick = replace(loop_rules, time_limit=min(loop_rules.time_limit, _ALTERNATIVES_SECONDS))
            alternatives = (await propose_loop(pool, tenant_id, loop, window, quick)).options
        raise _conflict(exc, alternatives) from None


# -- a whole loop through one scheduling link


def link_loop_rules(settings: SchedulerSettings, link: LinkRow, zone: str) -> LoopRules:
    """A loop link's solver rules from its slot settings (0 or missing = the default)."""
    rules = rules_from(link.settings, 1, zone, settings.link_horizon_days)
    return LoopRules(
        step=rules.step,
        candidate_zone=zone,
        buffer_before=rules.buffer_before,
        buffer_after=rules.buffer_after,
        min_notice=rules.min_notice,
        horizon=rules.horizon,
        time_limit=min(settings.loop_time_limit_seconds, _ALTERNATIVES_SECONDS),
    )


async def link_loop_options(
    pool: asyncpg.Pool, settings: SchedulerSettings, tenant_id: str, link: LinkRow, zone: str
) -> LoopPlan:
    """The loop options a loop link offers now (within its horizon)."""
    loop = link_store.loop_of(link.settings)
    assert loop is not None
    rules = link_loop_rules(settings, link, zone)
    now = utc_now()
    assert rules.horizon is not None
    return await propose_loop(pool, tenant_id, loop, (now, now + rules.horizon), rules)


async def confirm_link_loop(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str,
    link_id: uuid.UUID,
    chosen: list[ScheduledSession],
    candidate_time_zone: str,
) -> tuple[list[BookingRow], list[Invites]]:
    """The candidate books every session of the option they chose, in one transaction (all or none); a
    retried confirmation answers the same bookings. A conflict offers the link's fresh options."""
    link: LinkRow | None = None
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            link = await link_store.get_link(conn, tenant_id, link_id, for_update=True)
            loop = link_store.loop_of(link.settings) if link is not None else None
            if link is None or loop is None:
                raise NotFound("scheduling link not found (or not a loop link)")
            refuse_closed(link)
            if link.booking_id is not None:
                rows = await _booked_again(conn, tenant_id, link.booking_id, chosen)
                return rows, [await invites(conn, settings, tenant_id, r, "REQUEST") for r in rows]
            problems = check_choice(loop, chosen, candidate_time_zone or "UTC")
            if problems:
                raise FieldViolations(problems)
            rules = link_loop_rules(settings, link, candidate_time_zone or "UTC")
            types = {s.id: s.interview_type for s in loop.sessions}
            sessions = [
                SessionBooking(
                    c.session_id,
                    Placement(
                        c.interviewers, c.start, c.end, rules.buffer_before, rules.buffer_after, c.session_id
                    ),
                    types[c.session_id],
                )
                for c in chosen
            ]
            candidate = {
                "candidate_id": link.candidate_id,
                "application_id": link.application_id,
                "job_id": link.job_id,
                "round": link.round,
                "candidate_email": link.candidate_email,
                "candidate_name": link.candidate_name,
                "candidate_time_zone": candidate_time_zone,
            }
            rows = await _write(conn, settings, tenant_id, sessions, candidate, None, link_id=link.id)
            await link_store.set_link_booking(conn, tenant_id, link.id, rows[0].id)
            return rows, [await invites(conn, settings, tenant_id, r, "REQUEST") for r in rows]
    except RulesBroken as exc:
        assert link is not None
        plan = await link_loop_options(pool, settings, tenant_id, link, candidate_time_zone or "UTC")
        raise _conflict(exc, plan.options) from None


async def _booked_again(
    conn: asyncpg.Connection, tenant_id: str, booking_id: uuid.UUID, chosen: list[ScheduledSession]
) -> list[BookingRow]:
    existing = await booking_store.get_booking(conn, tenant_id, booking_id)
    if existing is not None and existing.loop_id is not None and existing.status == "scheduled":
        rows = await booking_store.loop_bookings(conn, tenant_id, existing.loop_id)
        if {(r.loop_session_id, r.start) for r in rows} == {(c.session_id, c.start) for c in chosen}:
            return rows  # a retried confirmation: the same answer again
    raise Conflict("booking: already booked through this link; cancel it to choose again")
