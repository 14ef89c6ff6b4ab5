"""Sync pipeline benchmark: signed Greenhouse hire webhooks -> gateway -> sync (verify, normalise, mirror,
outbox) -> Kafka -> HRIS write + read-back on a fake Workday, against raw aiokafka produce+consume of the same
number of records through the same broker, measured in the same run.

Prints events per second and p99 latency (webhook sent -> HRIS record verified) for both, and the ratio.

    .venv/bin/python bench/sync.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import grpc
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.fernet import Fernet
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc
from interloop_devstack.testing import ServiceSet, session_infra
from interloop_fakes.ats import FakeWorkday, sign_greenhouse
from interloop_sync.rpc.convert import struct

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "integration" / "sync"))
from conftest import WORKDAY_MAPPING, synthetic_hire  # noqa: E402

SECRET = "bench-webhook-secret"


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


async def pipeline(
    services: ServiceSet, n: int, concurrency: int, rate: float = 0.0
) -> tuple[float, float, float, float]:
    """(events/s end to end, p99 latency, webhooks/s accepted by the gateway, p99 of the gateway's answer).
    With `rate`, webhooks are sent open-loop at that steady rate (each at its due time, not when the last
    was answered) instead of as fast as `concurrency` allows."""
    tenant = f"bench-{uuid.uuid4().hex[:6]}"
    with FakeWorkday() as workday:
        async with grpc.aio.insecure_channel(services.target("sync")) as ch:
            stub = sync_pb2_grpc.SyncServiceStub(ch)
            await stub.CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=tenant,
                    credentials=workday.credentials,
                    connection=pb.Connection(
                        provider="workday",
                        owner="bench@acme.test",
                        base_url=workday.base_url,
                        settings={"tenant": workday.tenant},
                        field_mapping=struct(WORKDAY_MAPPING),
                    ),
                )
            )
            ats = await stub.CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=tenant,
                    credentials={"webhook_secret": SECRET},
                    connection=pb.Connection(provider="greenhouse", owner="bench@acme.test"),
                )
            )
        url = f"{services.base_url}/webhooks/greenhouse/{ats.connection.id}"
        hooks = [sign_greenhouse(json.dumps(synthetic_hire(i)).encode(), SECRET) for i in range(n)]
        sent: dict[str, float] = {}
        answered: list[float] = []
        sem = asyncio.Semaphore(concurrency if not rate else 512)
        limits = httpx.Limits(max_connections=concurrency if not rate else 512)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:

            async def send(i: int) -> None:
                if rate:
                    await asyncio.sleep(max(0.0, start + i / rate - time.time()))
                async with sem:
                    at = sent[str(90_000_000 + i)] = time.time()
                    r = await client.post(url, content=hooks[i].body, headers=hooks[i].headers)
                    answered.append(time.time() - at)
                    assert r.status_code == 202, r.text

            start = time.time()
            await asyncio.gather(*(send(i) for i in range(n)))
            ingested = time.time() - start
        conn = await asyncpg.connect(services.dsns["sync"])
        try:
            await conn.execute("SELECT set_config('app.tenant_id', $1, false)", tenant)
            while await conn.fetchval("SELECT count(*) FROM hris_syncs WHERE status = 'verified'") < n:
                await asyncio.sleep(0.05)
            done = await conn.fetch(
                "SELECT application_id, extract(epoch FROM updated_at) AS at FROM hris_syncs"
            )
        finally:
            await conn.close()
        assert len(workday.hires) == n, "duplicate or missing HRIS writes"
    latencies = [float(r["at"]) - sent[r["application_id"]] for r in done]
    elapsed = max(float(r["at"]) for r in done) - start
    return n / elapsed, p99(latencies), n / ingested, p99(answered)


async def raw_kafka(bootstrap: str, n: int) -> tuple[float, float]:
    topic = f"bench-raw-{uuid.uuid4().hex[:6]}"
    payload = json.dumps(synthetic_hire(0)).encode()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"g-{topic}",
        isolation_level="read_committed",
    )
    await producer.start()
    await producer.send_and_wait(topic, b"warm-up")
    await consumer.start()
    try:
        sent: dict[int, float] = {}
        latencies: list[float] = []
        start = time.time()
        for i in range(n):
            sent[i] = time.time()
            await producer.send(topic, payload, key=str(i).encode())
        await producer.flush()
        seen = 0
        while seen < n:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for r in records:
                    if r.key is None:
                        continue
                    latencies.append(time.time() - sent[int(r.key)])
                    seen += 1
            await consumer.commit()
        elapsed = time.time() - start
    finally:
        await consumer.stop()
        await producer.stop()
    return n / elapsed, p99(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100 events instead of 1,000")
    parser.add_argument("--rate", type=float, default=200.0, help="the steady rate of the paced run (ev/s)")
    args = parser.parse_args()
    n = 100 if args.quick else 1000
    os.environ.setdefault("INTERLOOP_SYNC_CREDENTIAL_KEYS", Fernet.generate_key().decode())
    with tempfile.TemporaryDirectory() as tmp, session_infra(Path(tmp) / "infra") as infra:
        # The gateway is ready only when every backend answers, so the whole platform runs.
        services = ServiceSet(infra, Path(tmp), ("scheduler", "scorecard", "sync", "gateway"))
        for svc in services.names:
            services.procs[svc].env[f"INTERLOOP_{svc.upper()}_LOG_LEVEL"] = "WARNING"
        services.start("scheduler", "scorecard", "sync")
        services.start("gateway")
        try:
            ours_rate, ours_p99, ingest_rate, _ = asyncio.run(pipeline(services, n, concurrency=16))
            paced = asyncio.run(pipeline(services, n, concurrency=16, rate=args.rate))
            raw_rate, raw_p99 = asyncio.run(raw_kafka(infra.kafka_bootstrap, n))
        finally:
            services.stop()
    print(
        f"sync pipeline  ({n} signed hires -> gateway -> sync -> Kafka -> Workday write + read-back): "
        f"{ours_rate:8.1f} events/s, p99 {ours_p99 * 1000:8.1f} ms"
    )
    print(f"  of which ingestion ({n} webhooks answered 202 by the gateway): {ingest_rate:8.1f} webhooks/s")
    print(
        f"raw aiokafka   ({n} records produce -> consume, acks=all, idempotent):              "
        f"{raw_rate:8.1f} events/s, p99 {raw_p99 * 1000:8.1f} ms"
    )
    print(
        f"steady {args.rate:.0f} webhooks/s ({n}): hires verified at {paced[0]:8.1f} ev/s, end-to-end p99 "
        f"{paced[1] * 1000:8.1f} ms; webhook answered p99 {paced[3] * 1000:8.1f} ms"
    )
    print(
        f"ratio: pipeline throughput = {ours_rate / raw_rate:.3f} x raw Kafka; "
        f"p99 latency = {ours_p99 / raw_p99:.1f} x raw Kafka"
    )


if __name__ == "__main__":
    main()
