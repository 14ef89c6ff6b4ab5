"""Transactional outbox: an event row is written in the same transaction as the state change it
announces, and a relay publishes committed rows to Kafka with the idempotent producer.

The relay claims rows with `FOR UPDATE SKIP LOCKED`, so several replicas can run it; a row is marked
published only after Kafka acknowledged it (acks=all). A crash between the ack and the mark republishes
the row: consumers dedupe by event id (see inbox.py), which makes the pipeline effectively-once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import asyncpg
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from interloop.events.v1 import ats_pb2
from opentelemetry import propagate, trace

from interloop_common import metrics
from interloop_common.db import system_tx
from interloop_common.events import Event, encode, new_event
from interloop_common.kafka import topic_for

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)


async def add_event(conn: asyncpg.Connection, event: Event, *, key: str | None = None) -> None:
    """Stage `event` for publication inside the caller's open transaction."""
    if not conn.is_in_transaction():
        raise RuntimeError("add_event must run inside the transaction that changes the state")
    body, headers = encode(event)
    await conn.execute(
        """INSERT INTO outbox (id, tenant_id, topic, key, event_type, envelope, headers)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)""",
        uuid.UUID(event.id),
        event.tenant_id,
        topic_for(event.type),
        key or event.tenant_id,
        event.type,
        body,
        json.dumps({k: v.decode() for k, v in headers}),
    )


async def stage(
    conn: asyncpg.Connection,
    *,
    type: str,
    source: str,
    tenant_id: str,
    subject: str,
    payload: Message,
    key: str | None = None,
) -> str:
    """The one way a use case announces a change: build the event and stage it in the caller's open
    transaction; returns the event id."""
    event = new_event(type=type, source=source, tenant_id=tenant_id, subject=subject, payload=payload)
    await add_event(conn, event, key=key)
    return event.id


async def stage_alert(
    conn: asyncpg.Connection,
    *,
    source: str,
    tenant_id: str,
    owner: str,
    summary: str,
    detail: str,
    subject: str,
    connection_id: str = "",
    candidate_id: str = "",
    severity: str = "error",
) -> str:
    """``notification.alert`` to a named owner (sync emails it): failure is loud, from every service."""
    return await stage(
        conn,
        type="notification.alert",
        source=source,
        tenant_id=tenant_id,
        subject=subject,
        payload=ats_pb2.Alert(
            owner=owner,
            severity=severity,
            summary=summary[:500],
            detail=detail[:4000],
            connection_id=connection_id,
            candidate_id=candidate_id,
        ),
    )


class OutboxRelay:
    """Publishes committed outbox rows in commit order per key, woken by LISTEN/NOTIFY or a poll."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        service: str,
        batch_size: int = 500,
        poll_interval: float = 0.5,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._service = service
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        listener = await self._pool.acquire()
        wake = lambda *_: self._wake.set()  # noqa: E731 - asyncpg needs the same callable to remove it
        try:
            await listener.add_listener("outbox", wake)
            while not self._stopping.is_set():
                try:
                    published = await self.publish_batch()
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("outbox relay: %s; retrying", exc)
                    published = 0
                    await asyncio.sleep(self._poll_interval)
                if published < self._batch_size:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)
                    except TimeoutError:
                        pass
        finally:
            await listener.remove_listener("outbox", wake)
            await self._pool.release(listener)

    async def publish_batch(self) -> int:
        async with system_tx(self._pool) as conn:
            rows = await conn.fetch(
                """SELECT seq, topic, key, envelope, headers FROM outbox
                   WHERE published_at IS NULL ORDER BY seq
                   LIMIT $1 FOR UPDATE SKIP LOCKED""",
                self._batch_size,
            )
            if not rows:
                return 0
            futures = []
            for row in rows:
                stored = json.loads(row["headers"])
                # Publish inside the trace of the request that wrote the row, so the trace crosses Kafka.
                with _tracer.start_as_current_span(
                    "outbox publish", context=propagate.extract(stored), kind=trace.SpanKind.PRODUCER
                ):
                    propagate.inject(stored)
                    headers = [(k, v.encode()) for k, v in stored.items()]
                    futures.append(
                        await self._producer.send(
                            row["topic"],
                            value=bytes(row["envelope"]),
                            key=row["key"].encode(),
                            headers=headers,
                        )
                    )
            await asyncio.gather(*futures)  # every record acknowledged by all in-sync replicas
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])",
                [r["seq"] for r in rows],
            )
        metrics.EVENTS_PUBLISHED.labels(service=self._service).inc(len(rows))
        return len(rows)
