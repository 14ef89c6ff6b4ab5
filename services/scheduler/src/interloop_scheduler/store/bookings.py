"""Bookings, holds and the interviewer commitments that guard them against double booking.

Every booking and every hold writes one `interviewer_commitments` row per interviewer, blocking the
interview plus its buffers; the exclusion constraint `no_double_booking` refuses any two overlapping active
rows of one interviewer, whatever the concurrency. Writers first take each interviewer's transaction lock
(`lock_interviewers`, in id order) so the rules that are not ranges (daily and weekly caps) are checked
against a state no concurrent booking can change before the commit. A hold's rows carry `expires_at`;
expired ones are switched off before any new commitment of the same interviewers is written (and by a
sweeper), so an abandoned hold never blocks anyone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg
from asyncpg import Range

from interloop_scheduler.domain.model import Booking, Hold


class DoubleBooking(Exception):
    """An interviewer already has an active booking or hold overlapping the requested range."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class BookingRow:
    id: uuid.UUID
    candidate_id: str
    application_id: str
    job_id: str
    round: str
    interview_type: str
    start: datetime
    end: datetime
    status: str
    sequence: int
    interviewer_ids: list[str]
    reschedules: int = 0
    link_id: uuid.UUID | None = None
    candidate_email: str = ""
    candidate_name: str = ""
    candidate_time_zone: str = ""
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    override_reason: str = ""  # a coordinator's reason to break the scheduling rules in override_rules
    override_by: str = ""
    override_rules: list[str] = field(default_factory=list)
    loop_id: uuid.UUID | None = None
    loop_session_id: str = ""


@dataclass(frozen=True)
class HoldRow:
    id: uuid.UUID
    link_id: uuid.UUID
    start: datetime
    end: datetime
    interviewer_ids: list[str]
    expires_at: datetime
    status: str
    booking_id: uuid.UUID | None


_SELECT = """
    SELECT b.id, b.candidate_id, b.application_id, b.job_id, b.round, b.interview_type, b.during,
           b.status, b.sequence, b.reschedules, b.link_id, b.candidate_email, b.candidate_name,
           b.candidate_time_zone, b.buffer_before, b.buffer_after, b.override_reason, b.override_by,
           b.override_rules, b.loop_id, b.loop_session_id,
           coalesce((SELECT array_agg(DISTINCT c.interviewer_id ORDER BY c.interviewer_id)
                     FROM interviewer_commitments c
                     WHERE c.tenant_id = b.tenant_id AND c.booking_id = b.id
                       AND (c.active OR b.status <> 'scheduled')
                       AND c.during = b.during), '{}') AS interviewer_ids
    FROM bookings b
"""


def _row(r: asyncpg.Record) -> BookingRow:
    return BookingRow(
        id=r["id"],
        candidate_id=r["candidate_id"],
        application_id=r["application_id"],
        job_id=r["job_id"],
        round=r["round"],
        interview_type=r["interview_type"],
        start=r["during"].lower,
        end=r["during"].upper,
        status=r["status"],
        sequence=r["sequence"],
        interviewer_ids=list(r["interviewer_ids"]),
        reschedules=r["reschedules"],
        link_id=r["link_id"],
        candidate_email=r["candidate_email"],
        candidate_name=r["candidate_name"],
        candidate_time_zone=r["candidate_time_zone"],
        buffer_before=r["buffer_before"],
        buffer_after=r["buffer_after"],
        override_reason=r["override_reason"],
        override_by=r["override_by"],
        override_rules=list(r["override_rules"]),
        loop_id=r["loop_id"],
        loop_session_id=r["loop_session_id"],
    )


def _hold(r: asyncpg.Record) -> HoldRow:
    return HoldRow(
        id=r["id"],
        link_id=r["link_id"],
        start=r["during"].lower,
        end=r["during"].upper,
        interviewer_ids=list(r["interviewer_ids"]),
        expires_at=r["expires_at"],
        status=r["status"],
        booking_id=r["booking_id"],
    )


