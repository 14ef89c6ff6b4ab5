"""Push channels of interviewers' calendars (Google watch channels, Graph subscriptions) and the declines
read from the events we wrote."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class ChannelRow:
    tenant_id: str
    interviewer_id: str
    kind: str
    channel_id: str
    resource_id: str
    secret: str  # sealed
    expires_at: datetime
    status: str


def _row(r: asyncpg.Record) -> ChannelRow:
    return ChannelRow(**{f: r[f] for f in ChannelRow.__dataclass_fields__})


async def get(conn: asyncpg.Connection, tenant_id: str, interviewer_id: str) -> ChannelRow | None:
    r = await conn.fetchrow(
        "SELECT * FROM calendar_channels WHERE tenant_id = $1 AND interviewer_id = $2",
        tenant_id,
        interviewer_id,
    )
    return _row(r) if r else None


async def find(conn: asyncpg.Connection, kind: str, channel_id: str) -> ChannelRow | None:
    """The channel a notification names, whatever its tenant (the caller runs a system transaction)."""
    r = await conn.fetchrow(
        "SELECT * FROM calendar_channels WHERE kind = $1 AND channel_id = $2", kind, channel_id
    )
    return _row(r) if r else None


async def save(
    conn: asyncpg.Connection,
    tenant_id: str,
    interviewer_id: str,
    kind: str,
    channel_id: str,
    resource_id: str,
    secret: str,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO calendar_channels
               (tenant_id, interviewer_id, kind, channel_id, resource_id, secret, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (tenant_id, interviewer_id) DO UPDATE
           SET kind = excluded.kind, channel_id = excluded.channel_id, resource_id = excluded.resource_id,
               secret = excluded.secret, expires_at = excluded.expires_at, status = 'active', reason = '',
               updated_at = now()""",
        tenant_id,
        interviewer_id,
        kind,
        channel_id,
        resource_id,
        secret,
        expires_at,
    )


async def mark_failed(conn: asyncpg.Connection, tenant_id: str, interviewer_id: str, reason: str) -> None:
    await conn.execute(
        """UPDATE calendar_channels SET status = 'failed', reason = $3, updated_at = now()
           WHERE tenant_id = $1 AND interviewer_id = $2""",
        tenant_id,
        interviewer_id,
        reason,
    )


async def notified(conn: asyncpg.Connection, tenant_id: str, interviewer_id: str) -> None:
    await conn.execute(
        "UPDATE calendar_channels SET notified_at = now() WHERE tenant_id = $1 AND interviewer_id = $2",
        tenant_id,
        interviewer_id,
    )


async def every_channel(conn: asyncpg.Connection) -> list[ChannelRow]:
    """The channels of every tenant (a system transaction)."""
    rows = await conn.fetch("SELECT * FROM calendar_channels ORDER BY tenant_id, interviewer_id")
    return [_row(r) for r in rows]


async def expire(conn: asyncpg.Connection, tenant_id: str, interviewer_id: str) -> None:
    """Due for renewal at the next pass (the vendor removed it, or wants it reauthorized)."""
    await conn.execute(
        """UPDATE calendar_channels SET expires_at = least(expires_at, now()), updated_at = now()
           WHERE tenant_id = $1 AND interviewer_id = $2""",
        tenant_id,
        interviewer_id,
    )


async def with_pending_declines(conn: asyncpg.Connection, after: datetime) -> list[tuple[str, str]]:
    """(tenant, interviewer) pairs with events we wrote for bookings still ahead and no decline seen yet
    (a system transaction): what the polling pass reads when no push came."""
    rows = await conn.fetch(
        """SELECT DISTINCT w.tenant_id, w.interviewer_id FROM calendar_writes w
           JOIN bookings b ON b.tenant_id = w.tenant_id AND b.id = w.booking_id
           WHERE w.kind IN ('google', 'graph') AND w.action = 'upsert' AND w.status = 'written'
             AND b.status = 'scheduled' AND upper(b.during) > $1
             AND NOT EXISTS (SELECT 1 FROM interviewer_declines d WHERE d.tenant_id = w.tenant_id
                             AND d.booking_id = w.booking_id AND d.interviewer_id = w.interviewer_id)
           ORDER BY 1, 2""",
        after,
    )
    return [(r["tenant_id"], r["interviewer_id"]) for r in rows]


@dataclass(frozen=True)
class WrittenEvent:
    booking_id: uuid.UUID
    vendor_event_id: str
    event_id: str
    start: datetime
    end: datetime
    interviewer_ids: list[str]
    panel: list[dict]  # the requirements it was booked for: its link's panel, else its job's


async def written_events(
    conn: asyncpg.Connection, tenant_id: str, interviewer_id: str, after: datetime
) -> list[WrittenEvent]:
    """The events we wrote into this interviewer's calendar for scheduled bookings still ahead, without a
    decline recorded yet."""
    rows = await conn.fetch(
        """SELECT w.booking_id, w.vendor_event_id, w.event_id, lower(b.during) AS start,
                  upper(b.during) AS "end",
                  coalesce(l.panel, jp.config->'panel', '[]'::jsonb) AS panel,
                  array(SELECT c.interviewer_id FROM interviewer_commitments c
                        WHERE c.tenant_id = b.tenant_id AND c.booking_id = b.id AND c.active
                        ORDER BY c.interviewer_id) AS interviewer_ids
           FROM calendar_writes w
           JOIN bookings b ON b.tenant_id = w.tenant_id AND b.id = w.booking_id
           LEFT JOIN scheduling_links l ON l.tenant_id = b.tenant_id AND l.id = b.link_id
           LEFT JOIN job_panels jp ON jp.tenant_id = b.tenant_id AND jp.job_id = b.job_id
           WHERE w.tenant_id = $1 AND w.interviewer_id = $2 AND w.action = 'upsert'
             AND w.status = 'written' AND b.status = 'scheduled' AND upper(b.during) > $3
             AND NOT EXISTS (SELECT 1 FROM interviewer_declines d WHERE d.tenant_id = w.tenant_id
                             AND d.booking_id = w.booking_id AND d.interviewer_id = w.interviewer_id)""",
        tenant_id,
        interviewer_id,
        after,
    )
    return [WrittenEvent(**{**dict(r), "panel": json.loads(r["panel"])}) for r in rows]


async def record_decline(
    conn: asyncpg.Connection,
    tenant_id: str,
    booking_id: uuid.UUID,
    interviewer_id: str,
    replacements: list[str],
) -> bool:
    """True when this decline is new (the same decline seen again records nothing)."""
    status = await conn.execute(
        """INSERT INTO interviewer_declines (tenant_id, booking_id, interviewer_id, replacements)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
        tenant_id,
        booking_id,
        interviewer_id,
        replacements,
    )
    return status.endswith(" 1")


async def open_declines(conn: asyncpg.Connection, tenant_id: str, limit: int = 500) -> list[asyncpg.Record]:
    """The open decline tasks, oldest first, with their booking's time."""
    return await conn.fetch(
        """SELECT d.booking_id, d.interviewer_id, d.replacements, d.seen_at,
                  lower(b.during) AS start, upper(b.during) AS "end"
           FROM interviewer_declines d
           JOIN bookings b ON b.tenant_id = d.tenant_id AND b.id = d.booking_id
           WHERE d.tenant_id = $1 AND d.status = 'open'
           ORDER BY d.seen_at, d.booking_id, d.interviewer_id LIMIT $2""",
        tenant_id,
        limit,
    )
