"""Seeds the demo tenant through the public REST API (and a hashed API key in the gateway database)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from interloop_gateway.store.tenants import create_tenant, issue_key

DEMO_TENANT = "demo"
DEMO_KEY = "il_demo_key_for_local_use_only"

INTERVIEWERS = [
    {"id": "ada", "email": "ada@demo.interloop.dev", "display_name": "Ada Lovelace", "time_zone": "Europe/London"},
    {"id": "grace", "email": "grace@demo.interloop.dev", "display_name": "Grace Hopper", "time_zone": "America/New_York"},
    {"id": "alan", "email": "alan@demo.interloop.dev", "display_name": "Alan Turing", "time_zone": "Europe/London"},
    {"id": "katherine", "email": "katherine@demo.interloop.dev", "display_name": "Katherine Johnson",
     "time_zone": "America/Chicago"},
]


async def create_api_key(
    gateway_dsn: str, tenant_id: str = DEMO_TENANT, key: str = DEMO_KEY, *, scopes: tuple[str, ...] = ("admin",),
    interviewer_id: str | None = None,
) -> str:
    conn = await asyncpg.connect(gateway_dsn)
    try:
        async with conn.transaction():
            await create_tenant(conn, tenant_id, "Demo Corp")
            return await issue_key(conn, tenant_id, list(scopes), key, interviewer_id=interviewer_id)
    finally:
        await conn.close()


def seed(base_url: str, gateway_dsn: str) -> dict[str, str]:
    key = asyncio.run(create_api_key(gateway_dsn))
    h = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=h, timeout=10) as c:
        for i in INTERVIEWERS:
            hours = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)]
            c.post("/v1/interviewers", json={**i, "working_hours": hours, "daily_cap": 3, "weekly_cap": 8,
                                             "interview_types": ["system-design", "coding"]}).raise_for_status()
        start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
        r = c.post("/v1/interviews", headers={"Idempotency-Key": "demo-seed-interview-1"}, json={
            "candidate_id": "cand-demo-1", "interviewer_ids": ["ada", "grace"], "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(), "job_id": "job-backend", "round": "onsite",
            "interview_type": "system-design",
        })
        r.raise_for_status()
        return {"api_key": key, "interview_id": r.json()["id"]}
