"""Interview loops: several sessions planned together (CP-SAT, off the event loop)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import asyncpg
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx

from interloop_scheduler.domain.loops import Loop, LoopPlan, LoopRules, plan_loop
from interloop_scheduler.domain.model import SchedulingError
from interloop_scheduler.store import bookings as booking_store
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.usecases.availability import scheduling_error
from interloop_scheduler.usecases.interviewers import require_known

_PAD = timedelta(days=8)  # caps count whole local days and ISO weeks around the window


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
