"""Failure is loud: a poison record is dead-lettered (topic + table), an alert is raised for the owner,
and the replay command republishes it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from interloop.events.v1 import interview_pb2
from interloop_common.events import encode, new_event
from interloop_common.rpc import ts
from interloop_devstack.testing import consumer_caught_up, eventually, rows, value

START = datetime(2027, 5, 3, 9, tzinfo=UTC)

pytestmark = pytest.mark.integration


async def test_poison_event_goes_to_dead_letter_topic_and_alerts(platform, infra) -> None:  # type: ignore[no-untyped-def]
    topic = f"{platform.prefix}interloop.interview.v1"
    # A well-formed envelope whose payload is not what its type promises: no retry can fix it.
    poison = new_event(
        type="interview.scheduled",
        source="//test",
        tenant_id="dlt-tenant",
        subject="booking/x",
        payload=interview_pb2.InterviewCancelled(booking_id="x"),
    )
    # Its neighbours in the same batch (same tenant, same partition) must still be applied.
    good = [
        new_event(
            type="interview.scheduled",
            source="//test",
            tenant_id="dlt-tenant",
            subject=f"booking/g{i}",
            payload=interview_pb2.InterviewScheduled(
                booking_id=f"g{i}", candidate_id="c", interviewer_ids=["i"], start=ts(START), end=ts(START)
            ),
        )
        for i in range(2)
    ]
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for event in (good[0], poison, good[1]):
            body, headers = encode(event)
            await producer.send(topic, body, key=b"dlt-tenant", headers=headers)
        await producer.flush()
    finally:
        await producer.stop()

    dsn = platform.dsns["scorecard"]
    letters = await eventually(
        lambda: rows(dsn, "SELECT * FROM dead_letters WHERE event_id = $1", poison.id),
        within=60,
        what="the poison event in the dead-letter table",
    )
    assert letters[0]["tenant_id"] == "dlt-tenant" and letters[0]["attempts"] == 1  # permanent: not retried
    assert "payload is" in letters[0]["reason"]

    async def neighbours_applied() -> bool:  # the neighbour after the poison lands just after it
        seen = await value(dsn, "SELECT interviews_seen FROM tenant_activity WHERE tenant_id = 'dlt-tenant'")
        return seen == 2

    await eventually(neighbours_applied, what="both neighbours of the poison applied")

    alerts = await rows(dsn, "SELECT event_type, published_at FROM outbox WHERE tenant_id = 'dlt-tenant'")
    assert [a["event_type"] for a in alerts] == ["notification.alert"]

    # Every consumer group on the topic that handles the type (scorecard's, sync's write-back and
    # interview mail) dead-letters it, each once.
    sync_dsn = platform.dsns["sync"]
    sync_groups = {f"{platform.prefix}sync.writeback", f"{platform.prefix}sync.interview-mail"}

    async def sync_letters() -> list:
        found = await rows(sync_dsn, "SELECT consumer FROM dead_letters WHERE event_id = $1", poison.id)
        return found if len(found) >= len(sync_groups) else []

    sync_rows = await eventually(sync_letters, within=60, what="the poison in each sync group's dead letters")
    assert sorted(r["consumer"] for r in sync_rows) == sorted(sync_groups)

    consumer = AIOKafkaConsumer(
        f"{topic}.dlt", bootstrap_servers=infra.kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        by = set()

        async def three_dead_letters() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    headers = dict(r.headers)
                    if headers.get("ce_id", b"").decode() == poison.id:
                        by.add(headers["x-dlt-consumer"].decode())
            return len(by) >= 3

        await eventually(three_dead_letters, what="the poison on the dead-letter topic from three groups")
        assert by == {f"{platform.prefix}scorecard.interviews", *sync_groups}
    finally:
        await consumer.stop()

    # The operator's replay command republishes it (it will dead-letter again: it is still poison),
    # addressed to scorecard's consumer group only: sync's consumer, which shares the topic, skips it.
    env = platform.procs["scorecard"].env
    out = subprocess.run(
        [sys.executable, "-m", "interloop_scorecard", "replay-dead-letters", "--tenant", "dlt-tenant"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "1 dead letter(s) replayed" in out.stdout

    async def replayed_and_failed_again() -> list:
        found = await rows(
            dsn, "SELECT replayed_at FROM dead_letters WHERE event_id = $1 ORDER BY failed_at", poison.id
        )
        return found if len(found) >= 2 else []

    again = await eventually(
        replayed_and_failed_again, within=60, what="the replayed record at scorecard's consumer"
    )
    assert len(again) == 2, again
    assert again[0]["replayed_at"] is not None and again[1]["replayed_at"] is None
    # sync's groups read the same partition: once they consumed past the replayed record, it must still
    # be dead-lettered once per group (they skipped it), not twice.
    for group in sync_groups:
        await eventually(
            lambda group=group: consumer_caught_up(infra.kafka_bootstrap, group, topic),
            within=60,
            what=f"{group} to consume the replayed record",
        )
    sync_rows = await rows(sync_dsn, "SELECT consumer FROM dead_letters WHERE event_id = $1", poison.id)
    assert len(sync_rows) == len(sync_groups), "the replay addressed to scorecard was applied by sync too"
