"""Three replicas of the scorecard service consume one stream of 10,000 interview events (2,000 bookings,
five versions each: scheduled, rescheduled three times, then cancelled or moved once more). A third
replica joins mid-stream and, while the group rebalances for it, another replica is killed -9. Every
event is applied exactly once, never out of its booking's order (an event older than the version the
group holds would be parked: none is), nothing is dead-lettered, and each booking ends in the state its
last event says."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from interloop.events.v1 import interview_pb2
from interloop_common.events import encode, new_event
from interloop_common.rpc import ts
from interloop_devstack.procs import free_port, kill9
from interloop_devstack.stack import Ports, ServiceProcess, service_env, wait_serving
from interloop_devstack.testing import eventually, rows, value

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BOOKINGS = 2000
VERSIONS = 5  # 10,000 events
PARTITIONS = 6
BASE = datetime(2027, 9, 6, 9, tzinfo=UTC)


def _events(tenant: str) -> list[tuple[bytes, object]]:
    """Each booking's events in its order, interleaved across bookings as a busy producer would."""
    out = []
    for version in range(VERSIONS):
        for n in range(BOOKINGS):
            booking = f"b{n:05d}"
            start = BASE + timedelta(days=version, hours=n % 8)
            if version == VERSIONS - 1 and n % 2 == 0:
                payload = interview_pb2.InterviewCancelled(
                    booking_id=booking, sequence=version, candidate_id="c"
                )
                kind = "interview.cancelled"
            else:
                payload = interview_pb2.InterviewScheduled(
                    booking_id=booking,
                    candidate_id=f"c{n}",
                    interviewer_ids=[f"i{n % 40}"],
                    start=ts(start),
                    end=ts(start + timedelta(hours=1)),
                    sequence=version,
                )
                kind = "interview.scheduled" if version == 0 else "interview.rescheduled"
            event = new_event(
                type=kind,
                source="//interloop/scheduler",
                tenant_id=tenant,
                subject=f"booking/{booking}",
                payload=payload,
            )
            out.append((f"{tenant}/{booking}".encode(), event))
    return out


async def test_three_replicas_one_killed_in_a_rebalance_apply_10000_events_once_in_order(
    infra, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    prefix = f"t{uuid.uuid4().hex[:8]}."
    dsn = infra.database(f"scorecard_{prefix.strip('.')}")
    tenant = "replica-tenant"
    group = f"{prefix}scorecard.interviews"

    def replica(i: int) -> ServiceProcess:
        ports = Ports(http=free_port(), grpc={"scorecard": free_port()}, metrics={"scorecard": free_port()})
        env = service_env(
            "scorecard",
            dsn=dsn,
            bootstrap=infra.kafka_bootstrap,
            ports=ports,
            topic_prefix=prefix,
            extra={"INTERLOOP_SCORECARD_KAFKA_TOPIC_PARTITIONS": str(PARTITIONS)},
        )
        proc = ServiceProcess("scorecard", env, tmp_path / f"scorecard-{i}.log")
        proc.port = ports.grpc["scorecard"]  # type: ignore[attr-defined]
        return proc

    replicas = [replica(i) for i in range(3)]

    def start(proc: ServiceProcess) -> None:
        proc.start()
        wait_serving(proc, proc.port)  # type: ignore[attr-defined]

    async def applied() -> int:
        return await value(dsn, "SELECT count(*) FROM inbox WHERE consumer = $1", group) or 0

    async def applied_over(n: int) -> bool:
        return await applied() > n

    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)

    async def rebalancing(group_id: str) -> bool:
        # DescribeGroups: (error_code, group_id, state, ...) per group
        described = await admin.describe_consumer_groups([group_id])
        states = [g[2] for r in described for g in r.groups]
        return any(s in ("PreparingRebalance", "CompletingRebalance") for s in states)

    await admin.start()
    try:
        await asyncio.to_thread(start, replicas[0])
        await asyncio.to_thread(start, replicas[1])
        producer = AIOKafkaProducer(
            bootstrap_servers=infra.kafka_bootstrap, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            for key, event in _events(tenant):
                body, headers = encode(event)  # type: ignore[arg-type]
                await producer.send(f"{prefix}interloop.interview.v1", body, key=key, headers=headers)
            await producer.flush()
        finally:
            await producer.stop()

        await eventually(lambda: applied_over(1000), within=120, what="consumption under way")
        # A third replica joins; while the group rebalances for it, the second dies.
        replicas[2].start()
        await eventually(lambda: rebalancing(group), within=90, what="the group rebalancing for the third")
        kill9(replicas[1].proc)
        at_kill = await applied()
        assert at_kill < BOOKINGS * VERSIONS, "the kill must come mid-stream"
        await asyncio.to_thread(wait_serving, replicas[2], replicas[2].port)  # type: ignore[attr-defined]
        await eventually(lambda: applied_over(BOOKINGS * VERSIONS - 1), within=300, what="all 10,000 applied")
        await asyncio.sleep(2)  # a late redelivery would land now, and must change nothing
    finally:
        await admin.close()
        for proc in replicas:
            await asyncio.to_thread(proc.stop)

    assert await applied() == BOOKINGS * VERSIONS  # each once
    assert await value(dsn, "SELECT count(*) FROM parked_events") == 0  # never out of a booking's order
    assert await value(dsn, "SELECT count(*) FROM dead_letters") == 0
    held = await rows(
        dsn,
        "SELECT count(*) AS n, min(version) AS lo, max(version) AS hi FROM aggregate_versions"
        " WHERE consumer = $1",
        group,
    )
    assert dict(held[0]) == {"n": BOOKINGS, "lo": VERSIONS - 1, "hi": VERSIONS - 1}
    final = {
        r["booking_id"]: (r["status"], r["interview_end"])
        for r in await rows(
            dsn,
            "SELECT booking_id, status, interview_end FROM expected_scorecards WHERE tenant_id = $1",
            tenant,
        )
    }
    assert len(final) == BOOKINGS
    last = BASE + timedelta(days=VERSIONS - 1)
    for n in range(BOOKINGS):
        status, end = final[f"b{n:05d}"]
        if n % 2 == 0:
            assert status == "cancelled", (n, status)
        else:
            assert (status, end) == ("expected", last + timedelta(hours=n % 8 + 1)), (n, status, end)
