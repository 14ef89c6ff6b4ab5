"""The foundation's two hot paths, each against an anchor measured in the same run.

1. Event pipeline: state change + outbox row in PostgreSQL -> relay -> Kafka (acks=all, idempotent) ->
   inbox consumer applying each event in its own transaction. Anchor: raw aiokafka produce (same producer
   settings) + consume of the same number of records, no database. Prints events/s, the ratio, and the
   commit-to-applied latency p50/p99 of the pipeline.
2. REST: an authenticated `GET /v1/interviewers` on the gateway (API-key lookup, gRPC to the scheduler,
   a tenant-scoped PostgreSQL query, problem+json machinery) against a bare Litestar app served by the
   same uvicorn, answering the same JSON from memory. Prints requests/s and the ratio.

    .venv/bin/python bench/foundation.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from interloop.events.v1 import interview_pb2
from interloop_cli.demo import create_api_key
from interloop_common import db, kafka
from interloop_common.events import new_event
from interloop_common.inbox import InboxConsumer
from interloop_common.outbox import OutboxRelay, add_event
from interloop_devstack.procs import free_port
from interloop_devstack.testing import Infra, ServiceSet, session_infra


async def raw_kafka(bootstrap: str, n: int) -> float:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(bootstrap, [topic])
    producer = kafka.make_producer(bootstrap, "bench-raw")
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
    )
    await producer.start()
    await consumer.start()
    payload = new_event(
        type="interview.completed",
        source="bench",
        tenant_id="t",
        subject="s",
        payload=interview_pb2.InterviewCompleted(booking_id="b"),
    )
    from interloop_common.events import encode

    body, headers = encode(payload)
    t0 = time.perf_counter()
    futures = [
        await producer.send(topic, body, key=f"t/{i % 64}".encode(), headers=headers) for i in range(n)
    ]
    await asyncio.gather(*futures)
    got = 0
    while got < n:
        batch = await consumer.getmany(timeout_ms=500)
        got += sum(len(v) for v in batch.values())
    elapsed = time.perf_counter() - t0
    await consumer.stop()
    await producer.stop()
    return n / elapsed


async def pipeline(infra: Infra, n: int) -> tuple[float, list[float]]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    dsn = infra.database(name)
    await asyncio.to_thread(db.migrate, dsn, "interloop_scorecard")
    kafka.set_topic_prefix(f"{name}.")
    await kafka.ensure_topics(infra.kafka_bootstrap, kafka.all_topics())
    pool = await db.create_pool(dsn, min_size=2, max_size=8)
    producer = kafka.make_producer(infra.kafka_bootstrap, "bench")
    await producer.start()
    committed: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()

    async def apply(conn: asyncpg.Connection, event) -> None:  # type: ignore[no-untyped-def]
        await conn.execute(
            "UPDATE tenant_activity SET interviews_seen = interviews_seen + 1 WHERE tenant_id = $1",
            event.tenant_id,
        )
        latencies.append(time.perf_counter() - committed[event.id])
        if len(latencies) >= n:
            done.set()

    relay = OutboxRelay(pool, producer, service="bench")
    consumer = InboxConsumer(
        pool=pool,
        producer=producer,
        bootstrap_servers=infra.kafka_bootstrap,
        service="bench",
        group=f"{name}.consumer",
        topics=[kafka.topic("interview")],
        handlers={"interview.completed": apply},
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    async with pool.acquire() as conn:
        await conn.execute("SELECT set_config('app.system', 'on', false)")
        await conn.execute(
            "INSERT INTO tenant_activity (tenant_id) SELECT 't' || g FROM generate_series(0, 63) g"
        )
    t0 = time.perf_counter()
    for start in range(0, n, 100):  # 100 state changes per transaction, like a busy service
        async with db.tenant_tx(pool, "t0") as conn:
            for i in range(start, min(n, start + 100)):
                e = new_event(
                    type="interview.completed",
                    source="bench",
                    tenant_id=f"t{i % 64}",
                    subject=f"booking/{i}",
                    payload=interview_pb2.InterviewCompleted(booking_id=str(i)),
                )
                await add_event(conn, e)
                committed[e.id] = 0.0
        now = time.perf_counter()
        for eid, v in committed.items():
            if v == 0.0:
                committed[eid] = now
    await asyncio.wait_for(done.wait(), timeout=600)
    elapsed = time.perf_counter() - t0
    relay.stop()
    consumer.stop()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await producer.stop()
    await pool.close()
    kafka.set_topic_prefix("")
    return n / elapsed, latencies


async def hammer(url: str, headers: dict[str, str], n: int, concurrency: int = 16) -> float:
    async with httpx.AsyncClient(headers=headers, timeout=30) as c:
        for _ in range(50):  # warm-up
            (await c.get(url)).raise_for_status()
        sem = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with sem:
                (await c.get(url)).raise_for_status()

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.perf_counter() - t0)


BARE_APP = """
import json, sys
import uvicorn
from litestar import Litestar, get
BODY = json.loads(sys.argv[2])

