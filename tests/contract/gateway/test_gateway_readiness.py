"""/readyz means this pod (the process and its database): 200 while backends are down, with each backend's
health reported; /healthz/backends is 503 problem+json naming each backend that is down; /livez stays 200."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from interloop_devstack.testing import ServiceSet, eventually

pytestmark = pytest.mark.integration


async def test_readyz_reports_the_backends_that_are_down_and_stays_ready(infra, tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = ServiceSet(infra, tmp_path, ("scorecard", "gateway"))
    await asyncio.to_thread(services.start, "scorecard")
    services.procs["gateway"].env["INTERLOOP_GATEWAY_BACKEND_HEALTH_SECONDS"] = "0.3"
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
                assert r.status_code == 200, r.text
                return r if r.json()["backends"].get("scorecard") == "SERVING" else None

            ready = (await eventually(settled, within=60, what="readiness with the scorecard SERVING")).json()
            assert ready["checks"] == {"database": "SERVING"}
            assert ready["backends"]["scheduler"] == ready["backends"]["sync"] == "UNAVAILABLE"

            r = await c.get("/healthz/backends")
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/problem+json")
            body = r.json()
            assert body["detail"] == "scheduler, sync down"
            assert body["backends"] == {
                "scheduler": "UNAVAILABLE",
                "scorecard": "SERVING",
                "sync": "UNAVAILABLE",
            }
    finally:
        await asyncio.to_thread(services.stop)
