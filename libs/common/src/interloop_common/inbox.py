"""Idempotent Kafka consumers: the event id is recorded in the consumer's own transaction.

For each record: open a transaction, insert (consumer, event id) into `inbox`; if it was already there the
event was applied before (a redelivery after a crash) and is skipped; otherwise the handler applies it in
the same transaction. Offsets are committed only after the transaction commits, so a crash anywhere means
redelivery, never loss; the inbox makes the redelivery harmless.

A partition's batch is applied in one transaction (the tenant switched between each tenant's records,
row-level security following it), so a busy topic costs a few round trips per event, not a transaction
each. If anything in it fails, the batch falls back to one transaction per key, concurrently, and a key
group that fails falls back to one record at a time, with retries and dead letters.

A record whose handler still fails after bounded retries (backoff with jitter) is published to
`<topic>.dlt`, stored in `dead_letters`, and an alert is raised for the named owner: failure is loud,
nothing is dropped. Only handler and data errors count toward that bound: an infrastructure error (the
database or the broker away, a failover, a timeout, a serialization conflict; see `infrastructure`) is
waited out without limit, with capped backoff, and the partition's offset does not move meanwhile.

Order per aggregate: for the event types a consumer declares `ordered` (with how to read the aggregate
version from the event), the consumer keeps the newest version it applied of each aggregate (the
envelope's subject) in `aggregate_versions`, in the handler's transaction. An event older than that
version is parked (`parked_events`, a metric and a warning) instead of applied: a dead letter replayed
after the booking moved on, or a record that crossed partitions, cannot undo a newer state.
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
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from opentelemetry import propagate, trace
from prometheus_client import Counter

from interloop_common import kafka, metrics
from interloop_common.db import DATABASE_AWAY, acquire, system_tx, tenant_tx
from interloop_common.events import Event, MalformedEvent, decode, header_dict
from interloop_common.kafka import Producer, dead_letter_topic, retriable, unpublishable, wait_out
from interloop_common.outbox import stage_alert
from interloop_common.periodic import backoff
from interloop_common.retry import Permanent, policy

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)
REPLAY_FOR = "x-replay-for"
PARKED = Counter(
    "interloop_events_parked_total",
    "Events older than the aggregate version the consumer held: parked, not applied",
    ["service", "consumer"],
)
CONSUMER_WAITS = Counter(
    "interloop_consumer_infrastructure_retries_total",
    "Event applications retried while the database or the broker was away (not toward dead letters)",
    ["service", "consumer"],
)

Handler = Callable[[asyncpg.Connection, Event], Awaitable[None]]
# Who is alerted when an event is dead-lettered (e.g. the owner of the connection it came from);
# None falls back to the service's configured alert owner.
OwnerResolver = Callable[[asyncpg.Connection, Event], Awaitable[str | None]]
# The aggregate version an event carries (a booking's SEQUENCE, ...), for ordered event types.
VersionOf = Callable[[Event], int]


def in_order(service: str, group: str, version_of: VersionOf, handler: Handler) -> Handler:
    """`handler`, applied only when the event is not older than the aggregate version this consumer
    group last applied; an older one is parked. Versions equal to the held one apply (several events
    may share a version, e.g. a booking's reminders carry its current SEQUENCE)."""

    async def apply(conn: asyncpg.Connection, event: Event) -> None:
        version = version_of(event)
        held = await conn.fetchval(
            """INSERT INTO aggregate_versions (consumer, tenant_id, subject, version, event_id)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (tenant_id, consumer, subject) DO UPDATE
                   SET version = EXCLUDED.version, event_id = EXCLUDED.event_id, updated_at = now()
                   WHERE aggregate_versions.version <= EXCLUDED.version
               RETURNING version""",
            group,
            event.tenant_id,
            event.subject,
            version,
            uuid.UUID(event.id),
        )
        if held is not None:
            await handler(conn, event)
            return
        newer = await conn.fetchval(
            """SELECT version FROM aggregate_versions
               WHERE tenant_id = $1 AND consumer = $2 AND subject = $3""",
            event.tenant_id,
            group,
            event.subject,
        )
        await conn.execute(
            """INSERT INTO parked_events
                   (consumer, tenant_id, event_id, event_type, subject, version, held_version)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING""",
            group,
            event.tenant_id,
            uuid.UUID(event.id),
            event.type,
            event.subject,
            version,
            newer,
        )
        PARKED.labels(service, group).inc()
        log.warning(
            "event %s (%s) about %s is version %d, older than the %d %s applied: parked",
            event.id,
            event.type,
            event.subject,
            version,
            newer,
            group,
        )

    return apply


def infrastructure(exc: BaseException) -> bool:
    """True when the error is the platform's, not the event's: the database or the broker is away, slow
    or failing over (OSError and timeouts included). Such a failure is retried without limit and never
    counts toward dead-lettering; anything else is a handler or data error."""
    return isinstance(exc, DATABASE_AWAY) or retriable(exc)


class InboxConsumer:
    """Consumes `topics` as consumer group `group`, dispatching by event type to handlers."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer | Producer,
        bootstrap_servers: str,
        service: str,
        group: str,
        topics: Iterable[str],
        handlers: dict[str, Handler],
        max_attempts: int = 5,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        alert_owner: str = "platform-oncall@interloop.local",
        owner_of: OwnerResolver | None = None,
        concurrency: int = 8,
        ordered: dict[str, VersionOf] | None = None,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._service = service
        self._group = group
        self._topics = list(topics)
        ordered = ordered or {}
        unknown = set(ordered) - set(handlers)
        if unknown:
            raise ValueError(f"consumer {group}: ordered types without a handler: {sorted(unknown)}")
        self._handlers = {
            t: in_order(service, group, ordered[t], h) if t in ordered else h for t, h in handlers.items()
        }
        self._max_attempts = max_attempts
        self._backoff = (backoff_initial, backoff_max)
        self._alert_owner = alert_owner
        self._owner_of = owner_of
        self._slots = asyncio.Semaphore(concurrency)
        self._bootstrap_servers = bootstrap_servers
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    def _new_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap_servers,
            group_id=self._group,
            client_id=f"{self._service}-{self._group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=200,
            **kafka.client_options(),
        )

    async def run(self) -> None:
        """Consumes until stop(). A broker outage is waited out: the client reconnects by itself, a start
        is retried with backoff, and a consumer that a broker error ended is started again from the last
        committed offsets (the inbox skips what was applied since). Other Kafka errors (authorization,
        configuration) end the task: they need an operator."""
        failures = 0
        while not self._stopping.is_set():
            consumer = self._new_consumer()
            delay = 0.0
            try:
                await wait_out(f"consumer {self._group}: start", consumer.start)
                failures = 0
                await self._consume(consumer)
            except Exception as exc:
                if not retriable(exc):
                    raise
                failures += 1
                delay = backoff(self._backoff[0], failures, 30.0)
                log.warning("consumer %s: %r; joining again in %.1fs", self._group, exc, delay)
            finally:
                try:
                    await asyncio.wait_for(consumer.stop(), timeout=10)
                except Exception as exc:  # noqa: BLE001 - the broker may be away: the group times us out
                    log.warning("consumer %s did not leave its group cleanly: %r", self._group, exc)
            if delay:
                await asyncio.sleep(delay)

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=500)
            offsets = {}
            for tp, records in batches.items():
                await self._process_batch(records)
                offsets[TopicPartition(tp.topic, tp.partition)] = records[-1].offset + 1
            if offsets:
                # Offsets move only past records whose transactions committed; a crash before this
                # line redelivers them, and the inbox turns the redelivery into a no-op.
                try:
                    await consumer.commit(offsets)
                except (CommitFailedError, IllegalStateError) as exc:
                    # The group rebalanced meanwhile (an outage outlasted the session): the partitions
                    # come again from their committed offsets, and the inbox skips what was applied.
                    log.warning(
                        "consumer %s: offsets not committed (%s); records will come again", self._group, exc
                    )

    async def _process_batch(self, records: list[ConsumerRecord]) -> None:
        """Apply a partition's batch: first all of it in one transaction, each tenant's records in
        their order. If that fails, records are grouped by Kafka key (the producer keys by tenant or
        tenant/aggregate, so order only matters within a key); each group is one transaction, and
        groups run concurrently up to `concurrency`. If anything in a group fails, that group falls
        back to one record at a time, with retries and dead letters, so one poison record never
        blocks or drops its neighbours."""
        groups: dict[tuple[str, bytes], list[tuple[ConsumerRecord, Event, Handler]]] = {}
        for record in records:
            if not self._addressed_to_me(record):
                continue
            try:
                event = decode(record.value)
            except MalformedEvent:
                await self._process(record)  # dead-letters it
                continue
            handler = self._handlers.get(event.type)
            if handler is None:
                metrics.EVENTS_CONSUMED.labels(self._service, self._group, "ignored").inc()
                continue
            groups.setdefault((event.tenant_id, record.key or b""), []).append((record, event, handler))
        if len(groups) > 1 and await self._run_batch(groups):
            return
        await asyncio.gather(*(self._run_group(tenant, items) for (tenant, _), items in groups.items()))

    async def _run_batch(
        self, groups: dict[tuple[str, bytes], list[tuple[ConsumerRecord, Event, Handler]]]
    ) -> bool:
        """Every group in one transaction; False (nothing kept) when anything in it failed."""
        by_tenant: dict[str, list[tuple[ConsumerRecord, Event, Handler]]] = {}
        for (tenant, _), items in groups.items():  # a tenant's keys stay in their order
            by_tenant.setdefault(tenant, []).extend(items)
        started = time.perf_counter()
        applied = total = 0
        try:
            async with self._slots, acquire(self._pool) as conn, conn.transaction():
                # tenants in one order in every replica's batches: rows they share (a tenant's counters)
                # are locked in the same order, so concurrent batches wait for each other, never deadlock
                for tenant, items in sorted(by_tenant.items()):
                    await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
                    applied += await self._apply_items(conn, tenant, items)
                    total += len(items)
        except Exception as exc:  # noqa: BLE001 - retried key group by key group
            log.info("consumer %s: batch of %d fell back to key groups: %r", self._group, total, exc)
            return False
        metrics.EVENTS_CONSUMED.labels(self._service, self._group, "applied").inc(applied)
        metrics.EVENTS_CONSUMED.labels(self._service, self._group, "duplicate").inc(total - applied)
        metrics.HANDLER_SECONDS.labels(self._service, self._group).observe(time.perf_counter() - started)
        return True

    async def _run_group(self, tenant: str, items: list[tuple[ConsumerRecord, Event, Handler]]) -> None:
        async with self._slots:
            started = time.perf_counter()
            try:
                applied = await self._apply_group(tenant, items)
            except Exception:  # noqa: BLE001 - retried record by record below
                for record, _, _ in items:
                    await self._process(record)
                return
        metrics.EVENTS_CONSUMED.labels(self._service, self._group, "applied").inc(applied)
        metrics.EVENTS_CONSUMED.labels(self._service, self._group, "duplicate").inc(len(items) - applied)
        metrics.HANDLER_SECONDS.labels(self._service, self._group).observe(time.perf_counter() - started)

    async def _apply_group(self, tenant: str, items: list[tuple[ConsumerRecord, Event, Handler]]) -> int:
        async with tenant_tx(self._pool, tenant) as conn:
            return await self._apply_items(conn, tenant, items)

    async def _apply_items(
        self, conn: asyncpg.Connection, tenant: str, items: list[tuple[ConsumerRecord, Event, Handler]]
    ) -> int:
        """Apply a tenant's records in order on `conn` (in its transaction); returns how many were new."""
        fresh = {
            str(r["event_id"])
            for r in await conn.fetch(
                """INSERT INTO inbox (consumer, event_id, tenant_id, event_type)
                   SELECT $1, e.id, $2, e.type FROM unnest($3::uuid[], $4::text[]) AS e(id, type)
                   ON CONFLICT DO NOTHING RETURNING event_id""",
                self._group,
                tenant,
                [uuid.UUID(e.id) for _, e, _ in items],
                [e.type for _, e, _ in items],
            )
        }
        applied = 0
        for record, event, handler in items:
            if event.id not in fresh:
                continue  # applied before this delivery (or twice in this batch)
            fresh.discard(event.id)
            with self._span(record, event):
                await handler(conn, event)
            applied += 1
        return applied

    def _addressed_to_me(self, record: ConsumerRecord) -> bool:
        """A replayed dead letter is for the consumer group that dead-lettered it, not for every group
        on the topic (the others applied it, or dead-lettered it themselves and replay their own)."""
        target = header_dict(record.headers).get(REPLAY_FOR)
        if target is None or target == self._group:
            return True
        metrics.EVENTS_CONSUMED.labels(self._service, self._group, "ignored").inc()
        return False

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
        with self._span(record, event):
            await self._handle(record, event, handler, started)

    def _span(self, record: ConsumerRecord, event: Event):  # type: ignore[no-untyped-def]
        """A consumer span that continues the producer's trace (W3C traceparent in the record headers)."""
        return _tracer.start_as_current_span(
            f"consume {event.type}",
            context=propagate.extract(header_dict(record.headers)),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.message.id": event.id,
                "messaging.consumer.group.name": self._group,
            },
        )

    async def _handle(self, record: ConsumerRecord, event: Event, handler: Handler, started: float) -> None:
        attempts = 0  # handler/data failures; waiting out the infrastructure does not count

        def spent(_: object) -> bool:  # the one retry policy, stopped only by handler/data failures
            return attempts >= self._max_attempts

        retrying = policy(attempts=self._max_attempts, initial=self._backoff[0], maximum=self._backoff[1])
        try:
            async for attempt in retrying.copy(stop=spent):
                with attempt:
                    try:
                        outcome = await self._apply(event, handler)
                    except Exception as exc:
                        if not infrastructure(exc):
                            attempts += 1
                        else:
                            CONSUMER_WAITS.labels(self._service, self._group).inc()
                            log.warning(
                                "event %s (%s): %s: %s; waiting it out (offset held)",
                                event.id,
                                event.type,
                                type(exc).__name__,
                                exc,
                            )
                        raise
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

    async def _dead_letter(
        self, record: ConsumerRecord, event: Event | None, reason: str, attempts: int
    ) -> None:
        """To the dead-letter topic, then the table and the alert: each step waited out on its own while
        the broker or the database is away, so neither is done twice and the offset waits for both."""
        headers = [(k, v) for k, v in record.headers or [] if k != REPLAY_FOR] + [
            ("x-dlt-reason", reason.encode()[:1000]),
            ("x-dlt-consumer", self._group.encode()),
            ("x-dlt-original-topic", record.topic.encode()),
            ("x-dlt-original-offset", str(record.offset).encode()),
        ]

        async def publish() -> None:
            await (
                await self._producer.send(
                    dead_letter_topic(record.topic), value=record.value, key=record.key, headers=headers
                )
            )

        what = f"dead letter {record.topic}@{record.offset} ({self._group})"
        await wait_out(what, publish, retry=_producer_may_recover, initial=self._backoff[0])
        await wait_out(
            what, lambda: self._record_dead_letter(record, event, reason, attempts), retry=infrastructure
        )
        metrics.DEAD_LETTERS.labels(self._service, self._group).inc()

    async def _record_dead_letter(
        self, record: ConsumerRecord, event: Event | None, reason: str, attempts: int
    ) -> None:
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
                json.dumps({k: v for k, v in header_dict(record.headers).items() if k != REPLAY_FOR}),
                reason,
                attempts,
            )
            owner = self._alert_owner
            if event is not None and self._owner_of is not None:
                try:
                    async with conn.transaction():  # a savepoint: a failed lookup must not lose the letter
                        owner = await self._owner_of(conn, event) or owner
                except Exception:  # noqa: BLE001 - the alert still goes to the service owner
                    log.exception("owner lookup failed for dead-lettered event %s", event.id)
            await stage_alert(
                conn,
                source=f"//interloop/{self._service}",
                tenant_id=tenant,
                owner=owner,
                summary=f"{self._service}: event dead-lettered by {self._group}",
                detail=(
                    f"topic={record.topic} offset={record.offset} "
                    f"type={event.type if event else '?'}: {reason}"
                ),
                subject=f"dead-letter/{record.topic}/{record.offset}",
            )


