"""Interview loops: several sessions planned together (CP-SAT, off the event loop), and booked as one:
every session in one transaction, all or none."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import asyncpg
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.errors import ConcurrentChange

from interloop_scheduler.domain.loops import Loop, LoopOption, LoopPlan, LoopRules, plan_loop
from interloop_scheduler.domain.model import SchedulingError
from interloop_scheduler.domain.policy import Placement
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store import bookings as booking_store
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store.bookings import BookingRow
from interloop_scheduler.usecases import calendar_writes
from interloop_scheduler.usecases.availability import scheduling_error
from interloop_scheduler.usecases.bookings import Override, RulesBroken, enforce, overridden
from interloop_scheduler.usecases.emit import booking_event
from interloop_scheduler.usecases.interviewers import require_known

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
    broke, and fresh options when the proposal came along (the servicer sends a `LoopConflict` detail)."""

    def __init__(
        self, message: str, session_id: str, rules: list[str], alternatives: list[LoopOption]
    ) -> None:
        super().__init__(message)
        self.session_id, self.rules, self.alternatives = session_id, rules, alternatives


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
    """Every session in one transaction, under the locks of all their interviewers: checked together
    (a loop's sessions share caps and never overlap, buffers included), then written; all or none."""
    loop_id = uuid.uuid4()
    failed, rules, message = "", [], ""
    current = ""
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            let_through = await enforce(conn, tenant_id, [s.placement for s in sessions], override=override)
            rows = []
            for s in sessions:
                current = s.session_id
                p = s.placement
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
                    **candidate,  # type: ignore[arg-type]
                    **overridden(override, let_through, s.session_id),
                )
                await booking_event(
                    conn, tenant_id, "interview.scheduled", row, organizer=settings.organizer_email
                )
                await calendar_writes.stage_booking(conn, tenant_id, row)
                rows.append(row)
        return loop_id, sorted(rows, key=lambda r: r.start)
    except RulesBroken as exc:
        failed = exc.violations[0].label
        rules = sorted({v.rule for v in exc.violations if v.label == failed})
        message = "; ".join(str(v) for v in exc.violations if v.label == failed)
    except booking_store.DoubleBooking as exc:  # a writer that skipped the locks: the constraint still holds
        failed, rules, message = (
            current,
            ["double_booking"],
            f"double_booking: session {current}: {exc.detail}",
        )
    alternatives: list[LoopOption] = []
    if proposal is not None:
        loop, window, loop_rules = proposal
        quick = replace(loop_rules, time_limit=min(loop_rules.time_limit, _ALTERNATIVES_SECONDS))
        alternatives = (await propose_loop(pool, tenant_id, loop, window, quick)).options
    raise LoopConflict(f"loop not booked (nothing was): {message}", failed, rules, alternatives)
