"""What the tests share: session infrastructure (real PostgreSQL and Kafka, from, in order of preference,
servers named by env vars, testcontainers when a Docker engine answers, or the devstack binaries), service
process sets, and the helpers every integration test reads results with: `eventually`, an SMTP `Mailbox`,
`rows`/`value` (system-scoped reads of a service's database)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

from interloop_devstack.kafka import LocalKafka
from interloop_devstack.postgres import LocalPostgres
from interloop_devstack.procs import StackError, free_port
from interloop_devstack.stack import BACKENDS, Ports, ServiceProcess, service_env, wait_ready, wait_serving


@dataclass
class Infra:
    """Where the session's PostgreSQL and Kafka are, and how to make a fresh database."""

    kafka_bootstrap: str
    postgres: LocalPostgres | None = None
    admin_dsn: str = ""
    _cleanup: list = field(default_factory=list)

    def database(self, name: str) -> str:
        if self.postgres is not None:
            return self.postgres.create_database(name)
        import asyncio

        import asyncpg

        async def create() -> str:
            conn = await asyncpg.connect(self.admin_dsn)
            try:
                role = f"interloop_{name}"
                await conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}' NOSUPERUSER NOBYPASSRLS")
                await conn.execute(f'CREATE DATABASE "{name}" OWNER {role}')
            finally:
                await conn.close()
            db = await asyncpg.connect(self.admin_dsn.rsplit("/", 1)[0] + f"/{name}")
            try:
                await db.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
            finally:
                await db.close()
            host = self.admin_dsn.split("@", 1)[1].split("/", 1)[0]
            return f"postgresql://{role}:{role}@{host}/{name}"

        return asyncio.run(create())


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means: no engine
        return False


@contextlib.contextmanager
def session_infra(tmp: Path) -> Iterator[Infra]:
    if os.environ.get("INTERLOOP_TEST_POSTGRES_DSN") and os.environ.get("INTERLOOP_TEST_KAFKA_BOOTSTRAP"):
        yield Infra(
            kafka_bootstrap=os.environ["INTERLOOP_TEST_KAFKA_BOOTSTRAP"],
            admin_dsn=os.environ["INTERLOOP_TEST_POSTGRES_DSN"],
        )
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:18", driver=None) as pg, KafkaContainer().with_kraft() as kafka:
            yield Infra(kafka_bootstrap=kafka.get_bootstrap_server(), admin_dsn=pg.get_connection_url())
        return
    postgres, kafka = _start_local(tmp)
    try:
        yield Infra(kafka_bootstrap=kafka.bootstrap, postgres=postgres, admin_dsn=postgres.admin_dsn)
    finally:
        kafka.stop()
        postgres.stop()


def _start_local(tmp: Path, attempts: int = 3) -> tuple[LocalPostgres, LocalKafka]:
    """PostgreSQL and Kafka from the local binaries. A port can be taken between choosing it and binding
    it; such a start is retried on fresh ports (and every failure is reported if none succeeds)."""
    failures: list[str] = []
    for attempt in range(attempts):
        postgres = LocalPostgres(tmp / f"postgres-{attempt}", free_port())
        kafka = LocalKafka(tmp / f"kafka-{attempt}", free_port(), free_port())
        try:
            postgres.start()
            try:
                kafka.start()
            except BaseException:
                postgres.stop()
                raise
        except StackError as exc:
            failures.append(f"attempt {attempt + 1}: {exc}")
            continue
        return postgres, kafka
    raise StackError("the local PostgreSQL/Kafka did not start: " + " || ".join(failures))


