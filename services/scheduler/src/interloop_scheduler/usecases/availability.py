"""Availability from the database: interviewers' profiles, calendar blocks (unknown calendars as
``Unknown``), bookings and holds, fed to the pure ``find_slots``; and the conflict (``SlotConflict``, with
fresh alternative slots) when a slot was taken."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

import asyncpg
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.errors import ConcurrentChange, FieldViolations

from interloop_scheduler.domain.availability import Availability, Requirement, Slot, SlotRules, find_slots
from interloop_scheduler.domain.model import Booking, SchedulingError
from interloop_scheduler.store import bookings as booking_store
from interloop_scheduler.store import interviewers as interviewer_store

# Caps count the bookings of whole local days and ISO weeks around the window.
_CAP_PAD = timedelta(days=8)


class SlotTaken(Exception):
    """The slot is no longer free (someone else's booking or hold, a calendar change, a cap)."""


class SlotConflict(ConcurrentChange):
    """ABORTED: someone else took the slot first; ``alternatives`` are fresh slots to offer instead
    (the servicer sends them as a `SlotConflict` detail, REST as 409 problem+json)."""

    def __init__(self, message: str, alternatives: list[Slot]) -> None:
        super().__init__(message)
        self.alternatives = alternatives


def scheduling_error(exc: SchedulingError, prefix: str = "") -> FieldViolations:
    return FieldViolations([(f"{prefix}{exc.field}", exc.message)])


async def availability(
    conn: asyncpg.Connection,
    tenant_id: str,
    reqs: list[Requirement],
    window: tuple[datetime, datetime],
    rules: SlotRules,
    now: datetime,
    *,
    hold_key: str | None = None,
    exclude_booking: uuid.UUID | None = None,
    limit: int | None = None,
) -> tuple[Availability, list[Booking]]:
    ids = sorted({p for r in reqs for p in r.pool})
    rows = await interviewer_store.get_many(conn, tenant_id, ids)
    missing = [i for i in ids if i not in rows]
    if missing:
        raise FieldViolations([("panel", f"unknown interviewers: {', '.join(missing)}")])
    lo, hi = window[0] - _CAP_PAD, window[1] + _CAP_PAD
    blocks = await interviewer_store.busy_blocks(conn, tenant_id, ids, lo, hi)
    bookings, holds = await booking_store.commitments(
        conn, tenant_id, ids, lo, hi, exclude_booking=exclude_booking
    )
    try:
        found = find_slots(
            interviewers=[interviewer_store.to_domain(r) for r in rows.values()],
            requirements=reqs,
            busy=interviewer_store.busy_map(rows, blocks),
            window=window,
            now=now,
            rules=rules,
            bookings=bookings,
            holds=holds,
            hold_key=hold_key,
            limit=limit,
        )
    except SchedulingError as exc:
        raise scheduling_error(exc) from None
    return found, bookings


def pick(slot: Slot, reqs: list[Requirement], bookings: list[Booking]) -> list[str]:
    """Who attends: everyone of an all-of requirement, the k least loaded of a k-of-n pool."""
    load: Counter[str] = Counter(i for b in bookings for i in b.interviewer_ids)
    chosen: list[str] = []
    for req, free in zip(reqs, slot.available, strict=True):
        chosen += sorted(free, key=lambda i: (load[i], i))[: req.needed]
    return sorted(chosen)


async def slot_at(
    conn: asyncpg.Connection,
    tenant_id: str,
    reqs: list[Requirement],
    start: datetime,
    rules: SlotRules,
    now: datetime,
    *,
    hold_key: str | None = None,
    exclude_booking: uuid.UUID | None = None,
) -> tuple[datetime, datetime, list[str]]:
    """The interviewers for a slot starting exactly at ``start`` (SlotTaken if it is not free), read under
    the interviewers' transaction locks: the answer holds until the caller's transaction ends, so two
    writers cannot both count the same cap as unused."""
    await booking_store.lock_interviewers(conn, tenant_id, sorted({p for r in reqs for p in r.pool}))
    exact = SlotRules(
        duration=rules.duration,
        step=timedelta(minutes=1),
        buffer_before=rules.buffer_before,
        buffer_after=rules.buffer_after,
        min_notice=rules.min_notice,
        horizon=rules.horizon,
        candidate_zone="UTC",
        align_to=start.time().replace(second=0, microsecond=0, tzinfo=None),
    )
    found, bookings = await availability(
        conn,
        tenant_id,
        reqs,
        (start, start + rules.duration),
        exact,
        now,
        hold_key=hold_key,
        exclude_booking=exclude_booking,
        limit=1,
    )
    if not found.slots or found.slots[0].start != start:
        raise SlotTaken("; ".join(found.reasons) or "the slot is no longer free")
    slot = found.slots[0]
    return slot.start, slot.end, pick(slot, reqs, bookings)


async def alternatives(
    pool: asyncpg.Pool,
    tenant_id: str,
    reqs: list[Requirement],
    rules: SlotRules,
    hold_key: str | None,
    *,
    default_horizon: timedelta,
    exclude_booking: uuid.UUID | None = None,
    n: int = 5,
) -> list[Slot]:
    """Fresh slots (read after the conflict, in a new transaction) to offer instead."""
    now = utc_now()
    horizon = rules.horizon or default_horizon
    async with tenant_tx(pool, tenant_id) as conn:
        found, _ = await availability(
            conn,
            tenant_id,
            reqs,
            (now, now + horizon),
            rules,
            now,
            hold_key=hold_key,
            exclude_booking=exclude_booking,
            limit=n,
        )
    return found.slots


async def find_open_slots(
    pool: asyncpg.Pool,
    tenant_id: str,
    reqs: list[Requirement],
    window: tuple[datetime, datetime],
    rules: SlotRules,
    *,
    limit: int,
) -> Availability:
    """FindSlots: a coordinator's question, answered from one consistent read."""
    async with tenant_tx(pool, tenant_id) as conn:
        found, _ = await availability(conn, tenant_id, reqs, window, rules, utc_now(), limit=limit)
    return found
