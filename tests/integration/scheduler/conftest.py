"""Fixtures of the scheduler's integration tests: a tenant with an API key, a REST client on the gateway and
a gRPC stub of the scheduler, all on the session's real PostgreSQL + Kafka + four services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from interloop.scheduler.v1 import scheduler_pb2_grpc
from interloop_common.events import encode, new_event


@dataclass
class Tenant:
    id: str
    http: httpx.AsyncClient  # authenticated with the tenant's API key
    public: httpx.AsyncClient  # no API key (the candidate)
    rpc: scheduler_pb2_grpc.SchedulerServiceStub
    dsn: str

    async def put_interviewer(self, interviewer_id: str, **profile: Any) -> dict:
        body = {"email": f"{interviewer_id}@acme.test", "time_zone": "UTC", **profile}
        r = await self.http.put(f"/v1/scheduling/interviewers/{interviewer_id}", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    async def db(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(self.dsn)
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", self.id)
        return conn

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await self.db()
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()


@pytest.fixture
async def tenant(platform, tenant_key) -> AsyncIterator[Tenant]:  # type: ignore[no-untyped-def]
    tenant_id, key = tenant_key()
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with (
        httpx.AsyncClient(
            base_url=platform.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30, limits=limits
        ) as http,
        httpx.AsyncClient(base_url=platform.base_url, timeout=30, limits=limits) as public,
        grpc.aio.insecure_channel(platform.target("scheduler")) as channel,
    ):
        yield Tenant(
            tenant_id,
            http,
            public,
            scheduler_pb2_grpc.SchedulerServiceStub(channel),
            platform.dsns["scheduler"],
        )


WEEKDAYS_9_TO_5 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)]
ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]


async def open_link(
    t: Tenant, panel: list[dict], *, candidate: str = "cand-1", duration: int = 60, **extra: object
) -> dict:
    body = {
        "candidate_id": candidate,
        "panel": panel,
        "duration_minutes": duration,
        "candidate_email": f"{candidate}@mail.test",
        "candidate_name": candidate.title(),
        **extra,
    }
    r = await t.http.post("/v1/scheduling/links", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def publish_ats(platform, tenant_id: str, type_: str, msg: Message, event_id: str) -> None:  # type: ignore[no-untyped-def]
    """``msg`` as sync would publish it on the ats topic (keyed by tenant), under ``event_id``."""
    event = new_event(type=type_, source="//interloop/sync", tenant_id=tenant_id, subject="test", payload=msg)
    body, headers = encode(type(event)(**{**event.__dict__, "id": event_id}))
    producer = AIOKafkaProducer(bootstrap_servers=platform.infra.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            f"{platform.prefix}interloop.ats.v1", value=body, key=tenant_id.encode(), headers=headers
        )
    finally:
        await producer.stop()
