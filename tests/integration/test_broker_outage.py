"""A Kafka outage is waited out, on a broker of this module's own that it stops and starts again: the
services keep answering gRPC, start without the broker, and buffer events in the outbox; when the broker
returns every event is published once, in order, and applied once. A record Kafka refuses for good is
quarantined with an alert while the rows after it are published. Each case counts lost and duplicated
effects (goal 0 and 0)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from grpc_health.v1 import health_pb2, health_pb2_grpc
from interloop.events.v1 import interview_pb2
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop.scheduler.v1 import scheduler_pb2_grpc
from interloop_common import kafka
from interloop_common.events import new_event
from interloop_common.outbox import add_event
from interloop_common.rpc import ts
from interloop_devstack.kafka import LocalKafka, kafka_libs
from interloop_devstack.procs import StackError, free_port
from interloop_devstack.testing import Infra, ServiceSet, consumer_caught_up, eventually, rows, value

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BASE = datetime(2027, 3, 1, tzinfo=UTC)
# The interview topic refuses record batches above this (a broker-side refusal); the producer's own
# limit (max_request_size, 1 MiB) refuses larger records before they leave the process.
TOPIC_LIMIT = 64 * 1024
PARTITIONS = 3


@dataclass
class Stack:
    broker: LocalKafka
    services: ServiceSet

    @property
    def interview_topic(self) -> str:
        return f"{self.services.prefix}interloop.interview.v1"


async def _small_interview_topic(bootstrap: str, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, PARTITIONS, 1, topic_configs={"max.message.bytes": str(TOPIC_LIMIT)})]
        )
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    try:
        kafka_libs()
    except StackError as exc:
        pytest.skip(f"a broker this test can stop needs the local Kafka jars: {exc}")
    root = tmp_path_factory.mktemp("outage")
    broker = LocalKafka(root / "kafka", free_port(), free_port())
    broker.start()
    services = ServiceSet(
        Infra(kafka_bootstrap=broker.bootstrap, postgres=infra.postgres, admin_dsn=infra.admin_dsn),
        root,
        ("scheduler", "scorecard"),
    )
    try:
        asyncio.run(_small_interview_topic(broker.bootstrap, f"{services.prefix}interloop.interview.v1"))
        services.start()
        yield Stack(broker, services)
    finally:
        services.stop()
        broker.stop()


async def _serving(target: str) -> bool:
    async with grpc.aio.insecure_channel(target) as ch:
        resp = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return resp.status == health_pb2.HealthCheckResponse.SERVING


async def _published_records(bootstrap: str, topic: str, tenant: str) -> dict[int, list[str]]:
    """Every record of `tenant` in `topic`, from the beginning: partition -> event ids in log order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        found: dict[int, list[str]] = defaultdict(list)
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for r in records:
                    headers = {k: v.decode() for k, v in r.headers}
                    if headers.get("ce_tenant") == tenant:
                        found[tp.partition].append(headers["ce_id"])
        return found
    finally:
        await consumer.stop()


def _count_losses_and_doubles(
    published: dict[int, list[str]], outbox: list[asyncpg.Record]
) -> tuple[set[str], dict[str, int], list[str]]:
    """(lost ids, duplicated ids with their counts, partitions whose log order is not the outbox order)."""
    seq_of = {str(r["id"]): r["seq"] for r in outbox}
    counts = Counter(eid for ids in published.values() for eid in ids)
    lost = set(seq_of) - set(counts)
    doubled = {eid: n for eid, n in counts.items() if n > 1}
    disordered = [
        f"partition {p}: {[seq_of.get(e) for e in ids]}"
        for p, ids in published.items()
        if [seq_of.get(e, -1) for e in ids] != sorted(seq_of.get(e, -1) for e in ids)
    ]
    return lost, doubled, disordered


async def _seen(dsn: str, tenant: str) -> int:
    """interview.scheduled applications counted by scorecard (a second application would count twice)."""
    found = await value(dsn, "SELECT interviews_seen FROM tenant_activity WHERE tenant_id = $1", tenant)
    return found or 0


