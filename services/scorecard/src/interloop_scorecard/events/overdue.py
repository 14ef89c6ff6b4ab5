"""Overdue scorecards are chased: each open scorecard past due raises `scorecard.overdue` (through the
outbox) a limited number of times, a set interval apart, and stops as soon as it is submitted or its
interview cancelled; the sync service turns each one into a reminder email to the interviewer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import timedelta

import asyncpg
from interloop.events.v1 import scorecard_pb2
from interloop_common.db import system_tx
from interloop_common.events import new_event
from interloop_common.outbox import add_event
from interloop_common.rpc import ts

from interloop_scorecard.settings import ScorecardSettings
from interloop_scorecard.store import expected

log = logging.getLogger(__name__)
SOURCE = "//interloop/scorecard"


async def chase(pool: asyncpg.Pool, settings: ScorecardSettings) -> int:
    """One round: claim what is owed a reminder and announce it, in one transaction."""
    async with system_tx(pool) as conn:
        rows = await expected.claim_overdue(
            conn,
            max_nudges=settings.overdue_reminders,
            every=timedelta(hours=settings.overdue_reminder_every_hours),
        )
        for r in rows:
            payload = scorecard_pb2.ScorecardOverdue(
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
            )
            event = new_event(
                type="scorecard.overdue",
                source=SOURCE,
                tenant_id=r["tenant_id"],
                subject=f"expected-scorecard/{r['booking_id']}/{r['interviewer_id']}",
                payload=payload,
            )
            await add_event(conn, event, key=f"{r['tenant_id']}/{r['booking_id']}")
    return len(rows)


async def loop(pool: asyncpg.Pool, settings: ScorecardSettings) -> None:
    if settings.overdue_poll_seconds <= 0 or settings.overdue_reminders <= 0:
        return
    while True:
        try:
            await chase(pool, settings)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed round is retried next round; the process stays up
            log.exception("overdue scorecard round failed; retrying")
        await asyncio.sleep(settings.overdue_poll_seconds)


def tasks(pool: asyncpg.Pool, settings: ScorecardSettings) -> list[Awaitable[None]]:
    return [loop(pool, settings)]
