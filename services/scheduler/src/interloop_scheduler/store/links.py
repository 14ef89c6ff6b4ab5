"""Scheduling links (a candidate's scheduling request, for a panel or a whole loop), jobs' default panels
and sent reminders."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from interloop_scheduler.domain.availability import Requirement
from interloop_scheduler.domain.loops import Loop, Session


@dataclass(frozen=True)
class LinkRow:
    id: uuid.UUID
    tenant_id: str
    candidate_id: str
    application_id: str
    job_id: str
    round: str
    candidate_email: str
    candidate_name: str
    panel: list[dict]  # [{"interviewer_ids": [...], "k": 0}]
    duration_minutes: int
    expires_at: datetime
    booking_id: uuid.UUID | None
    settings: dict = field(default_factory=dict)  # SlotSettings fields, snake_case
    connection_id: str = ""
    closed_at: datetime | None = None  # closed by the ATS (application rejected / withdrawn)
    closed_reason: str = ""


def requirements(panel: list[dict]) -> list[Requirement]:
    """Stored panel -> domain requirements (k = 0 means all of them)."""
    return [
        Requirement(tuple(p["interviewer_ids"]), p.get("k") or None, name=f"panel[{n}]")
        for n, p in enumerate(panel)
    ]


def loop_of(settings: dict) -> Loop | None:
    """A loop link's stored loop (settings["loop"]) as the domain's ``Loop``; None for a panel link."""
    spec = settings.get("loop")
    if not spec:
        return None
    return Loop(
        sessions=tuple(
            Session(
                id=s["id"],
                duration=timedelta(minutes=s["duration_minutes"]),
                pool=tuple(s["pool"]),
                k=(s["k"] or 1) if s["pool"] else 0,
                fixed=tuple(s["fixed"]),
                interview_type=s.get("interview_type", ""),
                allow_shadow=s.get("allow_shadow", False),
            )
            for s in spec["sessions"]
        ),
        ordered=spec["ordered"],
        min_break=timedelta(minutes=spec["min_break_minutes"]),
        max_break=timedelta(minutes=spec["max_break_minutes"]) if spec["max_break_minutes"] else None,
        same_day=not spec["spread_days"],
        max_days=spec["max_days"] or None,
    )


def _link(r: asyncpg.Record) -> LinkRow:
    return LinkRow(
        id=r["id"],
        tenant_id=r["tenant_id"],
        candidate_id=r["candidate_id"],
        application_id=r["application_id"],
        job_id=r["job_id"],
        round=r["round"],
        candidate_email=r["candidate_email"],
        candidate_name=r["candidate_name"],
        panel=json.loads(r["panel"]),
        duration_minutes=r["duration_minutes"],
        expires_at=r["expires_at"],
        booking_id=r["booking_id"],
        settings=json.loads(r["settings"]),
        connection_id=r["connection_id"],
        closed_at=r["closed_at"],
        closed_reason=r["closed_reason"],
    )


async def insert_link(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    candidate_id: str,
    application_id: str,
    job_id: str,
    round: str,
    candidate_email: str,
    candidate_name: str,
    panel: list[dict],
    duration_minutes: int,
    expires_at: datetime,
    settings: dict,
    connection_id: str = "",
) -> LinkRow:
    r = await conn.fetchrow(
        """INSERT INTO scheduling_links (tenant_id, id, candidate_id, application_id, job_id, round,
                                         candidate_email, candidate_name, panel, duration_minutes, expires_at,
                                         settings, connection_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12::jsonb, $13) RETURNING *""",
        tenant_id,
        uuid.uuid4(),
        candidate_id,
        application_id,
        job_id,
        round,
        candidate_email,
        candidate_name,
        json.dumps(panel),
        duration_minutes,
        expires_at,
        json.dumps(settings),
        connection_id,
    )
    return _link(r)


async def get_link(
    conn: asyncpg.Connection, tenant_id: str, link_id: uuid.UUID, *, for_update: bool = False
) -> LinkRow | None:
    r = await conn.fetchrow(
        "SELECT * FROM scheduling_links WHERE tenant_id = $1 AND id = $2"  # noqa: S608 - constant SQL
        + (" FOR UPDATE" if for_update else ""),
        tenant_id,
        link_id,
    )
    return _link(r) if r else None


async def open_link_for(
    conn: asyncpg.Connection, tenant_id: str, application_id: str, round: str
) -> LinkRow | None:
    """An unexpired, unbooked link already opened for this application and round."""
    r = await conn.fetchrow(
        """SELECT * FROM scheduling_links WHERE tenant_id = $1 AND application_id = $2 AND round = $3
             AND booking_id IS NULL AND expires_at > now() AND closed_at IS NULL
           ORDER BY created_at DESC LIMIT 1""",
        tenant_id,
        application_id,
        round,
    )
    return _link(r) if r else None


async def set_link_booking(
    conn: asyncpg.Connection, tenant_id: str, link_id: uuid.UUID, booking_id: uuid.UUID | None
) -> None:
    await conn.execute(
        "UPDATE scheduling_links SET booking_id = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        link_id,
        booking_id,
    )


async def close_for_application(
    conn: asyncpg.Connection, tenant_id: str, application_id: str, reason: str
) -> list[uuid.UUID]:
    """Close every link of the application not closed yet (booked or not: its page and manage link stop
    working); the ids of those closed now."""
    rows = await conn.fetch(
        """UPDATE scheduling_links SET closed_at = now(), closed_reason = $3
           WHERE tenant_id = $1 AND application_id = $2 AND closed_at IS NULL RETURNING id""",
        tenant_id,
        application_id,
        reason,
    )
    return [r["id"] for r in rows]


async def rekey_candidate(conn: asyncpg.Connection, tenant_id: str, merged_id: str, surviving_id: str) -> int:
    """The ATS merged ``merged_id`` into ``surviving_id``: their links and bookings become the survivor's.
    Returns how many rows moved."""
    moved = 0
    for table in ("scheduling_links", "bookings"):
        status = await conn.execute(
            f"UPDATE {table} SET candidate_id = $3 WHERE tenant_id = $1 AND candidate_id = $2",  # noqa: S608 - a constant table
            tenant_id,
            merged_id,
            surviving_id,
        )
        moved += int(status.split()[-1])
    return moved


async def candidate_contacts(
    conn: asyncpg.Connection, tenant_id: str, candidate_id: str
) -> list[tuple[str, str]]:
    """(email, name) pairs the candidate's links and bookings hold."""
    rows = await conn.fetch(
        """SELECT candidate_email, candidate_name FROM scheduling_links
           WHERE tenant_id = $1 AND candidate_id = $2
           UNION SELECT candidate_email, candidate_name FROM bookings
           WHERE tenant_id = $1 AND candidate_id = $2""",
        tenant_id,
        candidate_id,
    )
    return [(r["candidate_email"], r["candidate_name"]) for r in rows]


