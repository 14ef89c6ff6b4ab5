"""Interview reminders: `interview.reminder_due` 24 h and 1 h before each interview, once each."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from interloop_common.clock import utc_now
from interloop_common.db import system_tx

from interloop_scheduler.store import bookings as booking_store
from interloop_scheduler.store import links as link_store
from interloop_scheduler.usecases.emit import reminder_event


async def emit_due_reminders(pool: asyncpg.Pool, now: datetime | None = None) -> int:
    """Emit each due reminder once; when a shorter lead is already due (booked late), the longer one is
    recorded as skipped instead of sent."""
    now = now or utc_now()
    emitted = 0
    async with system_tx(pool) as conn:
        due = await link_store.due_reminders(conn, now)
        per_booking: dict[tuple[str, object], list[link_store.DueReminder]] = {}
        for r in due:
            per_booking.setdefault((r.tenant_id, r.booking_id), []).append(r)
        for (tenant, booking_id), items in per_booking.items():
            items.sort(key=lambda r: link_store.LEADS[r.lead])
            booking = await booking_store.get_booking(conn, tenant, booking_id)  # type: ignore[arg-type]
            if booking is None:
                continue
            for n, r in enumerate(items):
                send = n == 0
                if await link_store.record_reminder(conn, r, emitted=send) and send:
                    await reminder_event(conn, tenant, booking, r.lead)
                    emitted += 1
    return emitted
