"""Failure is loud: a poison record is dead-lettered (topic + table), an alert is raised for the owner,
and the replay command republishes it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from interloop.events.v1 import interview_pb2
from interloop_common.events import encode, new_event
from interloop_common.rpc import ts
from interloop_devstack.testing import consumer_caught_up

START = datetime(2027, 5, 3, 9, tzinfo=UTC)

pytestmark = pytest.mark.integration


async def _rows(dsn: str, sql: str, *args):  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT set_config('app.system', 'on', false)")
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


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
    deadline = time.monotonic() + 60
    rows = []
    while not rows and time.monotonic() < deadline:
        rows = await _rows(dsn, "SELECT * FROM dead_letters WHERE event_id = $1", poison.id)
        await asyncio.sleep(0.2)
    assert rows, "poison event never reached the dead-letter table"
    assert rows[0]["tenant_id"] == "dlt-tenant" and rows[0]["attempts"] == 1  # permanent: not retried
    assert "payload is" in rows[0]["reason"]
    seen = 0
    while seen < 2 and time.monotonic() < deadline:  # the neighbour after the poison lands just after it
        applied = await _rows(
            dsn, "SELECT interviews_seen FROM tenant_activity WHERE tenant_id = 'dlt-tenant'"
        )
        seen = applied[0]["interviews_seen"] if applied else 0
        await asyncio.sleep(0.1)
    assert seen == 2

    alerts = await _rows(dsn, "SELECT event_type, published_at FROM outbox WHERE tenant_id = 'dlt-tenant'")
    assert [a["event_type"] for a in alerts] == ["notification.alert"]

    # Every consumer group on the topic that handles the type (scorecard's, sync's write-back and
    # interview mail) dead-letters it, each once.
    sync_dsn = platform.dsns["sync"]
    sync_groups = {f"{platform.prefix}sync.writeback", f"{platform.prefix}sync.interview-mail"}
    sync_rows = []
    while len(sync_rows) < len(sync_groups) and time.monotonic() < deadline:
        sync_rows = await _rows(sync_dsn, "SELECT consumer FROM dead_letters WHERE event_id = $1", poison.id)
        await asyncio.sleep(0.2)
    assert sorted(r["consumer"] for r in sync_rows) == sorted(sync_groups)

    consumer = AIOKafkaConsumer(
        f"{topic}.dlt", bootstrap_servers=infra.kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        by = set()
        end = time.monotonic() + 30
        while len(by) < 3 and time.monotonic() < end:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    headers = dict(r.headers)
                    if headers.get("ce_id", b"").decode() == poison.id:
                        by.add(headers["x-dlt-consumer"].decode())
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
    again = []
    deadline = time.monotonic() + 60
    while len(again) < 2 and time.monotonic() < deadline:
        again = await _rows(
            dsn, "SELECT replayed_at FROM dead_letters WHERE event_id = $1 ORDER BY failed_at", poison.id
        )
        await asyncio.sleep(0.2)
    assert len(again) == 2, "the replayed record did not reach scorecard's consumer"
    assert again[0]["replayed_at"] is not None and again[1]["replayed_at"] is None
    # sync's groups read the same partition: once they consumed past the replayed record, it must still
    # be dead-lettered once per group (they skipped it), not twice.
    for group in sync_groups:
        while not await consumer_caught_up(infra.kafka_bootstrap, group, topic):
            assert time.monotonic() < deadline, f"{group} never consumed the replayed record"
            await asyncio.sleep(0.2)
    sync_rows = await _rows(sync_dsn, "SELECT consumer FROM dead_letters WHERE event_id = $1", poison.id)
    assert len(sync_rows) == len(sync_groups), "the replay addressed to scorecard was applied by sync too"
