"""The scheduled purge: replicas running it at once erase each due candidate once (an advisory lock lets
one through), and a second run finds nothing left to do (real PostgreSQL, sync's migrations and use cases)."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace

import pytest
from interloop_common import db
from interloop_sync.usecases import retention

pytestmark = pytest.mark.integration


async def test_concurrent_scheduled_purges_erase_each_candidate_once(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = infra.database(f"retention_{uuid.uuid4().hex[:8]}")
    db.migrate(dsn, "interloop_sync")
    pool = await db.create_pool(dsn, min_size=2, max_size=6)
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    try:
        async with db.tenant_tx(pool, tenant) as conn:
            for cand, days in (("old", 400), ("recent", 10)):
                await conn.execute(
                    """INSERT INTO applications (tenant_id, connection_id, remote_id, candidate_remote_id,
                           status, rejected_at)
                       VALUES ($1, $2, $3, $4, 'rejected', now() - make_interval(days => $5))""",
                    tenant,
                    uuid.uuid4(),
                    f"app-{cand}",
                    cand,
                    days,
                )
        ctx = SimpleNamespace(pool=pool)
        counts = await asyncio.gather(*(retention.purge_all(ctx) for _ in range(3)))  # type: ignore[arg-type]
        async with db.system_tx(pool) as conn:
            requests = await conn.fetch(
                "SELECT candidate_id, requested_by FROM erasure_requests WHERE tenant_id = $1", tenant
            )
            tombstones = await conn.fetch(
                "SELECT candidate_id, source FROM erased_candidates WHERE tenant_id = $1", tenant
            )
            staged = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND event_type = 'ats.candidate.erased'",
                tenant,
            )
        assert sum(counts) == 1, counts  # however the three interleave
        assert [tuple(r) for r in requests] == [("old", "retention-schedule")]
        assert [tuple(r) for r in tombstones] == [("old", "retention")]
        assert staged == 1
        assert await retention.purge_all(ctx) == 0  # type: ignore[arg-type]  # nothing left that is due
    finally:
        await pool.close()