async def lock_interviewers(conn: asyncpg.Connection, tenant_id: str, interviewer_ids: list[str]) -> None:
    """Each interviewer's transaction-scoped lock, in id order (two writers sharing interviewers queue
    instead of deadlocking); held until the transaction ends."""
    await conn.execute(
        """SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || i, 0))
           FROM unnest($2::text[]) AS i ORDER BY i""",
        tenant_id,
        sorted(set(interviewer_ids)),
    )


def _range(start: datetime, end: datetime) -> Range:
    return Range(start, end, lower_inc=True, upper_inc=False)


async def release_expired(
    conn: asyncpg.Connection, tenant_id: str, interviewer_ids: list[str] | None = None
) -> int:
    """Switch off expired holds (of these interviewers, or all of the tenant's); returns how many holds."""
    rows = await conn.fetch(
        """UPDATE holds SET status = 'expired'
           WHERE tenant_id = $1 AND status = 'active' AND expires_at <= now()
             AND ($2::text[] IS NULL OR interviewer_ids && $2::text[])
           RETURNING id""",
        tenant_id,
        interviewer_ids,
    )
    if rows:
        await conn.execute(
            """UPDATE interviewer_commitments SET active = false
               WHERE tenant_id = $1 AND hold_id = ANY($2::uuid[]) AND active""",
            tenant_id,
            [r["id"] for r in rows],
        )
    return len(rows)


