"""A transaction that cannot get a pooled connection fails clearly instead of waiting forever: UNAVAILABLE
to a caller (errors.Unavailable), infrastructure to a consumer (waited out, never dead-lettered)."""

from __future__ import annotations

import uuid

import pytest
from interloop_common import db
from interloop_common.errors import Unavailable
from interloop_common.inbox import infrastructure


async def test_an_exhausted_pool_answers_unavailable_and_recovers(infra, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(db, "_acquire_timeout", db._acquire_timeout)  # restored after the test
    dsn = infra.database(f"pool_{uuid.uuid4().hex[:8]}")
    pool = await db.create_pool(dsn, min_size=1, max_size=1, acquire_timeout=0.2)
    try:
        async with db.tenant_tx(pool, "t1") as held:
            assert await held.fetchval("SELECT current_setting('app.tenant_id')") == "t1"
            with pytest.raises(db.PoolExhausted) as err:
                async with db.system_tx(pool):
                    pass
            assert isinstance(err.value, Unavailable) and err.value.status == "UNAVAILABLE"
            assert infrastructure(err.value)  # a consumer waits it out
            assert "pool of 1 all busy" in str(err.value)
        async with db.system_tx(pool) as conn:  # the held connection went back: the pool serves again
            assert await conn.fetchval("SELECT current_setting('app.system')") == "on"
    finally:
        await pool.close()