def _producer_may_recover(exc: BaseException) -> bool:
    """A send the broker's absence failed, or one the producer failed and is replaced for (kafka.Producer)."""
    return infrastructure(exc) or (isinstance(exc, KafkaError) and not unpublishable(exc))


async def replay_dead_letters(
    pool: asyncpg.Pool, producer: AIOKafkaProducer | Producer, *, tenant_id: str, ids: list[str] | None = None
) -> int:
    """Republish open dead letters of a tenant to their original topic, addressed (`x-replay-for`) to
    the consumer group that dead-lettered them; the inbox dedupes any double."""
    async with system_tx(pool) as conn:
        rows = await conn.fetch(
            """SELECT id, consumer, topic, key, value, headers FROM dead_letters
               WHERE tenant_id = $1 AND replayed_at IS NULL AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
               ORDER BY failed_at FOR UPDATE SKIP LOCKED""",
            tenant_id,
            [uuid.UUID(i) for i in ids] if ids else None,
        )
        for row in rows:
            headers = [(k, v.encode()) for k, v in json.loads(row["headers"]).items()]
            headers.append((REPLAY_FOR, row["consumer"].encode()))
            await (
                await producer.send(row["topic"], value=bytes(row["value"]), key=row["key"], headers=headers)
            )
        await conn.execute(
            "UPDATE dead_letters SET replayed_at = now() WHERE id = ANY($1::uuid[])", [r["id"] for r in rows]
        )
    return len(rows)


async def erase_dead_letters(conn: asyncpg.Connection, tenant_id: str, needles: Iterable[str]) -> int:
    """Erasure: dead letters whose record carries any of `needles` (a candidate's address, name) lose
    the record and its headers and are closed (no replay can bring the data back); the row stays, with
    its reason and an erasure note, for the audit trail."""
    found = [n.encode() for n in needles if n and len(n) >= 3]
    if not found:
        return 0
    status = await conn.execute(
        """UPDATE dead_letters SET value = ''::bytea, headers = '{}'::jsonb,
               reason = reason || ' [record erased with the candidate]',
               replayed_at = coalesce(replayed_at, now())
           WHERE tenant_id = $1 AND octet_length(value) > 0
             AND EXISTS (SELECT 1 FROM unnest($2::bytea[]) AS n(needle)
                         WHERE position(n.needle IN value) > 0)""",
        tenant_id,
        found,
    )
    return int(status.split()[-1])


__all__ = [
    "Handler",
    "infrastructure",
    "InboxConsumer",
    "OwnerResolver",
    "VersionOf",
    "in_order",
    "Permanent",
    "erase_dead_letters",
    "replay_dead_letters",
]
