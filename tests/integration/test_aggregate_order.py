"""Order per aggregate: a consumer never applies an event older than the version of the aggregate it
already holds. The scorecard service applies a booking's schedule and its cancellation; a reschedule it
had dead-lettered is replayed afterwards (older SEQUENCE than the cancellation) and must be parked,
not applied: applied, it would reopen the cancelled interview's scorecards."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from interloop.events.v1 import interview_pb2
from interloop_common.events import encode, new_event
from interloop_common.inbox import REPLAY_FOR
from interloop_common.rpc import ts
from interloop_devstack.testing import eventually, rows, value

pytestmark = pytest.mark.integration

START = datetime(2027, 6, 7, 9, tzinfo=UTC)


async def test_a_replayed_older_event_is_parked_and_the_newer_state_stands(platform, infra) -> None:  # type: ignore[no-untyped-def]
    tenant = f"order-{uuid.uuid4().hex[:8]}"
    booking = str(uuid.uuid4())
    topic = f"{platform.prefix}interloop.interview.v1"
    group = f"{platform.prefix}scorecard.interviews"
    interviewer = interview_pb2.Attendee(id="i-1", email="ada@example.com", role="interviewer")

    def scheduled(event_type: str, sequence: int, start: datetime):  # type: ignore[no-untyped-def]
        return new_event(
            type=event_type,
            source="//interloop/scheduler",
            tenant_id=tenant,
            subject=f"booking/{booking}",
            payload=interview_pb2.InterviewScheduled(
                booking_id=booking,
                candidate_id="c-1",
                interviewer_ids=["i-1"],
                start=ts(start),
                end=ts(start + timedelta(hours=1)),
                sequence=sequence,
                attendees=[interviewer],
            ),
        )

    first = scheduled("interview.scheduled", 0, START)
    moved = scheduled("interview.rescheduled", 1, START + timedelta(days=1))
    cancelled = new_event(
        type="interview.cancelled",
        source="//interloop/scheduler",
        tenant_id=tenant,
        subject=f"booking/{booking}",
        payload=interview_pb2.InterviewCancelled(booking_id=booking, sequence=2, candidate_id="c-1"),
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    key = f"{tenant}/{booking}".encode()

    async def send(event, replay_for: str | None = None) -> None:  # type: ignore[no-untyped-def]
        body, headers = encode(event)
        if replay_for is not None:
            headers = [*headers, (REPLAY_FOR, replay_for.encode())]
        await producer.send_and_wait(topic, body, key=key, headers=headers)

    dsn = platform.dsns["scorecard"]
    status = "SELECT status FROM expected_scorecards WHERE tenant_id = $1 AND booking_id = $2"

    async def status_is(want: str) -> bool:
        return await value(dsn, status, tenant, booking) == want

    try:
        await send(first)
        await eventually(lambda: status_is("expected"), what="the scorecard owed")
        # The reschedule reaches every group but the scorecard service (as if it had dead-lettered it there).
        await send(moved, replay_for="another-group")
        await send(cancelled)
        await eventually(lambda: status_is("cancelled"), what="the cancellation applied")
        # An operator replays the scorecard service's dead letter: sequence 1, older than the 2 it holds.
        await send(moved, replay_for=group)
        parked = await eventually(
            lambda: rows(
                dsn,
                "SELECT event_type, version, held_version FROM parked_events"
                " WHERE tenant_id = $1 AND consumer = $2 AND event_id = $3",
                tenant,
                group,
                uuid.UUID(moved.id),
            ),
            what="the older reschedule parked",
        )
    finally:
        await producer.stop()
    assert [dict(r) for r in parked] == [
        {"event_type": "interview.rescheduled", "version": 1, "held_version": 2}
    ]
    assert await value(dsn, status, tenant, booking) == "cancelled"  # the newer state stands
    held = "SELECT version FROM aggregate_versions WHERE tenant_id = $1 AND consumer = $2 AND subject = $3"
    assert await value(dsn, held, tenant, group, f"booking/{booking}") == 2