async def _the_log_once_consumed(
    stack: Stack, tenant: str, *, also: str = ""
) -> tuple[list[asyncpg.Record], dict[int, list[str]]]:
    """Once scorecard consumed the interview topic to its end: the tenant's interview.scheduled outbox
    rows (`also` narrows them) and the tenant's records in the topic's log."""
    group = f"{stack.services.prefix}scorecard.interviews"
    await eventually(
        lambda: consumer_caught_up(stack.broker.bootstrap, group, stack.interview_topic),
        within=120,
        what="the consumer caught up",
    )
    outbox = await rows(
        stack.services.dsns["scheduler"],
        "SELECT id, seq FROM outbox WHERE tenant_id = $1 AND event_type = 'interview.scheduled' " + also,
        tenant,
    )
    return outbox, await _published_records(stack.broker.bootstrap, stack.interview_topic, tenant)


async def test_a_broker_outage_is_waited_out_and_each_event_is_published_and_applied_once_in_order(
    stack: Stack,
) -> None:
    services = stack.services
    tenant = f"outage-{uuid.uuid4().hex[:8]}"
    scheduler_dsn, scorecard_dsn = services.dsns["scheduler"], services.dsns["scorecard"]
    booked = 0

    async def book(stub: scheduler_pb2_grpc.SchedulerServiceStub, n: int) -> None:
        nonlocal booked
        start = BASE + timedelta(hours=n)
        await stub.ScheduleInterview(
            pb.ScheduleInterviewRequest(
                tenant_id=tenant,
                candidate_id=f"c{n}",
                interviewer_ids=[f"i{n % 10}"],
                start=ts(start),
                end=ts(start + timedelta(minutes=45)),
            ),
            timeout=30,
            wait_for_ready=True,
        )
        booked += 1

    def seen():  # type: ignore[no-untyped-def]
        return _seen(scorecard_dsn, tenant)

    async def unpublished() -> int:
        return await value(
            scheduler_dsn,
            "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND event_type = 'interview.scheduled' "
            "AND published_at IS NULL",
            tenant,
        )

    async with grpc.aio.insecure_channel(services.target("scheduler")) as ch:
        stub = scheduler_pb2_grpc.SchedulerServiceStub(ch)
        for n in range(10):
            await stub.UpsertInterviewer(
                pb.UpsertInterviewerRequest(
                    tenant_id=tenant,
                    interviewer=pb.Interviewer(id=f"i{n}", email=f"i{n}@x.test", time_zone="UTC"),
                )
            )
        for n in range(20):
            await book(stub, n)
        await eventually(lambda: _equals(seen(), 20), within=120, what="the first bookings applied")

        await asyncio.to_thread(stack.broker.stop)
        # A steady trickle of bookings for longer than the producer's request timeout (30 s): every RPC is
        # answered, the events wait in the outbox, nothing is acknowledged, no process ends.
        for n in range(20, 60):
            await book(stub, n)
            await asyncio.sleep(1)
        assert await unpublished() == booked - 20
        for svc in ("scheduler", "scorecard"):
            assert services.procs[svc].proc.poll() is None, f"{svc} ended during the outage"
            assert await _serving(services.target(svc)), f"{svc} stopped SERVING during the outage"

        # Both services restart while the broker is still away: they start and serve without it.
        await asyncio.to_thread(services.stop)
        await asyncio.to_thread(services.start)
        for n in range(60, 80):
            await book(stub, n)
        assert await unpublished() == booked - 20
        assert await seen() == 20

    await asyncio.to_thread(stack.broker.start)
    await eventually(lambda: _equals(unpublished(), 0), within=180, what="the outbox drained")
    await eventually(lambda: _equals(seen(), booked), within=180, what="every booking applied")
    outbox, published = await _the_log_once_consumed(stack, tenant)
    lost, doubled, disordered = _count_losses_and_doubles(published, outbox)
    assert len(outbox) == booked == 80
    assert (len(lost), len(doubled)) == (0, 0), f"lost {sorted(lost)}, published twice {doubled}"
    assert disordered == [], "published out of outbox order"

    applied = await seen()
    inbox = await value(
        scorecard_dsn,
        "SELECT count(*) FROM inbox WHERE tenant_id = $1 AND consumer = $2",
        tenant,
        f"{services.prefix}scorecard.interviews",
    )
    scorecards = await value(
        scorecard_dsn, "SELECT count(*) FROM expected_scorecards WHERE tenant_id = $1", tenant
    )
    assert (booked - applied, applied - booked) == (0, 0), f"{applied} of {booked} bookings applied"
    assert inbox == scorecards == booked
    assert await value(scorecard_dsn, "SELECT count(*) FROM dead_letters WHERE tenant_id = $1", tenant) == 0


