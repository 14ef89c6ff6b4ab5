"""The topics the services create carry their retention (how long personal data can linger in Kafka's
history after an erasure) and a min.insync.replicas that matches the replication factor."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from interloop_common.kafka import ensure_topics, topic_configs

pytestmark = pytest.mark.integration


def test_min_insync_replicas_follows_replication() -> None:
    assert topic_configs(1, 24) == {"retention.ms": "86400000", "min.insync.replicas": "1"}
    assert topic_configs(3, 0.5)["min.insync.replicas"] == "2"
    assert topic_configs(5, 1)["min.insync.replicas"] == "2"


async def test_service_created_topics_carry_retention(platform, infra) -> None:  # type: ignore[no-untyped-def]
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        names = [f"{platform.prefix}interloop.interview.v1", f"{platform.prefix}interloop.ats.v1.dlt"]
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
    finally:
        await admin.close()
    found = {}
    for response in described:
        for _code, _msg, _type, name, entries in response.resources:
            found[name] = {e[0]: e[1] for e in entries}
    assert set(found) == set(names)
    for name in names:
        assert found[name]["retention.ms"] == str(720 * 3600 * 1000), name
        assert found[name]["min.insync.replicas"] == "1", name


async def _configs(bootstrap: str, name: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    ((_, _, _, _, entries),) = response.resources
    return {e[0]: e[1] for e in entries}


async def test_existing_topics_are_aligned_and_keep_their_own_settings(infra) -> None:  # type: ignore[no-untyped-def]
    name = f"t{uuid.uuid4().hex[:8]}.legacy"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:  # created long ago by someone else: a week of retention and a bigger message limit
        await admin.create_topics(
            [
                NewTopic(
                    name,
                    1,
                    1,
                    topic_configs={"retention.ms": str(7 * 24 * 3600 * 1000), "max.message.bytes": "2000000"},
                )
            ]
        )
    finally:
        await admin.close()
    await ensure_topics(infra.kafka_bootstrap, [name], replication=1, retention_hours=48)
    configs = await _configs(infra.kafka_bootstrap, name)
    assert configs["retention.ms"] == str(48 * 3600 * 1000)
    assert configs["max.message.bytes"] == "2000000"  # theirs, kept
    await ensure_topics(infra.kafka_bootstrap, [name], replication=1, retention_hours=48)  # idempotent
    assert await _configs(infra.kafka_bootstrap, name) == configs