async def _commit(
    conn: asyncpg.Connection,
    tenant_id: str,
    interviewer_ids: list[str],
    during: Range,
    *,
    buffers: tuple[timedelta, timedelta] = (timedelta(0), timedelta(0)),
    booking_id: uuid.UUID | None = None,
    hold_id: uuid.UUID | None = None,
    expires_at: datetime | None = None,
) -> None:
    blocked = _range(during.lower - buffers[0], during.upper + buffers[1])
    # A savepoint keeps the caller's transaction usable when the constraint refuses the rows.
    try:
        async with conn.transaction():
            await conn.executemany(
                """INSERT INTO interviewer_commitments
                     (tenant_id, interviewer_id, booking_id, hold_id, during, blocked, expires_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                [
                    (tenant_id, i, booking_id, hold_id, during, blocked, expires_at)
                    for i in sorted(set(interviewer_ids))
                ],
            )
    except (asyncpg.ExclusionViolationError, asyncpg.DeadlockDetectedError) as exc:
        raise DoubleBooking(getattr(exc, "detail", None) or str(exc)) from exc


async def insert_booking(
    conn: asyncpg.Connection,
    *,
    tenant_id: str,
    candidate_id: str,
    application_id: str,
    job_id: str,
    round: str,
    interview_type: str,
    interviewer_ids: list[str],
    start: datetime,
    end: datetime,
    link_id: uuid.UUID | None = None,
    candidate_email: str = "",
    candidate_name: str = "",
    candidate_time_zone: str = "",
    buffer_before: timedelta = timedelta(0),
    buffer_after: timedelta = timedelta(0),
    override_reason: str = "",
    override_by: str = "",
    override_rules: tuple[str, ...] = (),
    loop_id: uuid.UUID | None = None,
    loop_session_id: str = "",
) -> BookingRow:
    booking_id = uuid.uuid4()
    during = _range(start, end)
    await release_expired(conn, tenant_id, interviewer_ids)
    await conn.execute(
        """INSERT INTO bookings (tenant_id, id, candidate_id, application_id, job_id, round, interview_type,
                                 during, link_id, candidate_email, candidate_name, candidate_time_zone,
                                 buffer_before, buffer_after, override_reason, override_by, override_rules,
                                 loop_id, loop_session_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)""",
        tenant_id,
        booking_id,
        candidate_id,
        application_id,
        job_id,
        round,
        interview_type,
        during,
        link_id,
        candidate_email,
        candidate_name,
        candidate_time_zone,
        buffer_before,
        buffer_after,
        override_reason,
        override_by,
        list(override_rules),
        loop_id,
        loop_session_id,
    )
    await _commit(
        conn, tenant_id, interviewer_ids, during, buffers=(buffer_before, buffer_after), booking_id=booking_id
    )
    got = await get_booking(conn, tenant_id, booking_id)
    assert got is not None
    return got


async def get_booking(
    conn: asyncpg.Connection, tenant_id: str, booking_id: uuid.UUID, *, for_update: bool = False
) -> BookingRow | None:
    if for_update:
        await conn.execute(
            "SELECT 1 FROM bookings WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant_id, booking_id
        )
    r = await conn.fetchrow(_SELECT + " WHERE b.tenant_id = $1 AND b.id = $2", tenant_id, booking_id)
    return _row(r) if r else None


async def list_bookings(
    conn: asyncpg.Connection, tenant_id: str, *, candidate_id: str = "", after: str = "", limit: int = 50
) -> list[BookingRow]:
    rows = await conn.fetch(
        _SELECT
        + """ WHERE b.tenant_id = $1 AND ($2 = '' OR b.candidate_id = $2) AND ($3 = '' OR b.id::text > $3)
              ORDER BY b.id::text LIMIT $4""",
        tenant_id,
        candidate_id,
        after,
        limit,
    )
    return [_row(r) for r in rows]


async def set_status(
    conn: asyncpg.Connection, tenant_id: str, booking_id: uuid.UUID, status: str, *, release: bool
) -> BookingRow | None:
    updated = await conn.fetchval(
        """UPDATE bookings SET status = $3, sequence = sequence + 1, updated_at = now()
           WHERE tenant_id = $1 AND id = $2 AND status = 'scheduled' RETURNING id""",
        tenant_id,
        booking_id,
        status,
    )
    if updated is None:
        return None
    if release:
        await conn.execute(
            "UPDATE interviewer_commitments SET active = false WHERE tenant_id = $1 AND booking_id = $2",
            tenant_id,
            booking_id,
        )
    return await get_booking(conn, tenant_id, booking_id)


async def move_booking(
    conn: asyncpg.Connection,
    tenant_id: str,
    booking_id: uuid.UUID,
    interviewer_ids: list[str],
    start: datetime,
    end: datetime,
) -> BookingRow:
    """Move a (locked) booking: old commitments off, new ones on with the booking's buffers (DoubleBooking
    if taken), SEQUENCE + 1."""
    during = _range(start, end)
    await release_expired(conn, tenant_id, interviewer_ids)
    buffers = await conn.fetchrow(
        """UPDATE bookings SET updated_at = now() WHERE tenant_id = $1 AND id = $2
           RETURNING buffer_before, buffer_after""",
        tenant_id,
        booking_id,
    )
    await conn.execute(
        """UPDATE interviewer_commitments SET active = false
           WHERE tenant_id = $1 AND booking_id = $2 AND active""",
        tenant_id,
        booking_id,
    )
    await _commit(
        conn,
        tenant_id,
        interviewer_ids,
        during,
        buffers=(buffers["buffer_before"], buffers["buffer_after"]),
        booking_id=booking_id,
    )
    await conn.execute(
        """UPDATE bookings SET during = $3, sequence = sequence + 1, reschedules = reschedules + 1,
                               updated_at = now()
           WHERE tenant_id = $1 AND id = $2""",
        tenant_id,
        booking_id,
        during,
    )
    got = await get_booking(conn, tenant_id, booking_id)
    assert got is not None
    return got


async def set_candidate_zone(
    conn: asyncpg.Connection, tenant_id: str, booking_id: uuid.UUID, zone: str
) -> None:
    await conn.execute(
        "UPDATE bookings SET candidate_time_zone = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        booking_id,
        zone,
    )


async def loop_bookings(conn: asyncpg.Connection, tenant_id: str, loop_id: uuid.UUID) -> list[BookingRow]:
    """Every session's booking of a loop, in time order."""
    rows = await conn.fetch(
        _SELECT + " WHERE b.tenant_id = $1 AND b.loop_id = $2 ORDER BY lower(b.during)", tenant_id, loop_id
    )
    return [_row(r) for r in rows]


