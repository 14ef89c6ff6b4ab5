"""The events we write into interviewers' calendars: one row per booking and interviewer with the action
the calendar should see, claimed by the worker with a lease and settled with the vendor's answer."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from asyncpg import Range


@dataclass(frozen=True)
class CalendarWriteRow:
    tenant_id: str
    booking_id: uuid.UUID
    interviewer_id: str
    event_id: str
    kind: str
    action: str  # upsert | delete
    generation: int
    status: str  # pending | written | deleted | failed
    attempts: int
    vendor_event_id: str
    etag: str
    conference_url: str
    reason: str


@dataclass(frozen=True)
class ClaimedWrite:
    """A due row with what the worker needs to call the vendor: the booking and the calendar source."""

    row: CalendarWriteRow
    start: datetime
    end: datetime
    sequence: int
    summary_of: str  # round or interview type
    candidate_name: str
    calendar: dict
    email: str


def _row(r: asyncpg.Record) -> CalendarWriteRow:
    return CalendarWriteRow(**{f: r[f] for f in CalendarWriteRow.__dataclass_fields__})


async def stage(
    conn: asyncpg.Connection,
    tenant_id: str,
    booking_id: uuid.UUID,
    writes: list[tuple[str, str, str, str]],
) -> None:
    """(interviewer, event id, kind, action) rows made due now; a row already there gets the new action
    and generation, keeping what the vendor told us (its event id, ETag, conference link)."""
    await conn.executemany(
        """INSERT INTO calendar_writes (tenant_id, booking_id, interviewer_id, event_id, kind, action)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (tenant_id, booking_id, interviewer_id) DO UPDATE
           SET action = excluded.action, generation = calendar_writes.generation + 1,
               status = 'pending', attempts = 0, next_attempt_at = now(), reason = '', updated_at = now()""",
        [(tenant_id, booking_id, i, e, k, a) for i, e, k, a in writes],
    )


async def remove_from(
    conn: asyncpg.Connection, tenant_id: str, booking_id: uuid.UUID, interviewer_ids: list[str]
) -> None:
    """The events of these interviewers (or, with none named, of everyone on the booking) go away."""
    await conn.execute(
        """UPDATE calendar_writes
           SET action = 'delete', generation = generation + 1, status = 'pending', attempts = 0,
               next_attempt_at = now(), reason = '', updated_at = now()
           WHERE tenant_id = $1 AND booking_id = $2
             AND (cardinality($3::text[]) = 0 OR interviewer_id = ANY($3))
             AND NOT (action = 'delete' AND status = 'deleted')""",
        tenant_id,
        booking_id,
        interviewer_ids,
    )


async def claim_due(conn: asyncpg.Connection, limit: int, lease: timedelta) -> list[ClaimedWrite]:
    """Due rows of every tenant (a system transaction), leased so no other worker takes them meanwhile."""
    rows = await conn.fetch(
        """WITH due AS (
               SELECT tenant_id, booking_id, interviewer_id FROM calendar_writes
               WHERE status = 'pending' AND next_attempt_at <= now()
                 AND (claimed_until IS NULL OR claimed_until <= now())
               ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           UPDATE calendar_writes w SET claimed_until = now() + $2::interval
           FROM due WHERE (w.tenant_id, w.booking_id, w.interviewer_id)
                        = (due.tenant_id, due.booking_id, due.interviewer_id)
           RETURNING w.*""",
        limit,
        lease,
    )
    if not rows:
        return []
    context = await conn.fetch(
        """SELECT w.tenant_id, w.booking_id, w.interviewer_id, b.during, b.sequence,
                  coalesce(nullif(b.round, ''), nullif(b.interview_type, ''), 'interview') AS summary_of,
                  b.candidate_name, i.calendar, i.email
           FROM unnest($1::text[], $2::uuid[], $3::text[]) AS k(tenant_id, booking_id, interviewer_id)
           JOIN calendar_writes w USING (tenant_id, booking_id, interviewer_id)
           JOIN bookings b ON b.tenant_id = w.tenant_id AND b.id = w.booking_id
           JOIN interviewers i ON i.tenant_id = w.tenant_id AND i.id = w.interviewer_id""",
        [r["tenant_id"] for r in rows],
        [r["booking_id"] for r in rows],
        [r["interviewer_id"] for r in rows],
    )
    by_key = {(c["tenant_id"], c["booking_id"], c["interviewer_id"]): c for c in context}
    out = []
    for r in rows:
        c = by_key.get((r["tenant_id"], r["booking_id"], r["interviewer_id"]))
        if c is None:  # booking or interviewer erased since: nothing to write any more
            await conn.execute(
                """UPDATE calendar_writes
                   SET status = 'failed', reason = 'scheduler: booking or interviewer gone',
                       claimed_until = NULL, updated_at = now()
                   WHERE tenant_id = $1 AND booking_id = $2 AND interviewer_id = $3""",
                r["tenant_id"],
                r["booking_id"],
                r["interviewer_id"],
            )
            continue
        during: Range = c["during"]
        out.append(
            ClaimedWrite(
                row=_row(r),
                start=during.lower,
                end=during.upper,
                sequence=c["sequence"],
                summary_of=c["summary_of"],
                candidate_name=c["candidate_name"],
                calendar=json.loads(c["calendar"]),
                email=c["email"],
            )
        )
    return out


async def settle(
    conn: asyncpg.Connection,
    row: CalendarWriteRow,
    *,
    status: str,
    vendor_event_id: str,
    etag: str,
    conference_url: str,
    reason: str,
    retry_in: timedelta | None,
) -> bool:
    """Record a write's outcome. What the vendor told us is always kept; the status only when no newer
    change was staged meanwhile (then the row stays due for it). True when the status was recorded."""
    recorded = await conn.fetchval(
        """UPDATE calendar_writes
           SET vendor_event_id = $5, etag = $6, conference_url = $7, claimed_until = NULL,
               updated_at = now(),
               status = CASE WHEN generation = $4 THEN $8 ELSE status END,
               attempts = CASE WHEN generation = $4 THEN attempts + 1 ELSE attempts END,
               reason = CASE WHEN generation = $4 THEN $9 ELSE reason END,
               next_attempt_at = CASE WHEN generation = $4 AND $10::interval IS NOT NULL
                                      THEN now() + $10::interval ELSE next_attempt_at END
           WHERE tenant_id = $1 AND booking_id = $2 AND interviewer_id = $3
           RETURNING generation = $4""",
        row.tenant_id,
        row.booking_id,
        row.interviewer_id,
        row.generation,
        vendor_event_id,
        etag,
        conference_url,
        status,
        reason[:200],
        retry_in,
    )
    return bool(recorded)


async def of_booking(
    conn: asyncpg.Connection, tenant_id: str, booking_id: uuid.UUID
) -> list[CalendarWriteRow]:
    rows = await conn.fetch(
        "SELECT * FROM calendar_writes WHERE tenant_id = $1 AND booking_id = $2 ORDER BY interviewer_id",
        tenant_id,
        booking_id,
    )
    return [_row(r) for r in rows]
