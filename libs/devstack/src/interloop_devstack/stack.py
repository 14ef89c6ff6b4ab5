"""Starts PostgreSQL, Kafka and the four services as local processes, and stops them all."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from interloop_devstack.kafka import LocalKafka
from interloop_devstack.postgres import SERVICES, LocalPostgres
from interloop_devstack.procs import StackError, require_free, spawn, stop, wait_port

BACKENDS = ("scheduler", "scorecard", "sync")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise StackError(f"{name}={raw!r} is not a port number") from None


@dataclass(frozen=True)
class Ports:
    postgres: int = 15432
    kafka: int = 19092
    kafka_controller: int = 19093
    http: int = 8000
    smtp: int = 1025
    grpc: dict[str, int] = field(
        default_factory=lambda: {"scheduler": 50061, "scorecard": 50062, "sync": 50063, "gateway": 50064}
    )
    metrics: dict[str, int] = field(
        default_factory=lambda: {"scheduler": 9461, "scorecard": 9462, "sync": 9463, "gateway": 9464}
    )

    @classmethod
    def from_env(cls) -> Ports:
        base = cls()
        return cls(
            postgres=_env_int("INTERLOOP_DEV_POSTGRES_PORT", base.postgres),
            kafka=_env_int("INTERLOOP_DEV_KAFKA_PORT", base.kafka),
            kafka_controller=_env_int("INTERLOOP_DEV_KAFKA_CONTROLLER_PORT", base.kafka_controller),
            http=_env_int("INTERLOOP_DEV_HTTP_PORT", base.http),
            smtp=_env_int("INTERLOOP_DEV_SMTP_PORT", base.smtp),
            grpc={s: _env_int(f"INTERLOOP_DEV_{s.upper()}_GRPC_PORT", p) for s, p in base.grpc.items()},
            metrics={
                s: _env_int(f"INTERLOOP_DEV_{s.upper()}_METRICS_PORT", p) for s, p in base.metrics.items()
            },
        )

    def check_free(self) -> None:
        require_free(self.postgres, "PostgreSQL", "INTERLOOP_DEV_POSTGRES_PORT")
        require_free(self.kafka, "Kafka", "INTERLOOP_DEV_KAFKA_PORT")
        require_free(self.kafka_controller, "the Kafka controller", "INTERLOOP_DEV_KAFKA_CONTROLLER_PORT")
        require_free(self.http, "the gateway HTTP API", "INTERLOOP_DEV_HTTP_PORT")
        require_free(self.smtp, "the local mailbox (SMTP)", "INTERLOOP_DEV_SMTP_PORT")
        for s, p in self.grpc.items():
            require_free(p, f"{s} gRPC", f"INTERLOOP_DEV_{s.upper()}_GRPC_PORT")
        for s, p in self.metrics.items():
            require_free(p, f"{s} metrics", f"INTERLOOP_DEV_{s.upper()}_METRICS_PORT")


def new_credential_key() -> str:
    """A Fernet key for credentials stored encrypted (sync's vendor, the scheduler's calendar ones)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def service_env(
    svc: str,
    *,
    dsn: str,
    bootstrap: str,
    ports: Ports,
    topic_prefix: str = "",
    extra: dict[str, str] | None = None,
    credential_keys: str | None = None,
) -> dict[str, str]:
    p = f"INTERLOOP_{svc.upper()}_"
    env = dict(os.environ)
    env.update(
        {
            p + "DATABASE_URL": dsn,
            p + "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            p + "GRPC_PORT": str(ports.grpc[svc]),
            p + "METRICS_PORT": str(ports.metrics[svc]),
            p + "TOPIC_PREFIX": topic_prefix,
            p + "CONSUMER_BACKOFF_INITIAL_SECONDS": env.get(p + "CONSUMER_BACKOFF_INITIAL_SECONDS", "0.1"),
            "OTEL_SERVICE_NAME": f"interloop-{svc}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if svc in ("sync", "scheduler") and not env.get(p + "CREDENTIAL_KEYS"):
        # vendor (sync) and calendar (scheduler) credentials are encrypted at rest with these keys
        env[p + "CREDENTIAL_KEYS"] = credential_keys or new_credential_key()
    if svc in ("sync", "scheduler"):
        # the dev stack's and the tests' fake vendors listen on loopback, which the outbound guard refuses
        # by default (interloop_common.outbound); production leaves this empty
        env.setdefault(p + "OUTBOUND_ALLOW_NETWORKS", "127.0.0.0/8")
    if svc == "scheduler":  # candidate links point at the gateway that serves the scheduling page
        env.setdefault(p + "PUBLIC_BASE_URL", f"http://127.0.0.1:{ports.http}")
    if svc == "gateway":
        env[p + "HTTP_PORT"] = str(ports.http)
        for b in BACKENDS:
            env[p + f"{b.upper()}_TARGET"] = f"127.0.0.1:{ports.grpc[b]}"
    env.update(extra or {})
    return env


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = spawn(
            [sys.executable, "-m", f"interloop_{self.name}", "serve"], log=self.log, env=self.env
        )

    def stop(self, timeout: float = 20.0) -> None:
        stop(self.proc, timeout=timeout)


def grpc_serving(port: int, timeout: float = 1.0) -> bool:
    async def check() -> bool:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            try:
                resp = await health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(), timeout=timeout
                )
            except grpc.aio.AioRpcError:
                return False
            return resp.status == health_pb2.HealthCheckResponse.SERVING

    return asyncio.run(check())


def wait_serving(svc: ServiceProcess, port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if svc.proc is not None and svc.proc.poll() is not None:
            tail = svc.log.read_text(errors="replace").strip().splitlines()[-3:] if svc.log.exists() else []
            raise StackError(
                f"{svc.name} exited with status {svc.proc.returncode}; "
                f"see {svc.log}: {' | '.join(tail)[-500:]}"
            )
        if grpc_serving(port):
            return
        time.sleep(0.3)
    raise StackError(f"{svc.name} did not report SERVING within {timeout:.0f}s; see {svc.log}")


def wait_ready(http_port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"http://127.0.0.1:{http_port}/readyz", timeout=2)
            if r.status_code == 200:
                return
            last = r.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.3)
    raise StackError(f"gateway /readyz not 200 within {timeout:.0f}s: {last[:300]}")


@dataclass
class DevStack:
    root: Path
    ports: Ports = field(default_factory=Ports.from_env)
    postgres: LocalPostgres | None = None
    kafka: LocalKafka | None = None
    mailbox: object | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    @property
    def maildir(self) -> Path:
        return self.root / "mail"

    def start_infra(self) -> None:
        self.ports.check_free()
        # Candidate emails go to a local SMTP server that files them in a Maildir you can read.
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Mailbox

        self.maildir.parent.mkdir(parents=True, exist_ok=True)
        self.mailbox = Controller(Mailbox(self.maildir), hostname="127.0.0.1", port=self.ports.smtp)
        self.mailbox.start()
        self.postgres = LocalPostgres(self.root / "postgres", self.ports.postgres)
        self.postgres.start()
        self.kafka = LocalKafka(self.root / "kafka", self.ports.kafka, self.ports.kafka_controller)
        self.kafka.start()

    def start_services(self, extra_env: dict[str, dict[str, str]] | None = None) -> None:
        assert self.postgres and self.kafka
        # The dev stack's credential key survives restarts with its data, so stored credentials decrypt.
        key_file = self.root / "sync-credential-keys"
        if not key_file.exists():
            key_file.write_text(new_credential_key())
            key_file.chmod(0o600)
        for svc in SERVICES:
            dsn = self.postgres.create_database(svc)
            self.services[svc] = ServiceProcess(
                svc,
                service_env(
                    svc,
                    dsn=dsn,
                    bootstrap=self.kafka.bootstrap,
                    ports=self.ports,
                    extra={**self._smtp_env(svc), **(extra_env or {}).get(svc, {})},
                    credential_keys=key_file.read_text().strip(),
                ),
                self.root / "logs" / f"{svc}.log",
            )
        for svc in BACKENDS:  # backends first: the gateway's readiness checks them
            self.services[svc].start()
        for svc in BACKENDS:
            wait_serving(self.services[svc], self.ports.grpc[svc])
        self.services["gateway"].start()
        wait_ready(self.ports.http)

    def _smtp_env(self, svc: str) -> dict[str, str]:
        if svc != "sync":
            return {}
        return {"INTERLOOP_SYNC_SMTP_HOST": "127.0.0.1", "INTERLOOP_SYNC_SMTP_PORT": str(self.ports.smtp)}

    def stop(self) -> None:
        for svc in ("gateway", *BACKENDS):
            if svc in self.services:
                self.services[svc].stop()
        if self.mailbox is not None:
            self.mailbox.stop()  # type: ignore[attr-defined]
        if self.kafka:
            self.kafka.stop()
        if self.postgres:
            self.postgres.stop()


__all__ = [
    "DevStack",
    "Ports",
    "ServiceProcess",
    "StackError",
    "service_env",
    "wait_port",
    "wait_ready",
    "wait_serving",
]
