"""Sync integration fixtures: credential keys for every sync process, helpers to read the sync database."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from interloop_fakes.ats import GREENHOUSE_HIRE_MAPPING
from interloop_fakes.examples import EXAMPLES

# The session `platform` builds its env from os.environ (service_env): give its sync process a fast
# automation worker before any fixture starts it (service_env gives every sync process credential keys).
os.environ.setdefault("INTERLOOP_SYNC_AUTOMATION_POLL_SECONDS", "0.2")
os.environ.setdefault("INTERLOOP_SYNC_RECONCILE_INTERVAL_SECONDS", "0")

FIXTURES = EXAMPLES
HIRE_TEMPLATE = json.loads((FIXTURES / "greenhouse" / "f-gh-02-hire_candidate.json").read_text())

WORKDAY_MAPPING = GREENHOUSE_HIRE_MAPPING


def synthetic_hire(n: int, *, salary: int = 80000) -> dict[str, Any]:
    """The documented hire_candidate payload with fresh ids, names and salary for record `n`."""
    body = json.loads(json.dumps(HIRE_TEMPLATE))
    app = body["payload"]["application"]
    app["id"] = 90_000_000 + n
    cand = app["candidate"]
    cand["id"] = 80_000_000 + n
    cand["first_name"], cand["last_name"] = f"Hire{n}", f"Person{n}"
    cand["email_addresses"] = [{"value": f"Hire{n}@Example.com", "type": "personal"}]
    cand["phone_numbers"] = [{"value": f"+1 415 555 {n:04d}", "type": "mobile"}]
    app["offer"]["id"] = 70_000_000 + n
    app["offer"]["custom_fields"]["salary"]["value"]["amount"] = salary + n
    return body


async def rows(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT set_config('app.system', 'on', false)")
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def value(dsn: str, sql: str, *args: Any) -> Any:
    found = await rows(dsn, sql, *args)
    return found[0][0] if found else None


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 30, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.1)
