"""Expected scorecards and tenant activity counters."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def open_expected(
    conn: asyncpg.Connection, tenant_id: str, *, booking_id: str, interviewer_ids: list[str], candidate_id: str,
    job_id: str, round: str, interview_end: datetime, due_at: datetime,
) -> None:
    await conn.executemany(
        """INSERT INTO expected_scorecards (tenant_id, booking_id, interviewer_id, candidate_id, job_id, round,
                                            interview_end, due_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (tenant_id, booking_id, interviewer_id) DO UPDATE
             SET interview_end = EXCLUDED.interview_end, due_at = EXCLUDED.due_at,
                 status = CASE WHEN expected_scorecards.status = 'cancelled' THEN 'expected'
                               ELSE expected_scorecards.status END""",
        [(tenant_id, booking_id, i, candidate_id, job_id, round, interview_end, due_at) for i in interviewer_ids],
    )


async def set_status_for_booking(conn: asyncpg.Connection, tenant_id: str, booking_id: str, status: str) -> None:
    await conn.execute(
        """UPDATE expected_scorecards SET status = $3
           WHERE tenant_id = $1 AND booking_id = $2 AND status IN ('expected', 'due')""",
        tenant_id, booking_id, status,
    )


async def bump_activity(conn: asyncpg.Connection, tenant_id: str, *, interviews: int = 0, scorecards: int = 0) -> None:
    await conn.execute(
        """INSERT INTO tenant_activity (tenant_id, interviews_seen, scorecards_submitted) VALUES ($1, $2, $3)
           ON CONFLICT (tenant_id) DO UPDATE SET
             interviews_seen = tenant_activity.interviews_seen + EXCLUDED.interviews_seen,
             scorecards_submitted = tenant_activity.scorecards_submitted + EXCLUDED.scorecards_submitted""",
        tenant_id, interviews, scorecards,
    )


async def activity(conn: asyncpg.Connection, tenant_id: str) -> tuple[int, int]:
    r = await conn.fetchrow(
        "SELECT interviews_seen, scorecards_submitted FROM tenant_activity WHERE tenant_id = $1", tenant_id
    )
    return (r["interviews_seen"], r["scorecards_submitted"]) if r else (0, 0)


async def list_expected(
    conn: asyncpg.Connection, tenant_id: str, *, booking_id: str = "", after: str = "", limit: int = 50
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT * FROM expected_scorecards
           WHERE tenant_id = $1 AND ($2 = '' OR booking_id = $2)
             AND ($3 = '' OR (booking_id || '/' || interviewer_id) > $3)
           ORDER BY booking_id || '/' || interviewer_id LIMIT $4""",
        tenant_id, booking_id, after, limit,
    )
