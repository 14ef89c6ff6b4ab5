"""The automation worker wakes when an action that is already due commits (sync's migration 0005: a NOTIFY
from a trigger, delivered at commit), not at its next poll; an action due later, or one still uncommitted,
wakes nothing; a failed round backs off whatever is committed; the wakeup survives its connection being cut.
Real PostgreSQL, sync's real migrations and store."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import pytest
from interloop_common import db
from interloop_common.clock import utc_now
from interloop_common.periodic import Wakeup
from interloop_sync.store import automations as store
from interloop_sync.usecases.automations import WAKEUP_CHANNEL

pytestmark = pytest.mark.integration

LONG = 120.0  # a nap no test waits out: it ends early or the test fails at wait_for


async def _add(pool: asyncpg.Pool, tenant: str, *, due_in: timedelta) -> None:
    async with db.tenant_tx(pool, tenant) as conn:
        await store.add_system_action(
            conn,
            tenant,
            key=f"k-{uuid.uuid4().hex}",
            rule_id="scheduling_link",
            kind="send_scheduling_link",
            context={},
            event_at=utc_now(),
            due_at=utc_now() + due_in,
        )


async def test_a_due_action_ends_the_nap_and_a_later_one_does_not(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = infra.database(f"wakeup_{uuid.uuid4().hex[:8]}")
    db.migrate(dsn, "interloop_sync")
    pool = await db.create_pool(dsn, min_size=1, max_size=4)
    wakeup = Wakeup(pool, WAKEUP_CHANNEL)
    rounds = 0

    async def work() -> bool:
        nonlocal rounds
        rounds += 1
        return False

    round_ = wakeup.round(work)
    try:
        await round_()
        # Due in an hour: no wakeup, the nap is the poll.
        await _add(pool, "t1", due_in=timedelta(hours=1))
        assert await wakeup.nap(0.5) is False

        # Due now: the nap ends at the commit, not before it.
        nap = asyncio.create_task(wakeup.nap(LONG))
        async with db.tenant_tx(pool, "t1") as conn:
            await store.add_system_action(
                conn,
                "t1",
                key="k-now",
                rule_id="scheduling_link",
                kind="send_scheduling_link",
                context={},
                event_at=utc_now(),
                due_at=utc_now(),
            )
            await asyncio.sleep(0.3)
            assert not nap.done()  # uncommitted: nothing to wake for yet
        assert await asyncio.wait_for(nap, 30) is True

        # Committed during a round: the next nap does not wait.
        async def busy() -> bool:
            await _add(pool, "t2", due_in=timedelta(0))
            return False

        await wakeup.round(busy)()
        assert await asyncio.wait_for(wakeup.nap(LONG), 30) is True

        # A failed round: the nap is a backoff, which a commit does not cut short.
        async def failing() -> bool:
            await _add(pool, "t2", due_in=timedelta(0))
            raise RuntimeError("vendor down")

        with pytest.raises(RuntimeError):
            await wakeup.round(failing)()
        assert await wakeup.nap(0.5) is False

        # The database cuts the listening connection: the next round listens again.
        await round_()
        listeners = await _listener_pids(dsn)
        assert len(listeners) == 1
        async with db.system_tx(pool) as conn:
            for pid in listeners:
                await conn.execute("SELECT pg_terminate_backend($1)", pid)
        await asyncio.sleep(0.2)
        await round_()
        assert await _listener_pids(dsn), "listening again"
        nap = asyncio.create_task(wakeup.nap(LONG))
        await _add(pool, "t3", due_in=timedelta(0))
        assert await asyncio.wait_for(nap, 30) is True
        assert rounds == 3
    finally:
        await wakeup.close()
        await pool.close()


async def _listener_pids(dsn: str) -> list[int]:
    """Backends that LISTEN on the channel (pg_stat_activity shows each session's last query)."""
    conn = await asyncpg.connect(dsn)
    try:
        return [
            r["pid"]
            for r in await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND query LIKE 'LISTEN %automation_due%'"
            )
        ]
    finally:
        await conn.close()
