"""iCalendar text from outside (an ICS feed, a CalDAV answer) parsed and expanded off the event loop, in a
child process with a time and a memory limit: one tenant's feed cannot stall or bloat the scheduler every
tenant shares. A child that runs over is killed; the calendar is then unknown with a fixed reason
(``parse_timeout``, ``parse_failed``), like any refusal of the bounded expansion itself."""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from multiprocessing.connection import Connection
from typing import Any

from interloop_scheduler.domain.ics import CalendarParseError, ExpansionLimits, busy_from_ics

Busy = list[tuple[datetime, datetime]]
_MiB = 1024 * 1024
# forkserver: children fork from a clean server process that never ran the service's threads (gRPC, the
# database pool), with the parser already imported; they start in milliseconds.
_CONTEXT = multiprocessing.get_context("forkserver")
_PRELOAD = [__name__]


@dataclass(frozen=True, slots=True)
class ParseLimits:
    seconds: float = 10.0
    memory_bytes: int = 512 * _MiB
    concurrency: int = 2
    expansion: ExpansionLimits = field(default_factory=ExpansionLimits)


def _child(
    out: Connection, data: bytes, start: datetime, end: datetime, tz: tzinfo, limits: ParseLimits
) -> None:
    try:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        except (ValueError, OSError):  # a platform without address-space limits: the time limit remains
            pass
        try:
            result: tuple[str, Any] = ("ok", busy_from_ics(data, start, end, tz, limits.expansion))  # type: ignore[arg-type]
        except CalendarParseError as exc:
            result = ("refused", exc.reason)
        except MemoryError:
            result = ("refused", "parse_memory")
        except Exception:  # noqa: BLE001 - whatever the text does to the parser, only a code leaves
            result = ("refused", "invalid_calendar")
        out.send(result)
    finally:
        out.close()


class IcsParser:
    """``await parser.busy(data, start, end, tz)``: busy intervals, or ``CalendarParseError(reason)``."""

    def __init__(self, limits: ParseLimits = ParseLimits()) -> None:
        self.limits = limits
        self._slots = asyncio.Semaphore(limits.concurrency)

    async def busy(self, data: bytes, start: datetime, end: datetime, tz: tzinfo) -> Busy:
        async with self._slots:
            kind, value = await self._run(data, start, end, tz)
        if kind != "ok":
            raise CalendarParseError(str(value))
        return list(value)

    async def _run(self, data: bytes, start: datetime, end: datetime, tz: tzinfo) -> tuple[str, Any]:
        _CONTEXT.set_forkserver_preload(_PRELOAD)
        reader, writer = _CONTEXT.Pipe(duplex=False)
        child = _CONTEXT.Process(target=_child, args=(writer, data, start, end, tz, self.limits), daemon=True)
        try:
            await asyncio.to_thread(child.start)  # the first start also starts the fork server
            writer.close()
            if not await _readable(reader, self.limits.seconds):
                return ("refused", "parse_timeout")
            try:
                return await asyncio.to_thread(reader.recv)
            except (EOFError, OSError):  # killed by the memory limit, or crashed
                return ("refused", "parse_failed")
        finally:
            writer.close()
            if child.pid is not None:
                if child.is_alive():
                    child.kill()
                await asyncio.to_thread(child.join, 5)
                if child.exitcode is not None:
                    child.close()
            reader.close()


async def _readable(reader: Connection, seconds: float) -> bool:
    """Whether ``reader`` has data (or its writer is gone) within ``seconds``, without blocking the loop."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    fd = reader.fileno()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(True))
    try:
        await asyncio.wait_for(ready, seconds)
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)
