"""The reconciliation loop outlives a database error: the round is logged, the next one backs off, and the
loop keeps going (it used to end the process)."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace

import asyncpg
import pytest
from interloop_sync.usecases import reconcile


async def test_a_database_error_in_one_round_does_not_end_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds: list[str] = []

    async def all_of(conn: object, providers: object) -> list:
        rounds.append("round")
        if len(rounds) == 1:
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        return []

    @contextlib.asynccontextmanager
    async def system_tx(pool: object):  # type: ignore[no-untyped-def]
        yield object()

    monkeypatch.setattr(reconcile.connections, "all_of", all_of)
    monkeypatch.setattr(reconcile, "system_tx", system_tx)
    ctx = SimpleNamespace(
        settings=SimpleNamespace(reconcile_interval_seconds=5.0),
        vault=object(),
        pool=object(),
        require_vault=lambda: object(),
    )
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(rounds) >= 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await reconcile.loop(ctx, sleep=sleep)  # type: ignore[arg-type]
    assert len(rounds) == 3  # the failed round, then two more
    assert waits[0] == 5.0  # the first round waits one interval, as before


async def test_no_keys_or_no_interval_disables_the_loop() -> None:
    ctx = SimpleNamespace(settings=SimpleNamespace(reconcile_interval_seconds=5.0), vault=None)
    await asyncio.wait_for(reconcile.loop(ctx), 1)  # type: ignore[arg-type]
