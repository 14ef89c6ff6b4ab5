"""Expired holds: switched off so an abandoned hold never blocks an interviewer."""

from __future__ import annotations

import asyncpg
from interloop_common.db import system_tx

from interloop_scheduler.store import bookings as booking_store


async def sweep_expired_holds(pool: asyncpg.Pool) -> int:
    async with system_tx(pool) as conn:
        return await booking_store.expire_holds(conn)
