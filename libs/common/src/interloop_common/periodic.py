"""The one way to run work in the background, forever: one error policy for every service.

A round that fails is logged and the next one waits longer (exponential backoff up to ``max_backoff``),
then the loop keeps going: a vendor or database hiccup never ends the process. A round whose work returns
something truthy (it found work) runs again at once when ``drain`` is set; otherwise rounds are
``seconds`` apart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from interloop_common import metrics

log = logging.getLogger(__name__)


async def every(
    seconds: float,
    name: str,
    work: Callable[[], Awaitable[object]],
    *,
    first_delay: float = 0.0,
    drain: bool = False,
    max_backoff: float = 300.0,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Run ``work`` every ``seconds``; ``seconds <= 0`` disables it (returns at once)."""
    if seconds <= 0:
        return
    if first_delay > 0:
        await sleep(first_delay)
    failures = 0
    while True:
        found = None
        try:
            found = await work()
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the one policy: log, back off, keep going
            failures += 1
            metrics.BACKGROUND_FAILURES.labels(name).inc()
            delay = backoff(seconds, failures, max_backoff)
            log.exception("background %s failed (%d in a row); next round in %.0fs", name, failures, delay)
            await sleep(delay)
            continue
        if drain and found:
            await sleep(0)  # let other tasks run between busy rounds
            continue
        await sleep(seconds)


def backoff(seconds: float, failures: int, max_backoff: float) -> float:
    """``seconds`` after one failure, doubling with each further one, never above ``max_backoff`` (or
    ``seconds`` when that is already longer)."""
    return min(seconds * 2 ** (failures - 1), max(max_backoff, seconds))
