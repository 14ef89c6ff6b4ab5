"""A request body over the gateway's bound (1 MiB by default) is refused with 413 problem+json before it is
held in memory — through the REST API and through the public webhook door alike; one under it is read and
answered as usual (real gateway)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


async def test_oversized_bodies_are_refused_with_413(platform, tenant_key) -> None:  # type: ignore[no-untyped-def]
    _, key = tenant_key()
    big = b'{"candidate_id": "' + b"x" * (MIB + 10) + b'"}'
    under = b'{"candidate_id": "' + b"x" * (MIB // 2) + b'"}'
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=60) as c:
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        refused = await c.post("/v1/interviews", content=big, headers=auth)
        assert refused.status_code == 413, refused.text[:300]
        assert refused.headers["content-type"].startswith("application/problem+json")
        hook = await c.post(
            "/webhooks/greenhouse/00000000-0000-0000-0000-000000000000",
            content=big,
            headers={"Content-Type": "application/json"},
        )
        assert hook.status_code == 413, hook.text[:300]
        read = await c.post("/v1/interviews", content=under, headers=auth)
        assert read.status_code == 400, read.text[:300]  # read, and refused for what it says
