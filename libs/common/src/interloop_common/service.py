"""The shared life cycle of a service process: migrate, then run gRPC + relay + consumers until SIGTERM.

The broker is not needed to start: gRPC serves (health SERVING) as soon as the database is migrated, while
the topics and the producer are set up in the background, retried until the broker answers; the relay and
the consumers begin once it has. Meanwhile use cases stage their events in the outbox, which buffers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from interloop_common import db, kafka, metrics, periodic, retention
from interloop_common.grpc_server import GrpcServer, install_shutdown
from interloop_common.inbox import Handler, InboxConsumer, OwnerResolver, VersionOf
from interloop_common.logging import configure_logging
from interloop_common.outbox import OutboxRelay
from interloop_common.settings import ServiceSettings
from interloop_common.telemetry import configure_telemetry

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What a service's servicers and handlers get: the pool, the producer, the settings."""

    settings: ServiceSettings
    pool: asyncpg.Pool
    producer: kafka.Producer
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConsumerSpec:
    group: str
    topics: list[str]
    handlers: dict[str, Handler]
    owner_of: OwnerResolver | None = None
    # Event types applied in aggregate-version order (older ones parked), with how to read the version.
    ordered: dict[str, VersionOf] = field(default_factory=dict)


@dataclass
class ServiceSpec:
    name: str
    package: str
    # Registers servicers on the server given the runtime; returns nothing.
    register: Callable[[GrpcServer, Runtime], None]
    consumers: Callable[[Runtime], list[ConsumerSpec]] = lambda rt: []
    background: Callable[[Runtime], list[Awaitable[None]]] = lambda rt: []
    # Tables of the service's own that the retention sweep keeps bounded (beside outbox, inbox, dead letters).
    sweeps: tuple[retention.Sweep, ...] = ()


async def serve(spec: ServiceSpec, settings: ServiceSettings, *, ready: asyncio.Event | None = None) -> None:
    configure_logging(spec.name, settings.log_level)
    configure_telemetry(spec.name)
    pool = await db.create_pool(
        settings.database_url.get_secret_value(),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        acquire_timeout=settings.db_acquire_timeout_seconds,
    )
    try:  # before anything is written: a role row-level security does not bind never serves
        await db.refuse_privileged(pool)
    except db.PrivilegedRole:
        await pool.close()
        raise
    try:
        await asyncio.to_thread(
            db.prepare_schema,
            settings.database_url.get_secret_value(),
            spec.package,
            migrate_on_start=settings.migrate_on_start,
        )
    except db.SchemaNotCurrent:
        await pool.close()
        raise
    metrics.serve_metrics(settings.metrics_port)
    kafka.set_topic_prefix(settings.topic_prefix)
    kafka.set_security(settings)
    producer = kafka.Producer(settings.kafka_bootstrap_servers, client_id=spec.name)
    runtime = Runtime(settings=settings, pool=pool, producer=producer)

    server = GrpcServer(
        service=spec.name,
        host=settings.grpc_host,
        port=settings.grpc_port,
        grace=settings.shutdown_grace_seconds,
        max_connection_age=settings.grpc_max_connection_age_seconds,
    )
    spec.register(server, runtime)
    relay = OutboxRelay(pool, producer, service=spec.name, alert_owner=settings.alert_owner)
    consumers = [
        InboxConsumer(
            pool=pool,
            producer=producer,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            service=spec.name,
            group=settings.topic_prefix + c.group,
            topics=c.topics,
            handlers=c.handlers,
            max_attempts=settings.consumer_max_attempts,
            backoff_initial=settings.consumer_backoff_initial_seconds,
            backoff_max=settings.consumer_backoff_max_seconds,
            alert_owner=settings.alert_owner,
            owner_of=c.owner_of,
            concurrency=settings.consumer_concurrency,
            ordered=c.ordered,
        )
        for c in spec.consumers(runtime)
    ]
    stop = asyncio.Event()
    install_shutdown(stop)
    await server.start()
    connected = asyncio.Event()

    async def connect() -> None:
        await kafka.wait_out(
            "kafka topics",
            lambda: kafka.ensure_topics(
                settings.kafka_bootstrap_servers,
                kafka.all_topics(),
                settings.kafka_topic_partitions,
                replication=settings.kafka_topic_replication,
                retention_hours=settings.kafka_retention_hours,
            ),
        )
        await producer.connect()
        connected.set()

    async def once_connected(run: Callable[[], Awaitable[None]]) -> None:
        await connected.wait()
        await run()

    tasks = [asyncio.create_task(connect(), name="kafka-connect")]
    tasks += [asyncio.create_task(once_connected(relay.run), name="outbox-relay")]
    tasks += [
        asyncio.create_task(once_connected(c.run), name=f"consumer-{i}") for i, c in enumerate(consumers)
    ]
    kafka_work = tasks[1:]  # the relay and the consumers
    tasks += [asyncio.create_task(coro) for coro in spec.background(runtime)]
    sweeps = [*retention.common_sweeps(settings), *spec.sweeps]
    tasks.append(
        asyncio.create_task(
            periodic.every(
                settings.retention_sweep_seconds,
                "retention sweep",
                lambda: retention.sweep(pool, sweeps, service=spec.name),
                first_delay=min(60.0, settings.retention_sweep_seconds),
            ),
            name="retention-sweep",
        )
    )
    if ready is not None:
        ready.set()
    log.info("%s ready", spec.name)

    stopper = asyncio.create_task(stop.wait())
    pending: set[asyncio.Task] = {stopper, *tasks}
    died: list[asyncio.Task] = []
    # A task that finishes normally is done with its work; one that raises takes the process down
    # (non-zero exit) so Kubernetes restarts it instead of keeping a half-working pod SERVING.
    while not stopper.done() and not died:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        died = [t for t in done if t is not stopper and not t.cancelled() and t.exception() is not None]
    for task in died:
        log.error("background task %s died: %r", task.get_name(), task.exception())
    grace = settings.shutdown_grace_seconds
    try:
        await server.drain()
        relay.stop()
        for c in consumers:
            c.stop()
        # The relay and the consumers finish the round in hand (rows marked, offsets committed) if they
        # can within the grace; one waiting for an absent broker is cancelled, and its work comes again.
        running = [t for t in kafka_work if not t.done()]
        if running and grace > 0 and connected.is_set():
            await asyncio.wait(running, timeout=grace)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    finally:
        await producer.stop(grace=max(grace, 1.0))
        await pool.close()
        log.info("%s stopped", spec.name)
    if died:
        raise SystemExit(1)
