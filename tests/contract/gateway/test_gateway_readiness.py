"""/readyz is 503 problem+json naming each backend that is down; /livez stays 200."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from interloop_devstack.testing import ServiceSet, eventually

pytestmark = pytest.mark.integration


async def test_readyz_names_the_backends_that_are_down(infra, tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = ServiceSet(infra, tmp_path, ("scorecard", "gateway"))
    await asyncio.to_thread(services.start, "scorecard")
    services.procs["gateway"].start()  # scheduler and sync are never started
    try:
        async with httpx.AsyncClient(base_url=services.base_url, timeout=5) as c:

            async def live() -> bool:
                try:
                    return (await c.get("/livez")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(live, within=60, what="the gateway to come up")

            async def settled() -> httpx.Response | None:
                # the first checks may still see the just-started scorecard as slow on a loaded machine
                r = await c.get("/readyz")
                checks = r.json().get("checks", {}) if r.status_code == 503 else {}
                return r if checks.get("scorecard") == "SERVING" else None

            r = await eventually(settled, within=60, what="readiness with the scorecard SERVING")
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/problem+json")
            body = r.json()
            assert (
                "scheduler" in body["detail"]
                and "sync" in body["detail"]
                and "scorecard" not in body["detail"]
            )
            assert body["checks"]["scorecard"] == "SERVING" and body["checks"]["database"] == "SERVING"
            assert body["checks"]["scheduler"] == "UNAVAILABLE"
    finally:
        await asyncio.to_thread(services.stop)
