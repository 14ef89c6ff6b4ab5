"""The one Kafka helper: an idempotent producer (acks=all) that outlives broker outages, topic
provisioning, and the one reading of broker errors (wait it out, or this record can never be published)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    BrokerNotAvailableError,
    InvalidTopicError,
    KafkaError,
    KafkaTimeoutError,
    KafkaUnavailableError,
    MessageSizeTooLargeError,
    RebalanceInProgressError,
    RecordListTooLargeError,
    RecordTooLargeError,
    ReplicaNotAvailableError,
    TopicAlreadyExistsError,
)
from aiokafka.helpers import create_ssl_context

from interloop_common.errors import Unavailable
from interloop_common.periodic import backoff
from interloop_common.settings import ServiceSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Broker errors aiokafka does not flag `retriable` although waiting fixes them: a timeout, a broker or
# replica that is away, a group in the middle of a rebalance.
_ALSO_RETRIABLE = (
    KafkaTimeoutError,
    KafkaUnavailableError,
    BrokerNotAvailableError,
    ReplicaNotAvailableError,
    RebalanceInProgressError,
)
# The broker refuses this record whatever its health: too large for the request or the topic, or a topic
# name it rejects. Retrying can never publish it.
_UNPUBLISHABLE = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError, InvalidTopicError)


def retriable(exc: BaseException) -> bool:
    """True when the broker is away, busy or electing (connection lost, timeouts, no leader, not enough
    replicas): wait and try again, nothing is wrong with the record."""
    if isinstance(exc, (OSError, TimeoutError, *_ALSO_RETRIABLE)):
        return True
    return isinstance(exc, KafkaError) and bool(exc.retriable) and not unpublishable(exc)


def unpublishable(exc: BaseException) -> bool:
    """True when Kafka refuses the record itself (MessageSizeTooLargeError and the like): it can never be
    published, so it is set aside (quarantined) instead of retried."""
    return isinstance(exc, _UNPUBLISHABLE)


async def wait_out(
    what: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    retry: Callable[[BaseException], bool] = retriable,
    initial: float = 0.5,
    maximum: float = 30.0,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """``attempt()`` until it succeeds, for as long as the failures are ones ``retry`` says waiting fixes
    (a broker away for minutes); the waits double up to ``maximum`` (periodic.backoff). Any other error
    is raised: a misconfiguration fails loudly instead of being waited on forever."""
    failures = 0
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not retry(exc):
                raise
            failures += 1
            delay = backoff(initial, failures, maximum)
            log.warning(
                "%s: %s: %s; retrying in %.1fs (%d in a row)", what, type(exc).__name__, exc, delay, failures
            )
            await sleep(delay)


# Topics, one per event family; dead letters go to "<topic>.dlt". A deployment (or a test) may put
# every topic under a prefix; it is set once at start-up from the service's settings.
_prefix = ""
_FAMILIES = {
    "interview": "interloop.interview.v1",
    "scorecard": "interloop.scorecard.v1",
    "ats": "interloop.ats.v1",
    "hris": "interloop.hris.v1",
    "notification": "interloop.notification.v1",
}


def set_topic_prefix(prefix: str) -> None:
    global _prefix
    _prefix = prefix


# How every client of this process authenticates to the brokers (set_security, from the settings).
_security: dict[str, Any] = {}


def set_security(settings: ServiceSettings) -> None:
    """TLS and SASL for every producer, consumer and admin client of this process."""
    global _security
    _security = security_options(settings)


def security_options(settings: ServiceSettings) -> dict[str, Any]:
    """aiokafka's keyword arguments for the settings' security protocol: a TLS context verifying the
    brokers (the CA file, else the system store; a client certificate for mutual TLS) and SASL
    credentials (PLAIN or SCRAM)."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=settings.kafka_ssl_cafile or None,
            certfile=settings.kafka_ssl_certfile or None,
            keyfile=settings.kafka_ssl_keyfile or None,
        )
    if protocol.startswith("SASL_"):
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
        }
    return options


def client_options() -> dict[str, Any]:
    return dict(_security)


def topic(family: str) -> str:
    try:
        return _prefix + _FAMILIES[family]
    except KeyError:
        raise ValueError(f"no topic for family {family!r}; families: {sorted(_FAMILIES)}") from None


def topic_for(event_type: str) -> str:
    family = event_type.split(".", 1)[0]
    return topic("scorecard" if family == "decision" else family)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlt"


def make_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        **client_options(),
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=30000,
    )