@get("/v1/interviewers")
async def interviewers() -> dict:
    return BODY

uvicorn.run(Litestar([interviewers]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False)
"""


def bare_app(port: int, body: dict) -> subprocess.Popen:
    """The anchor runs in its own process, like the gateway, so neither shares the client's GIL."""
    proc = subprocess.Popen([sys.executable, "-c", BARE_APP, str(port), json.dumps(body)])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/interviewers")
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("bare Litestar app did not start")


def rest(infra: Infra, root: Path, n: int) -> tuple[float, float]:
    services = ServiceSet(infra, root, ("scheduler", "scorecard", "sync", "gateway"))
    # one key at full speed: the per-key limit would measure itself, not the gateway
    services.procs["gateway"].env["INTERLOOP_GATEWAY_API_KEY_CALLS_PER_MINUTE"] = "0"
    services.procs["gateway"].env["INTERLOOP_GATEWAY_TENANT_CALLS_PER_MINUTE"] = "0"
    services.start("scheduler", "scorecard", "sync")
    services.start("gateway")
    try:
        key = asyncio.run(create_api_key(services.dsns["gateway"], tenant_id="bench", key="il_bench"))
        h = {"Authorization": f"Bearer {key}"}
        for i in range(20):
            httpx.post(
                f"{services.base_url}/v1/interviewers",
                headers=h,
                json={"id": f"i{i}", "email": f"i{i}@x.test", "time_zone": "UTC"},
            ).raise_for_status()
        body = httpx.get(f"{services.base_url}/v1/interviewers", headers=h).json()
        ours = asyncio.run(hammer(f"{services.base_url}/v1/interviewers", h, n))
        port = free_port()
        bare = bare_app(port, body)
        anchor = asyncio.run(hammer(f"http://127.0.0.1:{port}/v1/interviewers", {}, n))
        bare.terminate()
        bare.wait(10)
        return ours, anchor
    finally:
        services.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--only", choices=("pipeline", "rest"), help="run one of the two")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    events, requests = (500, 300) if args.quick else (5000, 3000)
    print(
        f"interloop platform bench ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC), "
        "2-core machine shared with the stack"
    )
    with tempfile.TemporaryDirectory() as tmp, session_infra(Path(tmp)) as infra:
        if args.only in (None, "pipeline"):
            raw = asyncio.run(raw_kafka(infra.kafka_bootstrap, events))
            ours, lat = asyncio.run(pipeline(infra, events))
            lat_ms = sorted(x * 1000 for x in lat)
            p99 = lat_ms[int(len(lat_ms) * 0.99) - 1]
            print(
                f"event pipeline   {events} events: outbox->Kafka->inbox {ours:8.0f} ev/s | raw aiokafka "
                f"produce+consume {raw:8.0f} ev/s | ratio {ours / raw:.3f} | latency p50 "
                f"{statistics.median(lat_ms):.1f} ms p99 {p99:.1f} ms"
            )
        if args.only == "pipeline":
            return
        gw, bare = rest(infra, Path(tmp), requests)
        print(
            f"REST             {requests} GET /v1/interviewers x16 concurrent: gateway {gw:7.0f} req/s | "
            f"bare Litestar {bare:7.0f} req/s | ratio {gw / bare:.3f}"
        )


if __name__ == "__main__":
    main()
