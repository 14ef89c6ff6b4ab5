"""Transactional outbox: an event row is written in the same transaction as the state change it
announces, and a relay publishes committed rows to Kafka with the idempotent producer.

The relay claims rows with `FOR UPDATE SKIP LOCKED`, so several replicas can run it; a row is marked
published only after Kafka acknowledged it (acks=all). A crash between the ack and the mark republishes
the row: consumers dedupe by event id (see inbox.py), which makes the pipeline effectively-once. While the
broker is away the relay waits for it and the outbox buffers; a row Kafka can never take is quarantined
(`quarantined_at`, with the reason and an alert) and the relay goes on with the rows after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from interloop.events.v1 import ats_pb2
from opentelemetry import propagate, trace
from prometheus_client import Counter, Gauge

from interloop_common import metrics
from interloop_common.db import system_tx
from interloop_common.events import Event, encode, new_event
from interloop_common.kafka import Producer, topic_for, unpublishable
from interloop_common.periodic import connection_alive, every

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)
# How often a wait for the broker's acknowledgement is reported while it lasts.
_PATIENCE = 30.0
# One publisher per database: the relay that holds this session advisory lock publishes, the others stand
# by. Two relays publishing claimed batches at once would interleave them, so an aggregate's events could
# reach Kafka out of order; with one leader seq order is publication order, and when the leader's
# session ends (a crash, a lost connection) its lock goes with it and a standby takes over.
LEADER_LOCK = 0x6F7574626F78  # "outbox"
OUTBOX_LEADER = Gauge(
    "interloop_outbox_relay_leader", "1 while this relay is the one publishing", ["service"]
)
OUTBOX_QUARANTINED = Counter(
    "interloop_outbox_quarantined_total",
    "Outbox rows Kafka refused for good, set aside with an alert",
    ["service"],
)


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


class _Stopped(Exception):
    """Ends the relay's rounds after stop()."""


@dataclass
class _Round:
    """What became of one round's rows: published, refused for good, and the first other failure."""

    published: list[int] = field(default_factory=list)
    refused: list[tuple[asyncpg.Record, BaseException]] = field(default_factory=list)
    failure: BaseException | None = None