@dataclass
class ServiceSet:
    """A set of service processes with their own databases and topic prefix, on free ports."""

    infra: Infra
    root: Path
    names: tuple[str, ...]
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:8]}.")
    ports: Ports = field(init=False)
    dsns: dict[str, str] = field(default_factory=dict)
    procs: dict[str, ServiceProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ports = Ports(
            http=free_port(),
            grpc={s: free_port() for s in ("scheduler", "scorecard", "sync", "gateway")},
            metrics={s: free_port() for s in ("scheduler", "scorecard", "sync", "gateway")},
        )
        suffix = self.prefix.strip(".")
        for svc in self.names:
            self.dsns[svc] = self.infra.database(f"{svc}_{suffix}")
            env = service_env(
                svc,
                dsn=self.dsns[svc],
                bootstrap=self.infra.kafka_bootstrap,
                ports=self.ports,
                topic_prefix=self.prefix,
            )
            self.procs[svc] = ServiceProcess(svc, env, self.root / f"{svc}-{suffix}.log")

    def start(self, *names: str) -> None:
        for svc in names or self.names:
            self.procs[svc].start()
        for svc in names or self.names:
            if svc == "gateway":
                wait_ready(self.ports.http)
            else:
                wait_serving(self.procs[svc], self.ports.grpc[svc])

    def stop(self) -> None:
        for svc in reversed(self.names):
            self.procs[svc].stop()

    def target(self, svc: str) -> str:
        return f"127.0.0.1:{self.ports.grpc[svc]}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.http}"


__all__ = [
    "BACKENDS",
    "Infra",
    "Mailbox",
    "ServiceSet",
    "consumer_caught_up",
    "eventually",
    "operator_cli",
    "rows",
    "session_infra",
    "value",
]

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T] | T], *, within: float = 30.0, what: str = "condition"
) -> T:
    """Poll `check` (sync or async) until it returns a truthy value, and return that value. An
    AssertionError raised by `check` counts as "not yet"; other errors propagate. After `within` seconds
    (a safety net, not a measurement) it raises AssertionError naming `what` and the last failure."""
    deadline = time.monotonic() + within
    while True:
        failure: AssertionError | None = None
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
        except AssertionError as exc:
            failure, result = exc, None
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            last = f"last failure: {failure}" if failure is not None else f"last result: {result!r:.300}"
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}; {last}") from failure
        await asyncio.sleep(0.2)


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free port that keeps every message it receives, parsed, with
    its envelope recipients (lower case). `with Mailbox() as box:` serves it; sync sends to `box.port`."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.port = 0
        self._controller: Any = None

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(([r.lower() for r in envelope.rcpt_tos], parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages whose envelope names `address` (any case), oldest first."""
        return [m for rcpts, m in list(self.messages) if address.lower() in rcpts]

    def __enter__(self) -> Mailbox:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self._controller.start()
        self.port = self._controller.port
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def operator_cli(gateway_dsn: str, *args: str) -> Any:
    """`interloop ARGS…` as an operator runs it against the gateway's database: the finished process
    (returncode, stdout, stderr)."""
    import os
    import subprocess
    import sys

    return subprocess.run(  # noqa: S603 - our own CLI, our own arguments
        [sys.executable, "-c", "from interloop_cli.main import app; app()", *args],
        env={**os.environ, "INTERLOOP_GATEWAY_DATABASE_URL": gateway_dsn},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def rows(dsn: str, sql: str, *args: Any) -> list[Any]:
    """`sql` on a service's database as the system (row-level security lets it see every tenant)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT set_config('app.system', 'on', false)")
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def value(dsn: str, sql: str, *args: Any) -> Any:
    """The first column of the first row of `sql` (see `rows`), or None when there is no row."""
    found = await rows(dsn, sql, *args)
    return found[0][0] if found else None


async def consumer_caught_up(bootstrap: str, group: str, topic: str) -> bool:
    """True once consumer group `group` has committed offsets at the end of every partition of `topic`
    that holds records: everything published so far was consumed (applied, skipped or dead-lettered).
    Tests use it as the positive signal before asserting that something did NOT happen."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        # the brokers' description: a consumer's partitions_for_topic knows only subscribed topics
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    parts = [TopicPartition(topic, p["partition"]) for p in described.get("partitions", ())]
    assert parts, f"topic {topic} has no partitions: nothing to be caught up on"
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    return all(tp in committed and committed[tp].offset >= end for tp, end in ends.items() if end > 0)
