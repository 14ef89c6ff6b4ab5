"""The one retry policy: bounded attempts, no retry of permanent errors."""

from __future__ import annotations

import pytest
from interloop_common.retry import Permanent, policy


async def test_retries_until_success_within_bound() -> None:
    calls = 0
    async for attempt in policy(attempts=4, initial=0.001, maximum=0.002):
        with attempt:
            calls += 1
            if calls < 3:
                raise ConnectionError("flaky")
    assert calls == 3


async def test_gives_up_after_the_bound_and_reraises() -> None:
    calls = 0
    with pytest.raises(ConnectionError):
        async for attempt in policy(attempts=3, initial=0.001, maximum=0.002):
            with attempt:
                calls += 1
                raise ConnectionError("down")
    assert calls == 3


async def test_permanent_errors_are_not_retried() -> None:
    calls = 0
    with pytest.raises(Permanent):
        async for attempt in policy(attempts=5, initial=0.001, maximum=0.002):
            with attempt:
                calls += 1
                raise Permanent("forged payload")
    assert calls == 1
