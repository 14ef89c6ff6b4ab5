"""The partner API's event stream, against raw aiokafka measured in the same run.

1. Stream throughput: N interview events of one tenant published to the event topic (among as many of
   other tenants, which the stream must filter out), received on an open `SubscribeEvents` through the
   gateway (partner key, grant, Kafka reader, tenant filter, protobuf over gRPC). Anchor: raw aiokafka
   produce + consume of the same 2N records, no filtering, no gRPC.
2. End-to-end latency: a decision recorded over REST (gateway -> scorecard -> outbox -> Kafka) until it
   arrives on the partner's open stream, one at a time. Anchor: one raw aiokafka produce -> consume round.
3. Push -> stream: the partner pushes a candidate, an application and a move into the interview stage
   (partner API -> sync -> Kafka -> scheduler opens a self-scheduling request -> sync emails the link over
   SMTP); the candidate opens the link, reads the slots and books (REST); interview.scheduled arrives on the
   partner's open stream. Split into push -> email, and booking -> stream; services on their default
   settings. Same anchor.

    .venv/bin/python bench/partner.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import grpc
import httpx
from aiokafka import AIOKafkaConsumer
from interloop.events.v1 import interview_pb2
from interloop.partner.v1 import partner_pb2 as pb
from interloop.partner.v1 import partner_pb2_grpc
from interloop_cli.demo import create_api_key
from interloop_common import kafka
from interloop_common.events import encode, new_event
from interloop_devstack.testing import Mailbox, ServiceSet, session_infra
from interloop_gateway.store import partners

sys.path.insert(0, str(Path(__file__).parent))
from foundation import raw_kafka  # noqa: E402  # the same anchor as the foundation bench

# The vendor's example client (examples/partner) does the pushing, as a vendor would.
_spec = importlib.util.spec_from_file_location(
    "acme_sync", Path(__file__).resolve().parents[1] / "examples" / "partner" / "acme_sync.py"
)
assert _spec is not None and _spec.loader is not None
acme_sync = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(acme_sync)
ALWAYS = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(1, 8)]
STAGE = "Onsite Interview"


async def raw_round_trip(bootstrap: str, rounds: int) -> list[float]:
    """Seconds from send to receipt of one record at a time: the floor under any Kafka-carried latency."""
    topic = f"bench.rtt.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(bootstrap, [topic], partitions=1)
    producer = kafka.make_producer(bootstrap, "bench-rtt")
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await producer.start()
    await consumer.start()
    out = []
    try:
        for i in range(rounds):
            t0 = time.perf_counter()
            await (await producer.send(topic, str(i).encode()))
            while not await consumer.getmany(timeout_ms=1000):
                pass
            out.append(time.perf_counter() - t0)
    finally:
        await consumer.stop()
        await producer.stop()
    return out


async def _partner(dsn: str, tenant: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        await partners.register(conn, "bench-ats", "Bench ATS", calls_per_minute=1_000_000)
        key = await partners.issue_key(conn, "bench-ats")
        await partners.grant(conn, tenant, "bench-ats", ["read", "subscribe", "push"], "bench")
        return key
    finally:
        await conn.close()


class Stream:
    def __init__(self, target: str, metadata: list[tuple[str, str]]) -> None:
        self.channel = grpc.aio.insecure_channel(target)
        self.stub = partner_pb2_grpc.PartnerServiceStub(self.channel)
        self.metadata = metadata
        self.arrived: dict[str, float] = {}  # event subject -> arrival time
        self.types: dict[str, str] = {}  # event subject -> type of the last event about it
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        async for item in self.stub.SubscribeEvents(pb.SubscribeEventsRequest(), metadata=self.metadata):
            if item.HasField("heartbeat"):
                self.ready.set()
            else:
                self.arrived[item.event.subject] = time.perf_counter()
                self.types[item.event.subject] = item.event.type

    async def open(self) -> None:
        self.task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.ready.wait(), 60)

    async def close(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.channel.close()


async def throughput(
    services: ServiceSet, bootstrap: str, n: int, metadata: list[tuple[str, str]], tenant: str
) -> float:
    kafka.set_topic_prefix(services.prefix)
    topic = kafka.topic("interview")
    await kafka.ensure_topics(bootstrap, [topic])
    stream = Stream(services.target("gateway"), metadata)
    await stream.open()
    producer = kafka.make_producer(bootstrap, "bench-partner")
    await producer.start()
    try:
        t0 = time.perf_counter()
        sends = []
        for i in range(2 * n):
            who = tenant if i % 2 == 0 else "someone-else"
            body, headers = encode(
                new_event(
                    type="interview.completed",
                    source="bench",
                    tenant_id=who,
                    subject=f"booking/{i}",
                    payload=interview_pb2.InterviewCompleted(booking_id=str(i)),
                )
            )
            sends.append(await producer.send(topic, body, key=f"{who}/{i % 64}".encode(), headers=headers))
        await asyncio.gather(*sends)
        while len(stream.arrived) < n:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - t0
    finally:
        await producer.stop()
        await stream.close()
        kafka.set_topic_prefix("")
    assert len(stream.arrived) == n  # only the tenant's own
    return 2 * n / elapsed


async def latency(
    services: ServiceSet, rounds: int, metadata: list[tuple[str, str]], admin_key: str
) -> list[float]:
    stream = Stream(services.target("gateway"), metadata)
    await stream.open()
    out = []
    async with httpx.AsyncClient(
        base_url=services.base_url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=30
    ) as rest:
        try:
            for i in range(rounds):
                cand = f"lat-{i}"
                t0 = time.perf_counter()
                r = await rest.post(
                    "/v1/decisions", json={"candidate_id": cand, "job_id": "j", "decision": "hire"}
                )
                r.raise_for_status()
                subject = f"candidate/{cand}"  # what scorecard's decision.recorded is about
                while subject not in stream.arrived:
                    await asyncio.sleep(0.002)
                out.append(stream.arrived[subject] - t0)
        finally:
            await stream.close()
    return out


async def push_to_stream(
    services: ServiceSet,
    mailbox: Mailbox,
    rounds: int,
    metadata: list[tuple[str, str]],
    admin_key: str,
) -> tuple[list[float], list[float], list[float]]:
    """Per round: (push -> scheduling email, booking -> interview.scheduled on the stream, push -> stream)."""
    job = "bench-job"
    async with httpx.AsyncClient(
        base_url=services.base_url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=30
    ) as rest:
        for who in ("pia", "pat"):
            r = await rest.put(
                f"/v1/scheduling/interviewers/{who}",
                json={"email": f"{who}@bench.test", "time_zone": "UTC", "working_hours": ALWAYS},
            )
            r.raise_for_status()
        panel = {"panel": [{"interviewer_ids": [w]} for w in ("pia", "pat")], "duration_minutes": 30}
        (await rest.put(f"/v1/scheduling/job-panels/{job}", json=panel)).raise_for_status()
    stream = Stream(services.target("gateway"), metadata)
    await stream.open()
    to_mail, to_stream, total = [], [], []
    try:
        async with httpx.AsyncClient(base_url=services.base_url, timeout=30) as public:
            for i in range(rounds):
                cand, email = f"push-{i}", f"push-{i}@bench.test"
                t0 = time.perf_counter()
                outcomes = await acme_sync.push_stage_move(
                    stream.stub,
                    metadata,
                    candidate=cand,
                    application=f"app-{i}",
                    job=job,
                    stage=STAGE,
                    email=email,
                    interview_stage=True,
                )
                assert set(outcomes.values()) == {"INGEST_OUTCOME_ACCEPTED"}, outcomes
                while not mailbox.to(email):
                    await asyncio.sleep(0.002)
                t_mail = time.perf_counter()
                token = re.search(r"/schedule/(\S+)", mailbox.to(email)[0].get_content())
                assert token, "no scheduling link in the email"
                slots = await public.get(f"/v1/scheduling-links/{token.group(1)}/slots", params={"tz": "UTC"})
                slots.raise_for_status()
                t_book = time.perf_counter()
                booked = await public.post(
                    f"/v1/scheduling-links/{token.group(1)}/confirm",
                    json={"start": slots.json()["slots"][0]["start"]},
                )
                booked.raise_for_status()
                subject = f"booking/{booked.json()['booking']['id']}"
                while stream.types.get(subject) != "interview.scheduled":
                    await asyncio.sleep(0.002)
                t_end = stream.arrived[subject]
                to_mail.append(t_mail - t0)
                to_stream.append(t_end - t_book)
                total.append(t_end - t0)
    finally:
        await stream.close()
    return to_mail, to_stream, total


def _ms(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[max(0, int(len(xs) * q) - 1)] * 1000


async def measure(
    services: ServiceSet, bootstrap: str, mailbox: Mailbox, n: int, rounds: int, pushes: int
) -> None:
    """Every phase in one event loop (gRPC's aio poller outlives a loop closed under it)."""
    tenant = "bench"
    admin = await create_api_key(services.dsns["gateway"], tenant_id=tenant, key="il_bench_partner")
    key = await _partner(services.dsns["gateway"], tenant)
    metadata = [("authorization", f"Bearer {key}"), ("x-tenant-id", tenant)]
    raw = await raw_kafka(bootstrap, 2 * n)
    ours = await throughput(services, bootstrap, n, metadata, tenant)
    print(
        f"partner stream   {2 * n} records ({n} the tenant's): {ours:8.0f} rec/s | raw aiokafka "
        f"{raw:8.0f} rec/s | ratio {ours / raw:.3f}"
    )
    rtt = await raw_round_trip(bootstrap, rounds)
    e2e = await latency(services, rounds, metadata, admin)
    print(
        f"decision -> partner stream, {rounds} one at a time: p50 {_ms(e2e, 0.5):6.1f} ms, "
        f"p99 {_ms(e2e, 0.99):6.1f} ms | raw aiokafka round trip p50 {_ms(rtt, 0.5):5.1f} ms | "
        f"ratio {statistics.median(e2e) / statistics.median(rtt):.1f}x"
    )
    mail, booked, whole = await push_to_stream(services, mailbox, pushes, metadata, admin)
    ratio = statistics.median(whole) / statistics.median(rtt)
    print(
        f"push -> interview.scheduled on the stream, {pushes} candidates: "
        f"p50 {_ms(whole, 0.5):6.1f} ms, p99 {_ms(whole, 0.99):6.1f} ms | "
        f"push -> scheduling email p50 {_ms(mail, 0.5):6.1f} ms | "
        f"booking -> stream p50 {_ms(booked, 0.5):6.1f} ms | ratio {ratio:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    n, rounds, pushes = (500, 20, 5) if args.quick else (5000, 100, 30)
    with tempfile.TemporaryDirectory() as tmp, session_infra(Path(tmp)) as infra, Mailbox() as mailbox:
        services = ServiceSet(infra, Path(tmp) / "services", ("scheduler", "scorecard", "sync", "gateway"))
        services.procs["sync"].env.update(
            {"INTERLOOP_SYNC_SMTP_HOST": "127.0.0.1", "INTERLOOP_SYNC_SMTP_PORT": str(mailbox.port)}
        )
        services.start("scheduler", "scorecard", "sync")
        services.start("gateway")
        try:
            asyncio.run(measure(services, infra.kafka_bootstrap, mailbox, n, rounds, pushes))
        finally:
            services.stop()


if __name__ == "__main__":
    main()
