"""How event consumption scales with replicas: the scorecard service's interview consumer (inbox, one
transaction per partition batch, expected scorecards opened per event) applying N interview events
with one replica and with three, against a raw aiokafka consumer reading the same records from the same
broker in the same run (no database). Prints events/s for each, the ratios to raw and the 1 -> 3 growth.

    .venv/bin/python bench/consumers.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from interloop.events.v1 import interview_pb2
from interloop_common.events import encode, new_event
from interloop_common.rpc import ts
from interloop_devstack.procs import free_port
from interloop_devstack.stack import Ports, ServiceProcess, service_env, wait_serving
from interloop_devstack.testing import Infra, session_infra

PARTITIONS = 6
BASE = datetime(2027, 9, 6, 9, tzinfo=UTC)


async def publish(bootstrap: str, topic: str, n: int, tenants: int = 8) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        for i in range(n):
            tenant, booking = f"t{i % tenants}", f"b{i}"
            start = BASE + timedelta(hours=i % 500)
            event = new_event(
                type="interview.scheduled",
                source="//bench",
                tenant_id=tenant,
                subject=f"booking/{booking}",
                payload=interview_pb2.InterviewScheduled(
                    booking_id=booking,
                    candidate_id=f"c{i}",
                    interviewer_ids=[f"i{i % 40}"],
                    start=ts(start),
                    end=ts(start + timedelta(hours=1)),
                ),
            )
            body, headers = encode(event)
            await producer.send(topic, body, key=f"{tenant}/{booking}".encode(), headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


async def raw_consume(bootstrap: str, topic: str, n: int) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        got, t0 = 0, time.perf_counter()
        while got < n:
            batch = await consumer.getmany(timeout_ms=500)
            got += sum(len(v) for v in batch.values())
        return n / (time.perf_counter() - t0)
    finally:
        await consumer.stop()


def replicas(infra: Infra, root: Path, prefix: str, dsn: str, count: int) -> list[ServiceProcess]:
    out = []
    for i in range(count):
        ports = Ports(http=free_port(), grpc={"scorecard": free_port()}, metrics={"scorecard": free_port()})
        env = service_env(
            "scorecard",
            dsn=dsn,
            bootstrap=infra.kafka_bootstrap,
            ports=ports,
            topic_prefix=prefix,
            extra={"INTERLOOP_SCORECARD_KAFKA_TOPIC_PARTITIONS": str(PARTITIONS)},
        )
        proc = ServiceProcess("scorecard", env, root / f"{prefix}scorecard-{i}.log")
        proc.start()
        wait_serving(proc, ports.grpc["scorecard"])
        out.append(proc)
    return out


async def settled(bootstrap: str, group: str, members: int) -> None:
    """Until the group is Stable with every replica in it (a rebalance would land inside the timing)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        while True:
            described = await admin.describe_consumer_groups([group])
            groups = [
                g for r in described for g in r.groups
            ]  # (error, id, state, protocol type, ..., members)
            if groups and groups[0][2] == "Stable" and len(groups[0][5]) == members:
                return
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def applied(dsn: str, group: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT set_config('app.system', 'on', false)")
        return await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", group)
    finally:
        await conn.close()


def consume_with(infra: Infra, root: Path, n: int, count: int) -> float:
    """Start `count` replicas on a fresh database and topic prefix, wait until their group consumes, publish
    n events and time until every one is applied."""
    prefix = f"b{uuid.uuid4().hex[:8]}."
    dsn = infra.database(f"scorecard_{prefix.strip('.')}")
    group = f"{prefix}scorecard.interviews"
    procs = replicas(infra, root, prefix, dsn, count)
    try:
        asyncio.run(asyncio.wait_for(settled(infra.kafka_bootstrap, group, count), 120))
        t0 = time.perf_counter()
        asyncio.run(publish(infra.kafka_bootstrap, f"{prefix}interloop.interview.v1", n))
        while asyncio.run(applied(dsn, group)) < n:
            time.sleep(0.05)
        return n / (time.perf_counter() - t0)
    finally:
        for p in procs:
            p.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args()
    n = 2000 if args.quick else 10000
    print(
        f"consumer replicas bench ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC), {n} interview events, "
        f"{PARTITIONS} partitions"
    )
    with tempfile.TemporaryDirectory() as tmp, session_infra(Path(tmp)) as infra:
        topic = f"raw.{uuid.uuid4().hex[:8]}"
        asyncio.run(publish(infra.kafka_bootstrap, topic, n))
        raw = asyncio.run(raw_consume(infra.kafka_bootstrap, topic, n))
        one = consume_with(infra, Path(tmp), n, 1)
        three = consume_with(infra, Path(tmp), n, 3)
        print(
            f"scorecard consumer  1 replica {one:7.0f} ev/s (ratio {one / raw:.3f}) | "
            f"3 replicas {three:7.0f} ev/s (ratio {three / raw:.3f}) | growth x{three / one:.2f} | "
            f"raw aiokafka consume {raw:7.0f} ev/s"
        )


if __name__ == "__main__":
    main()