async def erase_candidate(
    conn: asyncpg.Connection,
    tenant_id: str,
    candidate_id: str,
    *,
    name: bool,
    email: bool,
    close_links: bool,
) -> None:
    """Blank the candidate's name and/or email on their links and bookings (the opaque candidate id stays
    for the interview history); a deleted candidate's open links stop working."""
    for table in ("scheduling_links", "bookings"):
        await conn.execute(
            f"""UPDATE {table} SET candidate_name = CASE WHEN $3 THEN '' ELSE candidate_name END,
                   candidate_email = CASE WHEN $4 THEN '' ELSE candidate_email END
                WHERE tenant_id = $1 AND candidate_id = $2""",  # noqa: S608 - a constant table
            tenant_id,
            candidate_id,
            name,
            email,
        )
    # Published scheduling requests carry the candidate's name and email: drop the sent copies.
    await conn.execute(
        """DELETE FROM outbox o USING scheduling_links l
           WHERE l.tenant_id = $1 AND l.candidate_id = $2 AND o.tenant_id = $1
             AND o.event_type = 'interview.scheduling_requested' AND o.key = $1 || '/' || l.id::text
             AND o.published_at IS NOT NULL""",
        tenant_id,
        candidate_id,
    )
    # So do the booking's invites and reminders (attendees, the ICS): drop the sent copies too.
    await conn.execute(
        """DELETE FROM outbox o USING bookings b
           WHERE b.tenant_id = $1 AND b.candidate_id = $2 AND o.tenant_id = $1
             AND o.event_type LIKE 'interview.%' AND o.key = $1 || '/' || b.id::text
             AND o.published_at IS NOT NULL""",
        tenant_id,
        candidate_id,
    )
    if close_links:
        await conn.execute(
            """UPDATE scheduling_links SET expires_at = least(expires_at, now())
               WHERE tenant_id = $1 AND candidate_id = $2 AND booking_id IS NULL""",
            tenant_id,
            candidate_id,
        )


# -- job panels


async def set_job_panel(conn: asyncpg.Connection, tenant_id: str, job_id: str, config: dict) -> dict:
    await conn.execute(
        """INSERT INTO job_panels (tenant_id, job_id, config) VALUES ($1, $2, $3::jsonb)
           ON CONFLICT (tenant_id, job_id) DO UPDATE SET config = EXCLUDED.config, updated_at = now()""",
        tenant_id,
        job_id,
        json.dumps(config),
    )
    return config


async def get_job_panel(conn: asyncpg.Connection, tenant_id: str, job_id: str) -> dict | None:
    raw = await conn.fetchval(
        "SELECT config FROM job_panels WHERE tenant_id = $1 AND job_id = $2", tenant_id, job_id
    )
    return json.loads(raw) if raw is not None else None


# -- reminders


@dataclass(frozen=True)
class DueReminder:
    tenant_id: str
    booking_id: uuid.UUID
    lead: str
    starts_at: datetime


LEADS = {"24h": timedelta(hours=24), "1h": timedelta(hours=1)}


async def due_reminders(conn: asyncpg.Connection, now: datetime, limit: int = 500) -> list[DueReminder]:
    """(booking, lead) pairs whose reminder time has come and that were not handled yet, for all tenants
    (the caller runs in a system transaction); locked so two replicas never emit the same one."""
    rows = await conn.fetch(
        """SELECT b.tenant_id, b.id, l.lead, lower(b.during) AS starts_at
           FROM bookings b
           CROSS JOIN (VALUES ('24h', interval '24 hours'), ('1h', interval '1 hour')) AS l(lead, ahead)
           WHERE b.status = 'scheduled' AND lower(b.during) > $1 AND lower(b.during) - l.ahead <= $1
             AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.tenant_id = b.tenant_id AND r.booking_id = b.id
                             AND r.lead = l.lead AND r.starts_at = lower(b.during))
           ORDER BY lower(b.during) LIMIT $2
           FOR UPDATE OF b SKIP LOCKED""",
        now,
        limit,
    )
    return [DueReminder(r["tenant_id"], r["id"], r["lead"], r["starts_at"]) for r in rows]


async def record_reminder(conn: asyncpg.Connection, r: DueReminder, *, emitted: bool) -> bool:
    return bool(
        await conn.fetchval(
            """INSERT INTO reminders (tenant_id, booking_id, lead, starts_at, emitted)
               VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING RETURNING true""",
            r.tenant_id,
            r.booking_id,
            r.lead,
            r.starts_at,
            emitted,
        )
    )
