"""With several replicas of a service, one relay publishes: order per key is seq order and each row goes
out once; when the leader's session ends, a standby takes over (real PostgreSQL, a recording producer)."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import asyncpg
from interloop_common import db
from interloop_common.outbox import OutboxRelay
from interloop_devstack.testing import eventually

KEYS = [f"tenant-a/booking-{i}" for i in range(5)]


class RecordingProducer:
    """Acknowledges after a random short delay, recording (relay, key, seq) in the order sent."""

    def __init__(self, log: list[tuple[str, str, int]], name: str) -> None:
        self.log, self.name = log, name

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> asyncio.Future[Any]:
        await asyncio.sleep(random.random() / 1000)  # noqa: S311 - jitter, not crypto
        self.log.append((self.name, key.decode(), int(value.decode())))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(random.random() / 200, future.set_result, None)  # noqa: S311
        return future


async def _insert(pool: asyncpg.Pool, n: int, start: int) -> None:
    async with db.system_tx(pool) as conn:
        await conn.executemany(
            "INSERT INTO outbox (id, tenant_id, topic, key, event_type, envelope)"
            " VALUES ($1, 't', 'x', $2, 'e', $3)",
            [(uuid.uuid4(), KEYS[i % len(KEYS)], str(start + i).encode()) for i in range(n)],
        )


def _in_order_once(log: list[tuple[str, str, int]], total: int) -> None:
    values = [v for _, _, v in log]
    assert sorted(values) == list(range(total))  # every row once: none lost, none twice
    for key in KEYS:
        mine = [v for _, k, v in log if k == key]
        assert mine == sorted(mine), key  # per key, in the order written


async def test_one_relay_publishes_in_order_and_a_standby_takes_over(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = infra.database(f"leader_{uuid.uuid4().hex[:8]}")
    db.migrate(dsn)
    pools = [await db.create_pool(dsn, min_size=1, max_size=4) for _ in range(3)]
    log: list[tuple[str, str, int]] = []
    relays = [
        OutboxRelay(p, RecordingProducer(log, f"r{i}"), service="test", batch_size=50, poll_interval=0.05)
        for i, p in enumerate(pools)
    ]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        await _insert(pools[0], 1000, 0)
        await eventually(lambda: len(log) >= 1000, what="1,000 rows published")
        _in_order_once(log, 1000)
        leaders = {name for name, _, _ in log}
        assert len(leaders) == 1 and sum(r.leading for r in relays) == 1  # the others stood by
        (leader,) = [r for r in relays if r.leading]

        # The leader stops (its session and lock end); a standby publishes what comes next.
        leader.stop()
        await tasks[relays.index(leader)]
        await _insert(pools[1], 500, 1000)
        await eventually(lambda: len(log) >= 1500, what="the next 500 rows published by a standby")
        _in_order_once(log, 1500)
        assert {name for name, _, v in log if v >= 1000} != leaders
        assert sum(r.leading for r in relays) == 1
    finally:
        for r in relays:
            r.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for p in pools:
            await p.close()
