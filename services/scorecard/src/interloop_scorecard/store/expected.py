"""Expected scorecards and tenant activity counters."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg


async def open_expected(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    booking_id: str,
    interviewer_ids: list[str],
    candidate_id: str,
    job_id: str,
    round: str,
    interview_end: datetime,
    due_at: datetime,
) -> None:
    await conn.executemany(
        """INSERT INTO expected_scorecards (tenant_id, booking_id, interviewer_id, candidate_id,
             job_id, round,
                                            interview_end, due_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (tenant_id, booking_id, interviewer_id) DO UPDATE
             SET interview_end = EXCLUDED.interview_end, due_at = EXCLUDED.due_at,
                 status = CASE WHEN expected_scorecards.status = 'cancelled' THEN 'expected'
                               ELSE expected_scorecards.status END""",
        [
            (tenant_id, booking_id, i, candidate_id, job_id, round, interview_end, due_at)
            for i in interviewer_ids
        ],
    )


async def set_status_for_booking(
    conn: asyncpg.Connection, tenant_id: str, booking_id: str, status: str
) -> None:
    await conn.execute(
        """UPDATE expected_scorecards SET status = $3
           WHERE tenant_id = $1 AND booking_id = $2 AND status IN ('expected', 'due')""",
        tenant_id,
        booking_id,
        status,
    )


async def cancel_others(conn: asyncpg.Connection, tenant_id: str, booking_id: str, panel: list[str]) -> None:
    await conn.execute(
        """UPDATE expected_scorecards SET status = 'cancelled'
           WHERE tenant_id = $1 AND booking_id = $2 AND status IN ('expected', 'due')
             AND NOT (interviewer_id = ANY($3::text[]))""",
        tenant_id,
        booking_id,
        panel,
    )


async def bump_activity(
    conn: asyncpg.Connection, tenant_id: str, *, interviews: int = 0, scorecards: int = 0
) -> None:
    await conn.execute(
        """INSERT INTO tenant_activity (tenant_id, interviews_seen, scorecards_submitted) VALUES ($1, $2, $3)
           ON CONFLICT (tenant_id) DO UPDATE SET
             interviews_seen = tenant_activity.interviews_seen + EXCLUDED.interviews_seen,
             scorecards_submitted = tenant_activity.scorecards_submitted + EXCLUDED.scorecards_submitted""",
        tenant_id,
        interviews,
        scorecards,
    )


async def activity(conn: asyncpg.Connection, tenant_id: str) -> tuple[int, int]:
    r = await conn.fetchrow(
        "SELECT interviews_seen, scorecards_submitted FROM tenant_activity WHERE tenant_id = $1", tenant_id
    )
    return (r["interviews_seen"], r["scorecards_submitted"]) if r else (0, 0)


async def list_expected(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    booking_id: str = "",
    after: str = "",
    limit: int = 50,
    overdue_only: bool = False,
    interviewer_id: str = "",
) -> list[asyncpg.Record]:
    """Expected scorecards with `overdue` (still open past due_at) and the scorecard filed for
    each, if any."""
    return await conn.fetch(
        """SELECT e.*, (e.status IN ('expected', 'due') AND e.due_at < now()) AS overdue,
                  (SELECT s.id::text FROM scorecards s WHERE s.tenant_id = e.tenant_id AND
                    s.booking_id = e.booking_id
                     AND s.interviewer_id = e.interviewer_id LIMIT 1) AS scorecard_id
           FROM expected_scorecards e
           WHERE e.tenant_id = $1 AND ($2 = '' OR e.booking_id = $2)
             AND ($3 = '' OR (e.booking_id || '/' || e.interviewer_id) > $3)
             AND (NOT $5 OR (e.status IN ('expected', 'due') AND e.due_at < now()))
             AND ($6 = '' OR e.interviewer_id = $6)
           ORDER BY e.booking_id || '/' || e.interviewer_id LIMIT $4""",
        tenant_id,
        booking_id,
        after,
        limit,
        overdue_only,
        interviewer_id,
    )


async def get(
    conn: asyncpg.Connection, tenant_id: str, booking_id: str, interviewer_id: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM expected_scorecards WHERE tenant_id = $1 AND booking_id = $2 AND interviewer_id = $3",
        tenant_id,
        booking_id,
        interviewer_id,
    )


async def mark_submitted(
    conn: asyncpg.Connection, tenant_id: str, booking_id: str, interviewer_id: str
) -> None:
    await conn.execute(
        """UPDATE expected_scorecards SET status = 'submitted'
           WHERE tenant_id = $1 AND booking_id = $2 AND interviewer_id = $3""",
        tenant_id,
        booking_id,
        interviewer_id,
    )


async def complete(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    booking_id: str,
    interviewer_ids: list[str],
    candidate_id: str,
    job_id: str,
    round: str,
    ended_at: datetime,
    due_at: datetime,
) -> None:
    """The interview was held: open (or re-time) each panelist's expected scorecard as due."""
    await conn.executemany(
        """INSERT INTO expected_scorecards (tenant_id, booking_id, interviewer_id, candidate_id,
             job_id, round,
                                            interview_end, due_at, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'due')
           ON CONFLICT (tenant_id, booking_id, interviewer_id) DO UPDATE
             SET interview_end = EXCLUDED.interview_end, due_at = EXCLUDED.due_at,
                 job_id = CASE WHEN EXCLUDED.job_id <> '' THEN EXCLUDED.job_id ELSE
                   expected_scorecards.job_id END,
                 round = CASE WHEN EXCLUDED.round <> '' THEN EXCLUDED.round ELSE
                   expected_scorecards.round END,
                 status = CASE WHEN expected_scorecards.status = 'submitted' THEN 'submitted' ELSE
                   'due' END""",
        [(tenant_id, booking_id, i, candidate_id, job_id, round, ended_at, due_at) for i in interviewer_ids],
    )


async def set_contacts(
    conn: asyncpg.Connection, tenant_id: str, booking_id: str, contacts: list[tuple[str, str, str, str]]
) -> None:
    """(interviewer id, email, name, zone) of a booking's panel: who an overdue reminder goes to."""
    await conn.executemany(
        """UPDATE expected_scorecards SET interviewer_email = $4, interviewer_name = $5,
               interviewer_time_zone = $6
           WHERE tenant_id = $1 AND booking_id = $2 AND interviewer_id = $3""",
        [(tenant_id, booking_id, *c) for c in contacts],
    )


async def claim_overdue(
    conn: asyncpg.Connection, *, max_nudges: int, every: timedelta, limit: int = 200
) -> list[asyncpg.Record]:
    """System scope: open scorecards past due that are owed a (next) reminder, counted and stamped here;
    locked so two replicas never remind twice."""
    return await conn.fetch(
        """UPDATE expected_scorecards e SET nudges = e.nudges + 1, last_nudged_at = now()
           FROM (SELECT tenant_id, booking_id, interviewer_id FROM expected_scorecards
                 WHERE status IN ('expected', 'due') AND due_at < now() AND nudges < $1
                   AND interviewer_email <> ''  -- nobody to remind yet: keep its reminders
                   AND (last_nudged_at IS NULL OR last_nudged_at <= now() - $2::interval)
                 ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) AS o
           WHERE e.tenant_id = o.tenant_id AND e.booking_id = o.booking_id
             AND e.interviewer_id = o.interviewer_id
           RETURNING e.*""",
        max_nudges,
        every,
        limit,
    )
