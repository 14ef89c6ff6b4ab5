"""What the scheduler's calendar contract tests share: retries that record their backoff instead of
waiting."""

from __future__ import annotations

import pytest
from interloop_scheduler.vendors import RetryPolicy


class Sleeps:
    """Records the backoff delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=3, base_delay=0.25, sleep=sleeps)
