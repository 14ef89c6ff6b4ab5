"""A real single-node Apache Kafka broker in KRaft mode, run from the jars Maven resolved.

Storage is formatted the way `kafka-storage.sh format --standalone` does it (StorageTool), then the
broker's main class `kafka.Kafka` runs with a capped heap.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from interloop_devstack.procs import StackError, spawn, stop, wait_port

DEFAULT_LIBS = Path.home() / ".cache" / "interloop" / "kafka-3.9.2" / "libs"


def _cluster_id() -> str:
    """A KRaft cluster id as `kafka-storage random-uuid` makes one: never starting with '-'.

    One random id in 64 would otherwise start with '-', and the storage tool reads it as an option
    ("argument --cluster-id/-t: expected one argument") — a fresh-clone run failed that way.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def kafka_libs() -> Path:
    libs = Path(os.environ.get("INTERLOOP_KAFKA_LIBS", DEFAULT_LIBS))
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise StackError(f"Kafka jars not found in {libs}: run `make kafka` (needs Maven and Java 17)")
    return libs


def java() -> str:
    path = shutil.which("java")
    if path is None:
        raise StackError(
            "Java is missing: install a JDK 17+ (apt-get install openjdk-17-jre-headless) and rerun"
        )
    return path


@dataclass(frozen=True)
class BrokerSecurity:
    """A SASL_SSL client listener: TLS with a PEM keystore (private key + certificate chain) and a PEM
    truststore (the CA), SASL PLAIN with these users (name -> password)."""

    keystore: Path
    truststore: Path
    users: dict[str, str]


@dataclass
class LocalKafka:
    data_dir: Path
    port: int
    controller_port: int
    heap: str = "512m"
    proc: subprocess.Popen | None = None
    security: BrokerSecurity | None = None
    host: str = "127.0.0.1"  # where clients connect (listened on and advertised)

    def _listener(self) -> list[str]:
        c = f"CONTROLLER://127.0.0.1:{self.controller_port}"
        if self.security is None:
            return [
                f"listeners=PLAINTEXT://{self.host}:{self.port},{c}",
                f"advertised.listeners=PLAINTEXT://{self.host}:{self.port}",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            ]
        sec = self.security
        users = " ".join(
            f'user_{name}="{password}"' for name, password in {"broker": "broker", **sec.users}.items()
        )
        return [
            f"listeners=SASL_SSL://127.0.0.1:{self.port},{c}",
            f"advertised.listeners=SASL_SSL://127.0.0.1:{self.port}",
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=SASL_SSL",
            "sasl.enabled.mechanisms=PLAIN",
            "sasl.mechanism.inter.broker.protocol=PLAIN",
            "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
            f' required username="broker" password="broker" {users};',
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={sec.keystore}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={sec.truststore}",
        ]

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def _config(self) -> Path:
        logs = self.data_dir / "data"
        cfg = self.data_dir / "server.properties"
        cfg.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    *self._listener(),
                    "controller.listener.names=CONTROLLER",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
                    f"log.dirs={logs}",
                    "num.partitions=3",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=10",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=true",
                    "log.flush.interval.messages=9223372036854775807",
                    "",
                ]
            )
        )
        return cfg

    def start(self) -> None:
        libs = kafka_libs()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cfg = self._config()
        classpath = str(libs / "*")
        jvm = [
            java(),
            f"-Xmx{self.heap}",
            f"-Xms{self.heap}",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{self._log4j()}",
            "-cp",
            classpath,
        ]
        if not (self.data_dir / "data" / "meta.properties").exists():
            cluster_id = _cluster_id()
            fmt = subprocess.run(
                [*jvm, "kafka.tools.StorageTool", "format", "--standalone", "-t", cluster_id, "-c", str(cfg)],
                capture_output=True,
                text=True,
            )
            if fmt.returncode != 0:
                raise StackError(
                    f"formatting Kafka storage failed: {fmt.stderr.strip() or fmt.stdout.strip()}"
                )
        log = self.data_dir / "kafka.log"
        self.proc = spawn([*jvm, "kafka.Kafka", str(cfg)], log=log)
        wait_port(self.port, proc=self.proc, log=log, timeout=90, what="Kafka", host=self.host)

    def _log4j(self) -> Path:
        path = self.data_dir / "log4j.properties"
        path.write_text(
            "log4j.rootLogger=WARN, stdout\n"
            "log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n"
            "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
            "log4j.logger.kafka.server.KafkaServer=INFO\n"
        )
        return path

    def stop(self) -> None:
        stop(self.proc, timeout=30)
        self.proc = None
