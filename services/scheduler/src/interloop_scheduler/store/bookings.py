"""Bookings and the interviewer commitments that guard them against double booking."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from asyncpg import Range


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


_SELECT = """
    SELECT b.id, b.candidate_id, b.application_id, b.job_id, b.round, b.interview_type, b.during,
           b.status, b.sequence,
           coalesce(array_agg(c.interviewer_id ORDER BY c.interviewer_id)
                    FILTER (WHERE c.interviewer_id IS NOT NULL), '{}') AS interviewer_ids
    FROM bookings b
    LEFT JOIN interviewer_commitments c
      ON c.tenant_id = b.tenant_id AND c.booking_id = b.id
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
    )


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
) -> BookingRow:
    booking_id = uuid.uuid4()
    during = Range(start, end, lower_inc=True, upper_inc=False)
    await conn.execute(
        """INSERT INTO bookings (tenant_id, id, candidate_id, application_id, job_id, round, interview_type, during)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        tenant_id, booking_id, candidate_id, application_id, job_id, round, interview_type, during,
    )
    try:
        await conn.executemany(
            """INSERT INTO interviewer_commitments (tenant_id, interviewer_id, booking_id, during)
               VALUES ($1, $2, $3, $4)""",
            [(tenant_id, i, booking_id, during) for i in sorted(set(interviewer_ids))],
        )
    except asyncpg.ExclusionViolationError as exc:
        raise DoubleBooking(exc.detail or str(exc)) from exc
    got = await get_booking(conn, tenant_id, booking_id)
    assert got is not None
    return got


async def get_booking(conn: asyncpg.Connection, tenant_id: str, booking_id: uuid.UUID) -> BookingRow | None:
    r = await conn.fetchrow(
        _SELECT + " WHERE b.tenant_id = $1 AND b.id = $2 GROUP BY b.tenant_id, b.id", tenant_id, booking_id
    )
    return _row(r) if r else None


async def list_bookings(
    conn: asyncpg.Connection, tenant_id: str, *, candidate_id: str = "", after: str = "", limit: int = 50
) -> list[BookingRow]:
    rows = await conn.fetch(
        _SELECT
        + """ WHERE b.tenant_id = $1 AND ($2 = '' OR b.candidate_id = $2) AND ($3 = '' OR b.id::text > $3)
              GROUP BY b.tenant_id, b.id ORDER BY b.id::text LIMIT $4""",
        tenant_id, candidate_id, after, limit,
    )
    return [_row(r) for r in rows]


async def set_status(
    conn: asyncpg.Connection, tenant_id: str, booking_id: uuid.UUID, status: str, *, release: bool
) -> BookingRow | None:
    updated = await conn.fetchval(
        """UPDATE bookings SET status = $3, sequence = sequence + 1, updated_at = now()
           WHERE tenant_id = $1 AND id = $2 AND status = 'scheduled' RETURNING id""",
        tenant_id, booking_id, status,
    )
    if updated is None:
        return None
    if release:
        await conn.execute(
            "UPDATE interviewer_commitments SET active = false WHERE tenant_id = $1 AND booking_id = $2",
            tenant_id, booking_id,
        )
    return await get_booking(conn, tenant_id, booking_id)
