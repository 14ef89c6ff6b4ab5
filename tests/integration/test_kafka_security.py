"""Kafka over TLS with SASL, on a real broker of this module's own that accepts only SASL_SSL: a service
configured with the CA and its credentials creates its topics, publishes and consumes; a wrong password,
an unknown CA or plaintext are refused by the broker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from aiokafka import AIOKafkaConsumer
from grpc_health.v1 import health_pb2, health_pb2_grpc
from interloop_common import kafka
from interloop_common.settings import ServiceSettings
from interloop_devstack.certs import TestCA
from interloop_devstack.kafka import BrokerSecurity, LocalKafka
from interloop_devstack.procs import free_port
from interloop_devstack.testing import eventually

PASSWORD = "alice-secret"  # noqa: S105 - a test credential


def _certificates(folder: Path, *, cn: str) -> tuple[Path, Path]:
    """A CA and a broker certificate for 127.0.0.1 signed by it: (keystore with key + chain, CA file)."""
    ca = TestCA(cn)
    key, cert = ca.issue("127.0.0.1", server=True)
    folder.mkdir(parents=True, exist_ok=True)
    keystore, cafile = folder / "broker.pem", folder / "ca.pem"
    keystore.write_bytes(key + cert + ca.pem)
    cafile.write_bytes(ca.pem)
    return keystore, cafile


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalKafka, Path, Path]]:
    tmp = tmp_path_factory.mktemp("kafka-sasl-ssl")
    keystore, cafile = _certificates(tmp / "tls", cn="interloop test CA")
    _, stranger_ca = _certificates(tmp / "other", cn="someone else's CA")
    broker = LocalKafka(
        tmp / "broker",
        free_port(),
        free_port(),
        security=BrokerSecurity(keystore=keystore, truststore=cafile, users={"alice": PASSWORD}),
    )
    broker.start()
    try:
        yield broker, cafile, stranger_ca
    finally:
        broker.stop()


def _settings(broker: LocalKafka, cafile: Path, password: str = PASSWORD) -> ServiceSettings:
    return ServiceSettings(
        kafka_bootstrap_servers=broker.bootstrap,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="alice",
        kafka_sasl_password=password,
        kafka_ssl_cafile=str(cafile),
    )


async def _round_trip(settings: ServiceSettings, topic: str) -> bytes:
    kafka.set_security(settings)
    try:
        await kafka.ensure_topics(settings.kafka_bootstrap_servers, [topic], 1)
        producer = kafka.make_producer(settings.kafka_bootstrap_servers, client_id="security-test")
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"hello over SASL_SSL", key=b"k")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=f"g-{uuid.uuid4().hex[:6]}",
            **kafka.client_options(),
        )
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), 60)
            return record.value
        finally:
            await consumer.stop()
    finally:
        kafka.set_security(ServiceSettings())


async def test_the_clients_publish_and_consume_over_sasl_ssl(secure_broker) -> None:  # type: ignore[no-untyped-def]
    broker, cafile, _ = secure_broker
    assert await _round_trip(_settings(broker, cafile), "security.ok") == b"hello over SASL_SSL"


@pytest.mark.parametrize("case", ["wrong password", "unknown CA", "plaintext"])
async def test_the_broker_refuses_what_does_not_prove_itself(secure_broker, case: str) -> None:  # type: ignore[no-untyped-def]
    broker, cafile, stranger_ca = secure_broker
    settings = {
        "wrong password": _settings(broker, cafile, password="not-it"),
        "unknown CA": _settings(broker, stranger_ca),
        "plaintext": ServiceSettings(kafka_bootstrap_servers=broker.bootstrap),
    }[case]
    with pytest.raises(Exception):  # noqa: B017, PT011 - each client fails its own way; none gets through
        await asyncio.wait_for(_round_trip(settings, f"security.{case.replace(' ', '-')}"), 45)


def test_security_settings_are_checked_when_they_load() -> None:
    with pytest.raises(ValueError, match="needs kafka_sasl_username"):
        ServiceSettings(kafka_security_protocol="SASL_SSL")
    with pytest.raises(ValueError, match="need kafka_security_protocol SSL or SASL_SSL"):
        ServiceSettings(kafka_ssl_cafile="/etc/ca.pem")
    with pytest.raises(ValueError, match="go together"):
        ServiceSettings(kafka_security_protocol="SSL", kafka_ssl_certfile="/c.pem")
    assert "alice-secret" not in repr(_settings(LocalKafka(Path("/x"), 1, 2), Path("/ca.pem")))


async def test_a_service_configured_for_sasl_ssl_creates_its_topics_and_serves(infra, secure_broker) -> None:  # type: ignore[no-untyped-def]
    broker, cafile, _ = secure_broker
    dsn = infra.database(f"kafkasec_{uuid.uuid4().hex[:8]}")
    port = free_port()
    p = "INTERLOOP_SCORECARD_"
    env = {
        **os.environ,
        p + "DATABASE_URL": dsn,
        p + "GRPC_PORT": str(port),
        p + "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        p + "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        p + "KAFKA_SASL_MECHANISM": "PLAIN",
        p + "KAFKA_SASL_USERNAME": "alice",
        p + "KAFKA_SASL_PASSWORD": PASSWORD,
        p + "KAFKA_SSL_CAFILE": str(cafile),
        p + "TOPIC_PREFIX": "sec.",
    }
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "interloop_scorecard", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)

            async def serving() -> bool:
                try:
                    r = await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
                except grpc.aio.AioRpcError:
                    return False
                return r.status == health_pb2.HealthCheckResponse.SERVING

            await eventually(serving, within=90, what="the scorecard service SERVING")

        async def topics() -> set[str]:
            from aiokafka.admin import AIOKafkaAdminClient

            kafka.set_security(_settings(broker, cafile))
            admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap, **kafka.client_options())
            try:
                await admin.start()
                return {t for t in await admin.list_topics() if t.startswith("sec.")}
            finally:
                await admin.close()
                kafka.set_security(ServiceSettings())

        found = await eventually(topics, within=90, what="the service's topics created over SASL_SSL")
        assert "sec." + kafka.topic("scorecard") in found
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        assert PASSWORD not in err  # the SASL password never reaches the logs
