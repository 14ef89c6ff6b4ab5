"""The one periodic-task policy: a failed round is logged, the next waits longer, the loop keeps going."""

from __future__ import annotations

import asyncio

import pytest
from interloop_common.periodic import backoff, every


class _Stop(BaseException):
    """Ends the loop from the fake sleep once enough rounds ran."""


async def _run(work, rounds: int, **kw) -> list[float]:  # type: ignore[no-untyped-def]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) >= rounds:
            raise _Stop

    with pytest.raises(_Stop):
        await every(10, "test", work, sleep=sleep, **kw)
    return waits


async def test_failures_back_off_and_the_loop_survives_them() -> None:
    outcomes = [OSError("db down"), OSError("db down"), OSError("db down"), None, None]
    calls = 0

    async def work() -> None:
        nonlocal calls
        outcome = outcomes[calls]
        calls += 1
        if outcome:
            raise outcome

    waits = await _run(work, rounds=5, max_backoff=25)
    assert calls == 5
    assert waits == [10, 20, 25, 10, 10]  # doubled, capped, back to the interval after a success


async def test_drain_runs_again_at_once_while_there_is_work() -> None:
    found = [3, 2, 0, 0]
    calls = 0

    async def work() -> int:
        nonlocal calls
        calls += 1
        return found[calls - 1]

    waits = await _run(work, rounds=4, drain=True)
    assert waits == [0, 0, 10, 10]


async def test_disabled_returns_and_cancellation_is_not_swallowed() -> None:
    async def never() -> None:
        raise AssertionError("must not run")

    await every(0, "off", never)

    async def forever() -> None:
        await asyncio.sleep(3600)

    task = asyncio.create_task(every(1, "t", forever))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_backoff_never_below_the_interval() -> None:
    assert backoff(600, 3, 300) == 600 and backoff(5, 10, 60) == 60
