"""Interviewers and their busy blocks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
from asyncpg import Range


@dataclass(frozen=True)
class InterviewerRow:
    id: str
    email: str
    display_name: str
    time_zone: str
    working_hours: list[dict]
    daily_cap: int
    weekly_cap: int
    interview_types: list[str] = field(default_factory=list)
    calendar_status: str = "unknown"


def _row(r: asyncpg.Record) -> InterviewerRow:
    return InterviewerRow(
        id=r["id"],
        email=r["email"],
        display_name=r["display_name"],
        time_zone=r["time_zone"],
        working_hours=json.loads(r["working_hours"]),
        daily_cap=r["daily_cap"],
        weekly_cap=r["weekly_cap"],
        interview_types=list(r["interview_types"]),
        calendar_status=r["calendar_status"],
    )


async def upsert(conn: asyncpg.Connection, tenant_id: str, i: InterviewerRow) -> InterviewerRow:
    r = await conn.fetchrow(
        """INSERT INTO interviewers (tenant_id, id, email, display_name, time_zone, working_hours,
                                     daily_cap, weekly_cap, interview_types)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)
           ON CONFLICT (tenant_id, id) DO UPDATE SET email = EXCLUDED.email,
               display_name = EXCLUDED.display_name, time_zone = EXCLUDED.time_zone,
               working_hours = EXCLUDED.working_hours, daily_cap = EXCLUDED.daily_cap,
               weekly_cap = EXCLUDED.weekly_cap, interview_types = EXCLUDED.interview_types, updated_at = now()
           RETURNING *""",
        tenant_id, i.id, i.email, i.display_name, i.time_zone, json.dumps(i.working_hours),
        i.daily_cap, i.weekly_cap, i.interview_types,
    )
    return _row(r)


async def list_all(conn: asyncpg.Connection, tenant_id: str, *, after: str = "", limit: int = 100) -> list[InterviewerRow]:
    rows = await conn.fetch(
        "SELECT * FROM interviewers WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3", tenant_id, after, limit
    )
    return [_row(r) for r in rows]


async def get_many(conn: asyncpg.Connection, tenant_id: str, ids: list[str]) -> dict[str, InterviewerRow]:
    rows = await conn.fetch("SELECT * FROM interviewers WHERE tenant_id = $1 AND id = ANY($2)", tenant_id, ids)
    return {r["id"]: _row(r) for r in rows}


async def replace_busy(
    conn: asyncpg.Connection,
    tenant_id: str,
    interviewer_id: str,
    source: str,
    window: tuple[datetime, datetime],
    busy: list[tuple[datetime, datetime]],
) -> int:
    """Replace the blocks of one source inside `window` (a calendar refresh) and mark the calendar known."""
    w = Range(window[0], window[1])
    await conn.execute(
        """DELETE FROM busy_blocks WHERE tenant_id = $1 AND interviewer_id = $2 AND source = $3
           AND during && $4""",
        tenant_id, interviewer_id, source, w,
    )
    await conn.executemany(
        """INSERT INTO busy_blocks (tenant_id, interviewer_id, source, during) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING""",
        [(tenant_id, interviewer_id, source, Range(s, e)) for s, e in busy if e > s],
    )
    await conn.execute(
        "UPDATE interviewers SET calendar_status = 'known' WHERE tenant_id = $1 AND id = $2", tenant_id, interviewer_id
    )
    return len(busy)


async def busy_between(
    conn: asyncpg.Connection, tenant_id: str, ids: list[str], start: datetime, end: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Calendar busy blocks plus active bookings and unexpired holds, per interviewer."""
    w = Range(start, end)
    rows = await conn.fetch(
        """SELECT interviewer_id, during FROM busy_blocks
             WHERE tenant_id = $1 AND interviewer_id = ANY($2) AND during && $3
           UNION ALL
           SELECT interviewer_id, during FROM interviewer_commitments
             WHERE tenant_id = $1 AND interviewer_id = ANY($2) AND during && $3 AND active
               AND (expires_at IS NULL OR expires_at > now())""",
        tenant_id, ids, w,
    )
    out: dict[str, list[tuple[datetime, datetime]]] = {i: [] for i in ids}
    for r in rows:
        out[r["interviewer_id"]].append((r["during"].lower, r["during"].upper))
    return out
