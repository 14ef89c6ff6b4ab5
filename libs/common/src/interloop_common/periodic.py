"""The one way to run work in the background, forever: one error policy for every service.

A round that fails is logged and the next one waits longer (exponential backoff up to ``max_backoff``),
then the loop keeps going: a vendor or database hiccup never ends the process. A round whose work returns
something truthy (it found work) runs again at once when ``drain`` is set; otherwise rounds are
``seconds`` apart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

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


def connection_alive(conn: asyncpg.Connection | None) -> bool:
    """Whether a connection held outside a transaction (a LISTEN session) is still usable."""
    if conn is None:
        return False
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:  # the pool took back a connection the server cut (a restart)
        return False


class Wakeup:
    """A nap for `every` that PostgreSQL cuts short: a NOTIFY on ``channel`` (from a trigger, delivered at
    commit) ends it at once, so work committed anywhere starts now instead of at the next poll.

    Use ``round(work)`` as the work and ``nap`` as ``every``'s sleep: the wake flag is cleared before each
    round, so a notification during a round makes the next one start at once. While the database cannot be
    listened on, the nap is the plain poll; the next round listens again. After a failed round the nap is a
    backoff that notifications do not cut short."""

    def __init__(self, pool: asyncpg.Pool, channel: str) -> None:
        self._pool, self._channel = pool, channel
        self._woken = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._failed = False

    def round(self, work: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            await self._listen()  # before the round: what commits during it wakes the next nap
            self._woken.clear()
            self._failed = True
            found = await work()
            self._failed = False
            return found

        return run

    async def nap(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when a notification ended it."""
        if self._failed or self._listener is None:
            await asyncio.sleep(seconds)
            return False
        try:
            await asyncio.wait_for(self._woken.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def _listen(self) -> None:
        if connection_alive(self._listener):
            return
        await self.close()
        try:
            listener = await self._pool.acquire(timeout=5)
        except Exception:  # noqa: BLE001 - no database now: poll, and listen again next round
            log.warning("cannot LISTEN %s: polling until the database answers", self._channel)
            return
        try:
            await listener.add_listener(self._channel, self._wake)
        except Exception:  # noqa: BLE001
            await self._pool.release(listener)
            log.warning("cannot LISTEN %s: polling until the database answers", self._channel)
            return
        self._listener = listener

    def _wake(self, *_: object) -> None:
        self._woken.set()

    def wake(self) -> None:
        """End the nap now, as a notification would (e.g. capacity came free for due work)."""
        self._woken.set()

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        with contextlib.suppress(Exception):  # a connection the server dropped cannot UNLISTEN
            if not listener.is_closed():
                await listener.remove_listener(self._channel, self._wake)
        with contextlib.suppress(Exception):
            await self._pool.release(listener)