class OutboxRelay:
    """Publishes committed outbox rows in commit order per key, woken by LISTEN/NOTIFY or a poll.

    It runs under the one background policy (periodic.every): no error ends it. A broker outage is waited
    out: records handed to the idempotent producer are awaited until the broker acknowledges them (the
    producer retries them by itself, in order), and a row is marked only with its own outcome, so nothing
    is republished that the broker already has, and nothing is skipped. A row Kafka refuses for good
    (kafka.unpublishable) is quarantined with an alert, and the rows after it go on."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer | Producer,
        *,
        service: str,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        max_backoff: float = 10.0,
        alert_owner: str = "platform-oncall@interloop.local",
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._service = service
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._alert_owner = alert_owner
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._leading = False
        self._failing = False
        # Rows the broker refused together with their batch: next time each goes on its own, so that a
        # refusal is the row's own before it is quarantined.
        self._suspects: set[int] = set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        try:
            await every(
                self._poll_interval,
                "outbox relay",
                self._round,
                drain=True,
                max_backoff=self._max_backoff,
                sleep=self._nap,
            )
        except _Stopped:
            pass
        finally:
            await self._unlisten()

    async def _round(self) -> bool:
        self._failing = True
        self._wake.clear()  # a row committed from here on ends the nap after this round
        await self._listen()
        if not await self._lead():
            self._failing = False
            return False  # a standby: the leader publishes; try again after the poll interval
        handled = await self.publish_batch()
        self._failing = False
        return handled >= self._batch_size

    async def _nap(self, seconds: float) -> None:
        # After a failed round the nap is a backoff: new rows must not cut it short.
        wake = self._stopping if self._failing else self._wake
        if seconds > 0 and not wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=seconds)
        else:
            await asyncio.sleep(0)
        if self._stopping.is_set():
            raise _Stopped

    def _wake_up(self, *_: object) -> None:
        self._wake.set()

    async def _listen(self) -> None:
        """LISTEN on a connection of its own; taken again after the database dropped it (a restart)."""
        if connection_alive(self._listener):
            return
        await self._unlisten()
        listener = await self._pool.acquire()
        try:
            await listener.add_listener("outbox", self._wake_up)
        except BaseException:
            await self._pool.release(listener)
            raise
        self._listener = listener

    @property
    def leading(self) -> bool:
        return self._leading

    async def _lead(self) -> bool:
        """True while this relay holds the publisher lock (taken on its listener's session)."""
        if not self._leading and self._listener is not None:
            self._leading = bool(
                await self._listener.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK)
            )
            if self._leading:
                OUTBOX_LEADER.labels(self._service).set(1)
                log.info("outbox relay: publishing (leader)")
        return self._leading

    async def _unlisten(self) -> None:
        listener, self._listener = self._listener, None
        if self._leading:
            self._leading = False
            OUTBOX_LEADER.labels(self._service).set(0)
        if listener is None:
            return
        with contextlib.suppress(Exception):  # the lock is the session's: it ends with the connection too
            if not listener.is_closed():  # raises for a connection the pool took back: nothing to undo
                await listener.execute("SELECT pg_advisory_unlock($1)", LEADER_LOCK)
        with contextlib.suppress(Exception):  # a connection the server dropped cannot UNLISTEN
            if not listener.is_closed():
                await listener.remove_listener("outbox", self._wake_up)
        with contextlib.suppress(Exception):
            await self._pool.release(listener)

    async def publish_batch(self) -> int:
        """One round: claim up to `batch_size` rows in seq order, publish them, and record each row's
        outcome in the same transaction. Returns how many rows left the queue (published or quarantined);
        raises, after recording, the failure that kept other rows in it."""
        async with system_tx(self._pool) as conn:
            rows = await conn.fetch(
                """SELECT seq, id, tenant_id, topic, key, event_type, envelope, headers FROM outbox
                   WHERE published_at IS NULL AND quarantined_at IS NULL ORDER BY seq
                   LIMIT $1 FOR UPDATE SKIP LOCKED""",
                self._batch_size,
            )
            if not rows:
                return 0
            outcome = await self._publish(rows)
            if outcome.published:
                await conn.execute(
                    "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])", outcome.published
                )
            for row, exc in outcome.refused:
                await self._quarantine(conn, row, exc)
        metrics.EVENTS_PUBLISHED.labels(service=self._service).inc(len(outcome.published))
        if outcome.failure is not None:
            raise outcome.failure
        return len(outcome.published) + len(outcome.refused)

    async def _publish(self, rows: list[asyncpg.Record]) -> _Round:
        done = _Round()
        pending: list[tuple[asyncpg.Record, asyncio.Future[Any], bool]] = []
        for row in rows:
            alone = row["seq"] in self._suspects
            if alone:  # in a batch of its own: whatever is pending is settled first
                done.failure = await self._settle(pending, done) or done.failure
                if done.failure is not None:
                    break
            try:
                future = await self._send(row)
            except Exception as exc:
                if unpublishable(exc):  # refused before it left this process: its own size, its own topic
                    done.refused.append((row, exc))
                    continue
                done.failure = exc  # the rows after it wait: sending them now would overtake it
                break
            pending.append((row, future, alone))
            if alone:
                done.failure = await self._settle(pending, done) or done.failure
                if done.failure is not None:
                    break
        done.failure = await self._settle(pending, done) or done.failure
        return done

    async def _send(self, row: asyncpg.Record) -> asyncio.Future[Any]:
        stored = json.loads(row["headers"])
        # Publish inside the trace of the request that wrote the row, so the trace crosses Kafka.
        with _tracer.start_as_current_span(
            "outbox publish", context=propagate.extract(stored), kind=trace.SpanKind.PRODUCER
        ):
            propagate.inject(stored)
            headers = [(k, v.encode()) for k, v in stored.items()]
            return await self._producer.send(
                row["topic"], value=bytes(row["envelope"]), key=row["key"].encode(), headers=headers
            )

    async def _settle(
        self, pending: list[tuple[asyncpg.Record, asyncio.Future[Any], bool]], done: _Round
    ) -> BaseException | None:
        """Waits for every record handed over (never abandons one: a record the broker may still get
        must not be sent twice), records outcomes, returns the first failure."""
        futures = [f for _, f, _ in pending]
        waited = 0.0
        while futures:
            _, unsettled = await asyncio.wait(futures, timeout=_PATIENCE)
            if not unsettled:
                break
            waited += _PATIENCE
            log.warning(
                "outbox relay: %d record(s) not acknowledged by Kafka for %.0fs; waiting for the broker "
                "(new rows stay in the outbox meanwhile)",
                len(unsettled),
                waited,
            )
        failure: BaseException | None = None
        for row, future, alone in pending:
            exc = future.exception()
            if exc is None:
                done.published.append(row["seq"])
                self._suspects.discard(row["seq"])
            elif unpublishable(exc) and alone:
                done.refused.append((row, exc))
            else:
                if unpublishable(exc):
                    self._suspects.add(row["seq"])
                failure = failure or exc
        pending.clear()
        return failure

    async def _quarantine(self, conn: asyncpg.Connection, row: asyncpg.Record, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        await conn.execute(
            "UPDATE outbox SET quarantined_at = now(), quarantine_reason = $2 WHERE seq = $1",
            row["seq"],
            reason,
        )
        self._suspects.discard(row["seq"])
        await stage_alert(
            conn,
            source=f"//interloop/{self._service}",
            tenant_id=row["tenant_id"],
            owner=self._alert_owner,
            summary=f"{self._service}: event {row['id']} quarantined, Kafka refuses it",
            detail=(
                f"type={row['event_type']} topic={row['topic']} bytes={len(row['envelope'])}: {reason}. "
                "The outbox relay set it aside and moved on; fix the cause, then clear the row's "
                "quarantined_at to publish it."
            ),
            subject=f"outbox-quarantine/{row['id']}",
        )
        OUTBOX_QUARANTINED.labels(self._service).inc()
        log.error("outbox relay: event %s (%s) quarantined: %s", row["id"], row["event_type"], reason)
