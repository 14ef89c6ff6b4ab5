"""Expected scorecards: interview events open, time and cancel the scorecard each panelist owes; those
still open past due are chased with `scorecard.overdue` (the sync service turns each into a reminder
email) a limited number of times, a set interval apart, until submitted or cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from interloop.events.v1 import scorecard_pb2 as epb
from interloop_common import outbox
from interloop_common.db import system_tx, tenant_tx
from interloop_common.rpc import ts

from interloop_scorecard.store import expected as store
from interloop_scorecard.usecases import SOURCE

# (interviewer id, email, name, IANA zone): who an overdue reminder goes to
Contact = tuple[str, str, str, str]


@dataclass(frozen=True)
class ExpectedPage:
    expected: list[asyncpg.Record]
    next_after: str  # "booking/interviewer" to continue after; "" on the last page


async def list_expected(
    pool: asyncpg.Pool,
    tenant_id: str,
    *,
    booking_id: str,
    interviewer_id: str,
    overdue_only: bool,
    after: str,
    limit: int,
) -> ExpectedPage:
    async with tenant_tx(pool, tenant_id) as conn:
        rows = await store.list_expected(
            conn,
            tenant_id,
            booking_id=booking_id,
            after=after,
            limit=limit + 1,
            overdue_only=overdue_only,
            interviewer_id=interviewer_id,
        )
    nxt = ""
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = f"{last['booking_id']}/{last['interviewer_id']}"
    return ExpectedPage(rows[:limit], nxt)


async def tenant_activity(pool: asyncpg.Pool, tenant_id: str) -> tuple[int, int]:
    """(interviews seen, scorecards submitted) for the tenant."""
    async with tenant_tx(pool, tenant_id) as conn:
        return await store.activity(conn, tenant_id)


# -- interview events (inside the inbox's tenant transaction) ------------------------------------------


async def interview_scheduled(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    booking_id: str,
    interviewer_ids: list[str],
    candidate_id: str,
    job_id: str,
    round: str,
    interview_end: datetime,
    contacts: list[Contact],
    feedback_due: timedelta,
) -> None:
    """Booked or moved: each panelist owes a scorecard, due `feedback_due` after the interview ends."""
    await store.open_expected(
        conn,
        tenant_id,
        booking_id=booking_id,
        interviewer_ids=interviewer_ids,
        candidate_id=candidate_id,
        job_id=job_id,
        round=round,
        interview_end=interview_end,
        due_at=interview_end + feedback_due,
    )
    await store.set_contacts(conn, tenant_id, booking_id, contacts)
    # moved onto another panel: whoever left it owes no scorecard
    await store.cancel_others(conn, tenant_id, booking_id, interviewer_ids)
    await store.bump_activity(conn, tenant_id, interviews=1)


async def interview_cancelled(conn: asyncpg.Connection, tenant_id: str, booking_id: str) -> None:
    await store.set_status_for_booking(conn, tenant_id, booking_id, "cancelled")


async def interview_completed(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    booking_id: str,
    interviewer_ids: list[str],
    candidate_id: str,
    job_id: str,
    round: str,
    ended_at: datetime | None,
    contacts: list[Contact],
    feedback_due: timedelta,
) -> None:
    """Held: each panelist's scorecard is due `feedback_due` after it ended. Without the panel or the end
    (an older producer), the rows interview.scheduled opened become due as they are."""
    if not interviewer_ids or ended_at is None:
        await store.set_status_for_booking(conn, tenant_id, booking_id, "due")
        return
    await store.complete(
        conn,
        tenant_id,
        booking_id=booking_id,
        interviewer_ids=interviewer_ids,
        candidate_id=candidate_id,
        job_id=job_id,
        round=round,
        ended_at=ended_at,
        due_at=ended_at + feedback_due,
    )
    await store.set_contacts(conn, tenant_id, booking_id, contacts)


# -- the chase -----------------------------------------------------------------------------------------


async def chase_overdue(pool: asyncpg.Pool, *, max_nudges: int, every: timedelta) -> int:
    """One round across tenants (system scope): claim what is owed a reminder and announce each, in one
    transaction, so a reminder is counted exactly when its event is staged. Returns how many."""
    async with system_tx(pool) as conn:
        rows = await store.claim_overdue(conn, max_nudges=max_nudges, every=every)
        for r in rows:
            await outbox.stage(
                conn,
                type="scorecard.overdue",
                source=SOURCE,
                tenant_id=r["tenant_id"],
                subject=f"expected-scorecard/{r['booking_id']}/{r['interviewer_id']}",
                payload=epb.ScorecardOverdue(
                    booking_id=r["booking_id"],
                    interviewer_id=r["interviewer_id"],
                    interviewer_email=r["interviewer_email"],
                    interviewer_name=r["interviewer_name"],
                    interviewer_time_zone=r["interviewer_time_zone"],
                    candidate_id=r["candidate_id"],
                    job_id=r["job_id"],
                    round=r["round"],
                    interview_end=ts(r["interview_end"]),
                    due_at=ts(r["due_at"]),
                    nudge=r["nudges"],
                ),
                key=f"{r['tenant_id']}/{r['booking_id']}",
            )
    return len(rows)
