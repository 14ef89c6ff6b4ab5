"""Idempotent Kafka consumers: the event id is recorded in the consumer's own transaction.

For each record: open a transaction, insert (consumer, event id) into `inbox`; if it was already there the
event was applied before (a redelivery after a crash) and is skipped; otherwise the handler applies it in
the same transaction. Offsets are committed only after the transaction commits, so a crash anywhere means
redelivery, never loss; the inbox makes the redelivery harmless.

A record that still fails after bounded retries (backoff with jitter) is published to `<topic>.dlt`,
stored in `dead_letters`, and an alert is raised for the named owner: failure is loud, nothing is dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from interloop.events.v1 import ats_pb2
from opentelemetry import propagate, trace

from interloop_common import metrics
from interloop_common.db import system_tx, tenant_tx
from interloop_common.events import Event, MalformedEvent, decode, header_dict, new_event
from interloop_common.kafka import dead_letter_topic
from interloop_common.outbox import add_event
from interloop_common.retry import Permanent, policy

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

Handler = Callable[[asyncpg.Connection, Event], Awaitable[None]]


class InboxConsumer:
    """Consumes `topics` as consumer group `group`, dispatching by event type to handlers."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        bootstrap_servers: str,
        service: str,
        group: str,
        topics: Iterable[str],
        handlers: dict[str, Handler],
        max_attempts: int = 5,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        alert_owner: str = "platform-oncall@interloop.local",
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._service = service
        self._group = group
        self._topics = list(topics)
        self._handlers = handlers
        self._max_attempts = max_attempts
        self._backoff = (backoff_initial, backoff_max)
        self._alert_owner = alert_owner
        self._consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=bootstrap_servers,
            group_id=group,
            client_id=f"{service}-{group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=200,
        )
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        await self._consumer.start()
        try:
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=500)
                for tp, records in batches.items():
                    for record in records:
                        await self._process(record)
                        # Commit past this record only after its transaction committed.
                        await self._consumer.commit({TopicPartition(tp.topic, tp.partition): record.offset + 1})
        finally:
            await self._consumer.stop()

    async def _process(self, record: ConsumerRecord) -> None:
        started = time.perf_counter()
        try:
            event = decode(record.value)
        except MalformedEvent as exc:
            await self._dead_letter(record, None, f"malformed: {exc}", attempts=1)
            return
        handler = self._handlers.get(event.type)
        if handler is None:
            metrics.EVENTS_CONSUMED.labels(self._service, self._group, "ignored").inc()
            return
        # Continue the producer's trace (W3C traceparent travelled in the record headers).
        parent = propagate.extract(header_dict(record.headers))
        with _tracer.start_as_current_span(
            f"consume {event.type}", context=parent, kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": record.topic,
                        "messaging.message.id": event.id, "messaging.consumer.group.name": self._group},
        ):
            await self._handle(record, event, handler, started)

    async def _handle(self, record: ConsumerRecord, event: Event, handler: Handler, started: float) -> None:
        attempts = 0
        try:
            async for attempt in policy(
                attempts=self._max_attempts, initial=self._backoff[0], maximum=self._backoff[1]
            ):
                with attempt:
                    attempts += 1
                    outcome = await self._apply(event, handler)
        except Exception as exc:  # noqa: BLE001 - every failure ends in a dead letter, never a silent drop
            log.exception("event %s (%s) failed after %d attempts", event.id, event.type, attempts)
            await self._dead_letter(record, event, f"{type(exc).__name__}: {exc}", attempts=attempts)
            return
        metrics.EVENTS_CONSUMED.labels(self._service, self._group, outcome).inc()
        metrics.HANDLER_SECONDS.labels(self._service, self._group).observe(time.perf_counter() - started)

    async def _apply(self, event: Event, handler: Handler) -> str:
        async with tenant_tx(self._pool, event.tenant_id) as conn:
            inserted = await conn.fetchval(
                """INSERT INTO inbox (consumer, event_id, tenant_id, event_type) VALUES ($1, $2, $3, $4)
                   ON CONFLICT DO NOTHING RETURNING true""",
                self._group,
                uuid.UUID(event.id),
                event.tenant_id,
                event.type,
            )
            if not inserted:
                return "duplicate"
            await handler(conn, event)
        return "applied"

    async def _dead_letter(self, record: ConsumerRecord, event: Event | None, reason: str, attempts: int) -> None:
        headers = list(record.headers or []) + [
            ("x-dlt-reason", reason.encode()[:1000]),
            ("x-dlt-consumer", self._group.encode()),
            ("x-dlt-original-topic", record.topic.encode()),
            ("x-dlt-original-offset", str(record.offset).encode()),
        ]
        await (
            await self._producer.send(
                dead_letter_topic(record.topic), value=record.value, key=record.key, headers=headers
            )
        )
        tenant = event.tenant_id if event else header_dict(record.headers).get("ce_tenant", "unknown")
        async with system_tx(self._pool) as conn:
            await conn.execute(
                """INSERT INTO dead_letters (id, tenant_id, consumer, topic, partition, "offset", event_id,
                       event_type, key, value, headers, reason, attempts)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)""",
                uuid.uuid4(),
                tenant,
                self._group,
                record.topic,
                record.partition,
                record.offset,
                event.id if event else None,
                event.type if event else None,
                record.key,
                record.value,
                json.dumps(header_dict(record.headers)),
                reason,
                attempts,
            )
            alert = ats_pb2.Alert(
                owner=self._alert_owner,
                severity="error",
                summary=f"{self._service}: event dead-lettered by {self._group}",
                detail=f"topic={record.topic} offset={record.offset} type={event.type if event else '?'}: {reason}",
            )
            await add_event(
                conn,
                new_event(
                    type="notification.alert",
                    source=f"//interloop/{self._service}",
                    tenant_id=tenant,
                    subject=f"dead-letter/{record.topic}/{record.offset}",
                    payload=alert,
                ),
            )
        metrics.DEAD_LETTERS.labels(self._service, self._group).inc()


async def replay_dead_letters(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, *, tenant_id: str, ids: list[str] | None = None
) -> int:
    """Republish open dead letters of a tenant to their original topic; the inbox dedupes any double."""
    async with system_tx(pool) as conn:
        rows = await conn.fetch(
            """SELECT id, topic, key, value, headers FROM dead_letters
               WHERE tenant_id = $1 AND replayed_at IS NULL AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
               ORDER BY failed_at FOR UPDATE SKIP LOCKED""",
            tenant_id,
            [uuid.UUID(i) for i in ids] if ids else None,
        )
        for row in rows:
            headers = [(k, v.encode()) for k, v in json.loads(row["headers"]).items()]
            await (await producer.send(row["topic"], value=bytes(row["value"]), key=row["key"], headers=headers))
        await conn.execute(
            "UPDATE dead_letters SET replayed_at = now() WHERE id = ANY($1::uuid[])", [r["id"] for r in rows]
        )
    return len(rows)


__all__ = ["Handler", "InboxConsumer", "Permanent", "replay_dead_letters"]