class Producer:
    """The service's one producer (idempotent, acks=all), which a broker outage does not end.

    ``connect()`` starts it, retried while the broker is away, so a service serves gRPC without Kafka
    (the outbox buffers). Once started, the idempotent producer retries a record by itself for as long
    as the broker is away. A record it gives up on (the broker refused it, or no partition leader turned
    up in time) leaves its partition's sequence number behind, and aiokafka then fails every later record
    of that partition with OutOfOrderSequenceNumber; so a producer that failed a record is replaced by a
    fresh one (a new producer id, fresh sequences), and sends wait for the replacement."""

    def __init__(self, bootstrap_servers: str, client_id: str) -> None:
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._current: AIOKafkaProducer | None = None
        self._connected = asyncio.Event()
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.replacements = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def connect(self) -> None:
        """Returns once the producer is started (retried, with backoff, while the broker is away)."""
        self._current = await wait_out(f"kafka producer {self._client_id}: start", self._started)
        self._connected.set()
        log.info("kafka producer %s connected", self._client_id)

    async def _started(self) -> AIOKafkaProducer:
        producer = make_producer(self._bootstrap, self._client_id)
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        return producer

    async def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Any = None
    ) -> asyncio.Future[Any]:
        """AIOKafkaProducer.send: hands the record over and returns the future of its acknowledgement."""
        if self._current is None:
            raise Unavailable("Kafka has not answered since this service started; retry later")
        await self._connected.wait()  # a replacement in progress
        producer = self._current
        try:
            future = await producer.send(topic, value=value, key=key, headers=headers)
        except Exception as exc:
            if not (retriable(exc) or unpublishable(exc)):
                self._replace(producer, exc)
            raise
        future.add_done_callback(lambda f: self._settled(producer, f))
        return future

    def _settled(self, producer: AIOKafkaProducer, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            self._replace(producer, future.exception())  # type: ignore[arg-type]

    def _replace(self, producer: AIOKafkaProducer, exc: BaseException) -> None:
        if self._closed or producer is not self._current or not self._connected.is_set():
            return  # already being replaced, or shutting down
        log.warning(
            "kafka producer %s failed a record (%s: %s): replacing it with a fresh producer",
            self._client_id,
            type(exc).__name__,
            exc,
        )
        self._connected.clear()
        self._spawn(self._replacement(producer))

    async def _replacement(self, old: AIOKafkaProducer) -> None:
        self._spawn(self._retire(old))  # its records on healthy partitions still complete
        self._current = await wait_out(
            f"kafka producer {self._client_id}: restart", self._started, retry=lambda _: True
        )
        self.replacements += 1
        self._connected.set()

    async def _retire(self, producer: AIOKafkaProducer, grace: float = 30.0) -> None:
        try:
            await asyncio.wait_for(producer.stop(), grace)
        except Exception as exc:  # noqa: BLE001 - unacknowledged rows stay in the outbox and go again
            log.warning("kafka producer %s did not stop cleanly: %r", self._client_id, exc)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self, grace: float = 10.0) -> None:
        """Flushes for up to ``grace`` seconds: with the broker away, records not yet acknowledged are
        dropped from memory, and their outbox rows (not marked published) go again after a restart."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        if self._current is not None:
            await self._retire(self._current, grace)


def topic_configs(replication: int, retention_hours: float) -> dict[str, str]:
    return {
        "retention.ms": str(int(retention_hours * 3600 * 1000)),
        # With 3 replicas, acks=all needs 2 in sync: one broker may be down, none may be lost.
        "min.insync.replicas": str(min(2, replication)),
    }


async def ensure_topics(
    bootstrap_servers: str,
    topics: list[str],
    partitions: int = 3,
    *,
    replication: int = 1,
    retention_hours: float = 720,
) -> None:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="interloop-admin", **client_options()
    )
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        wanted = [t for t in topics if t not in existing]
        if wanted:
            configs = topic_configs(replication, retention_hours)
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            name=t,
                            num_partitions=partitions,
                            replication_factor=replication,
                            topic_configs=configs,
                        )
                        for t in wanted
                    ]
                )
            except TopicAlreadyExistsError:
                pass
            log.info("created topics %s (%s replicas, %s)", wanted, replication, configs)
        present = [t for t in topics if t in existing]
        if present:
            await _align_existing(admin, present, topic_configs(replication, retention_hours), replication)
    finally:
        await admin.close()


async def partitions(bootstrap_servers: str, topics: list[str]) -> list[TopicPartition]:
    """Every partition of ``topics`` that exist, as the brokers describe them. (A consumer's
    ``partitions_for_topic`` knows only topics it subscribed to: after ``topics()`` it still answers None
    for the others.)"""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="interloop-admin", **client_options()
    )
    try:
        await admin.start()
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return sorted(
        TopicPartition(t["topic"], p["partition"])
        for t in described
        if not t.get("error_code")
        for p in t.get("partitions", ())
    )


async def _align_existing(
    admin: AIOKafkaAdminClient, topics: list[str], configs: dict[str, str], replication: int
) -> None:
    """Topics created before (or by someone else) get the configured retention and min.insync.replicas;
    their other topic-level settings are kept (AlterConfigs replaces the whole set, so it is merged).
    Replication cannot be changed by a config: a mismatch is reported for an operator to reassign."""
    described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in topics])
    changes = []
    for response in described:
        for error_code, _msg, _type, name, entries in response.resources:
            if error_code:
                continue
            current = {}
            for entry in entries:
                key, value, read_only, source = entry[0], entry[1], entry[2], entry[3]
                # v0 answers is_default, v1+ the config source (1 = a topic-level override)
                override = (source is False) if response.API_VERSION == 0 else (source == 1)
                if override and not read_only and value is not None:
                    current[key] = value
            if any(current.get(k) != v for k, v in configs.items()):
                changes.append(ConfigResource(ConfigResourceType.TOPIC, name, {**current, **configs}))
    if changes:
        await admin.alter_configs(changes)
        log.info("topic settings aligned on %s: %s", [c.name for c in changes], configs)
    for t in await admin.describe_topics(topics):
        replicas = {len(p["replicas"]) for p in t.get("partitions", [])}
        if replicas and replicas != {replication}:
            log.warning(
                "topic %s has %s replica(s) per partition, the setting asks for %s: reassign its partitions "
                "(kafka-reassign-partitions.sh); producers use acks=all either way",
                t["topic"],
                sorted(replicas),
                replication,
            )


def all_topics() -> list[str]:
    return [t for family in _FAMILIES for t in (topic(family), dead_letter_topic(topic(family)))]