async def _equals(check, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return await check == expected


def _scheduled(tenant: str, n: int, candidate_id: str | None = None):  # type: ignore[no-untyped-def]
    start = BASE + timedelta(days=30, hours=n)
    return new_event(
        type="interview.scheduled",
        source="//test/outage",
        tenant_id=tenant,
        subject=f"booking/q{n}",
        payload=interview_pb2.InterviewScheduled(
            booking_id=f"q{n}",
            candidate_id=candidate_id or f"c{n}",
            interviewer_ids=["i0"],
            start=ts(start),
            end=ts(start + timedelta(minutes=30)),
        ),
    )


async def test_a_record_kafka_refuses_is_quarantined_and_the_rows_after_it_are_published(
    stack: Stack,
) -> None:
    services = stack.services
    tenant = f"quarantine-{uuid.uuid4().hex[:8]}"
    scheduler_dsn, scorecard_dsn = services.dsns["scheduler"], services.dsns["scorecard"]
    good = [_scheduled(tenant, n) for n in range(9)]
    refused_by_topic = _scheduled(tenant, 100, candidate_id="x" * (2 * TOPIC_LIMIT))
    refused_by_producer = _scheduled(tenant, 101, candidate_id="y" * (1_200_000))
    staged = [*good[:3], refused_by_topic, *good[3:6], refused_by_producer, *good[6:]]

    kafka.set_topic_prefix(services.prefix)  # add_event names the topic the services publish to
    try:
        conn = await asyncpg.connect(scheduler_dsn)
        try:
            async with conn.transaction():
                for event in staged:
                    await add_event(conn, event)
        finally:
            await conn.close()
    finally:
        kafka.set_topic_prefix("")

    refused_ids = [refused_by_topic.id, refused_by_producer.id]

    async def quarantined() -> list[asyncpg.Record]:
        return await rows(
            scheduler_dsn,
            "SELECT id, quarantine_reason, published_at FROM outbox WHERE quarantined_at IS NOT NULL "
            "AND id = ANY($1::uuid[])",
            refused_ids,
        )

    found = await eventually(lambda: _at_least(quarantined(), 2), within=120, what="both rows quarantined")
    for row in found:
        assert row["published_at"] is None
        assert "MessageSizeTooLarge" in row["quarantine_reason"], row["quarantine_reason"]

    async def unpublished() -> int:
        return await value(
            scheduler_dsn,
            "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND published_at IS NULL "
            "AND quarantined_at IS NULL",
            tenant,
        )

    await eventually(lambda: _equals(unpublished(), 0), within=120, what="the rows after them published")
    alerts = await rows(
        scheduler_dsn,
        "SELECT headers->>'ce_subject' AS subject FROM outbox WHERE tenant_id = $1 "
        "AND event_type = 'notification.alert' "
        "AND published_at IS NOT NULL",
        tenant,
    )
    assert sorted(a["subject"] for a in alerts) == sorted(f"outbox-quarantine/{i}" for i in refused_ids)

    await eventually(
        lambda: _equals(_seen(scorecard_dsn, tenant), len(good)), within=120, what="the good rows applied"
    )
    outbox, published = await _the_log_once_consumed(stack, tenant, also="AND quarantined_at IS NULL")
    lost, doubled, disordered = _count_losses_and_doubles(published, outbox)
    assert len(outbox) == len(good)
    assert (len(lost), len(doubled)) == (0, 0), f"lost {sorted(lost)}, published twice {doubled}"
    assert disordered == []
    assert not set(refused_ids) & {e for ids in published.values() for e in ids}
    assert await _seen(scorecard_dsn, tenant) == len(good)
    assert services.procs["scheduler"].proc.poll() is None


async def _at_least(check, n: int):  # type: ignore[no-untyped-def]
    found = await check
    return found if len(found) >= n else None