async def upcoming_for_application(
    conn: asyncpg.Connection, tenant_id: str, application_id: str, now: datetime
) -> list[BookingRow]:
    """The application's scheduled interviews that have not started yet, in time order."""
    rows = await conn.fetch(
        _SELECT + " WHERE b.tenant_id = $1 AND b.application_id = $2 AND b.status = 'scheduled'"
        " AND lower(b.during) > $3 ORDER BY lower(b.during)",
        tenant_id,
        application_id,
        now,
    )
    return [_row(r) for r in rows]


async def find_by_link(conn: asyncpg.Connection, tenant_id: str, link_id: uuid.UUID) -> BookingRow | None:
    r = await conn.fetchrow(
        _SELECT + " WHERE b.tenant_id = $1 AND b.link_id = $2 ORDER BY b.created_at DESC LIMIT 1",
        tenant_id,
        link_id,
    )
    return _row(r) if r else None


# -- holds


async def insert_hold(
    conn: asyncpg.Connection,
    tenant_id: str,
    link_id: uuid.UUID,
    interviewer_ids: list[str],
    start: datetime,
    end: datetime,
    ttl: timedelta,
    buffers: tuple[timedelta, timedelta] = (timedelta(0), timedelta(0)),
) -> HoldRow:
    """A hold of the slot for one link (replacing the link's earlier holds), blocking its buffers too;
    DoubleBooking if taken."""
    await release_expired(conn, tenant_id, interviewer_ids)
    await release_link_holds(conn, tenant_id, link_id)
    hold_id = uuid.uuid4()
    during = _range(start, end)
    expires = await conn.fetchval("SELECT now() + $1::interval", ttl)
    await conn.execute(
        """INSERT INTO holds (tenant_id, id, link_id, during, interviewer_ids, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        tenant_id,
        hold_id,
        link_id,
        during,
        sorted(set(interviewer_ids)),
        expires,
    )
    await _commit(
        conn, tenant_id, interviewer_ids, during, buffers=buffers, hold_id=hold_id, expires_at=expires
    )
    got = await get_hold(conn, tenant_id, hold_id)
    assert got is not None
    return got


async def get_hold(
    conn: asyncpg.Connection, tenant_id: str, hold_id: uuid.UUID, *, for_update: bool = False
) -> HoldRow | None:
    r = await conn.fetchrow(
        "SELECT * FROM holds WHERE tenant_id = $1 AND id = $2"  # noqa: S608 - constant SQL
        + (" FOR UPDATE" if for_update else ""),
        tenant_id,
        hold_id,
    )
    return _hold(r) if r else None


async def active_hold_of_link(conn: asyncpg.Connection, tenant_id: str, link_id: uuid.UUID) -> HoldRow | None:
    r = await conn.fetchrow(
        """SELECT * FROM holds
           WHERE tenant_id = $1 AND link_id = $2 AND status = 'active' AND expires_at > now()
           ORDER BY created_at DESC LIMIT 1""",
        tenant_id,
        link_id,
    )
    return _hold(r) if r else None


async def release_link_holds(
    conn: asyncpg.Connection,
    tenant_id: str,
    link_id: uuid.UUID,
    hold_id: uuid.UUID | None = None,
    status: str = "released",
    booking_id: uuid.UUID | None = None,
) -> int:
    rows = await conn.fetch(
        """UPDATE holds SET status = $4, booking_id = $5
           WHERE tenant_id = $1 AND link_id = $2 AND status = 'active' AND ($3::uuid IS NULL OR id = $3)
           RETURNING id""",
        tenant_id,
        link_id,
        hold_id,
        status,
        booking_id,
    )
    if rows:
        await conn.execute(
            """UPDATE interviewer_commitments SET active = false
               WHERE tenant_id = $1 AND hold_id = ANY($2::uuid[])""",
            tenant_id,
            [r["id"] for r in rows],
        )
    return len(rows)


async def attach_hold(
    conn: asyncpg.Connection, tenant_id: str, hold_id: uuid.UUID, booking_id: uuid.UUID
) -> None:
    """Record which booking a (confirmed or superseded) hold became."""
    await conn.execute(
        "UPDATE holds SET booking_id = $3 WHERE tenant_id = $1 AND id = $2", tenant_id, hold_id, booking_id
    )


async def expire_holds(conn: asyncpg.Connection) -> int:
    """Every tenant's expired holds switched off (the sweeper, in a system transaction)."""
    rows = await conn.fetch(
        """UPDATE holds SET status = 'expired' WHERE status = 'active' AND expires_at <= now()
           RETURNING tenant_id, id"""
    )
    if rows:
        await conn.execute(
            """UPDATE interviewer_commitments c SET active = false
               FROM unnest($1::text[], $2::uuid[]) AS h(t, i)
               WHERE c.tenant_id = h.t AND c.hold_id = h.i AND c.active""",
            [r["tenant_id"] for r in rows],
            [r["id"] for r in rows],
        )
    return len(rows)


# -- what availability needs


async def commitments(
    conn: asyncpg.Connection,
    tenant_id: str,
    ids: list[str],
    start: datetime,
    end: datetime,
    *,
    exclude_booking: uuid.UUID | None = None,
) -> tuple[list[Booking], list[Hold]]:
    """Active bookings and unexpired holds of these interviewers overlapping [start, end), as domain
    objects with their buffers (grouped per booking so caps count interviews, not rows)."""
    rows = await conn.fetch(
        """SELECT c.booking_id, c.hold_id, h.link_id, c.interviewer_id, c.during,
                  coalesce(c.blocked, c.during) AS blocked
           FROM interviewer_commitments c
           LEFT JOIN holds h ON h.tenant_id = c.tenant_id AND h.id = c.hold_id
           WHERE c.tenant_id = $1 AND c.interviewer_id = ANY($2) AND c.during && $3 AND c.active
             AND (c.expires_at IS NULL OR c.expires_at > now())
             AND ($4::uuid IS NULL OR c.booking_id IS DISTINCT FROM $4)""",
        tenant_id,
        ids,
        Range(start, end),
        exclude_booking,
    )
    bookings: dict[uuid.UUID, list] = {}
    holds: dict[uuid.UUID, list] = {}
    for r in rows:
        if r["booking_id"] is not None:
            bookings.setdefault(r["booking_id"], []).append(r)
        else:
            holds.setdefault(r["hold_id"], []).append(r)
    return (
        [
            Booking(
                str(k),
                tuple(sorted(x["interviewer_id"] for x in v)),
                v[0]["during"].lower,
                v[0]["during"].upper,
                *_buffers(v[0]),
            )
            for k, v in bookings.items()
        ],
        [
            Hold(
                str(k),
                str(v[0]["link_id"]),
                tuple(sorted(x["interviewer_id"] for x in v)),
                v[0]["during"].lower,
                v[0]["during"].upper,
                *_buffers(v[0]),
            )
            for k, v in holds.items()
        ],
    )


def _buffers(r: asyncpg.Record) -> tuple[timedelta, timedelta]:
    return r["during"].lower - r["blocked"].lower, r["blocked"].upper - r["during"].upper


async def load_counts(
    conn: asyncpg.Connection, tenant_id: str, ids: list[str], start: datetime, end: datetime
) -> dict[str, int]:
    """Scheduled interviews per interviewer in [start, end): the load a balanced loop evens out."""
    rows = await conn.fetch(
        """SELECT interviewer_id, count(*) AS n FROM interviewer_commitments
           WHERE tenant_id = $1 AND interviewer_id = ANY($2) AND during && $3 AND active
             AND booking_id IS NOT NULL
           GROUP BY interviewer_id""",
        tenant_id,
        ids,
        Range(start, end),
    )
    return {r["interviewer_id"]: r["n"] for r in rows}
