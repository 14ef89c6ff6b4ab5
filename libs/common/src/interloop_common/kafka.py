"""The one Kafka helper: an idempotent producer (acks=all) and topic provisioning."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)

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
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=30000,
    )


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
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="interloop-admin")
    await admin.start()
    try:
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
