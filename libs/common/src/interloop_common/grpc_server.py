"""The one way to start a gRPC server: health checking, reflection, deadlines, graceful SIGTERM drain.

On SIGTERM/SIGINT the health status flips to NOT_SERVING first (so Kubernetes and the gateway stop
sending traffic), then in-flight RPCs get `grace` seconds to finish before the server stops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Callable, Iterable
from typing import Any

import asyncpg
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from interloop_common import metrics
from interloop_common.db import DATABASE_AWAY
from interloop_common.errors import DomainError, FieldViolations, RateLimited
from interloop_common.rpc import abort_invalid, abort_rate_limited

log = logging.getLogger(__name__)

OVERALL = ""  # the empty service name is the server's overall health


class _ErrorMetrics(grpc.aio.ServerInterceptor):
    """Maps the use cases' errors (interloop_common.errors) to status codes, FieldViolations to
    INVALID_ARGUMENT with field details, counts error statuses, and turns any
    other exception escaping a servicer into INTERNAL without leaking its details."""

    def __init__(self, service: str) -> None:
        self._service = service

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        service = self._service

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                return await inner(request, context)
            except asyncio.CancelledError:
                raise
            except FieldViolations as exc:
                metrics.RPC_ERRORS.labels(service, "INVALID_ARGUMENT").inc()
                await abort_invalid(context, exc.violations)
            except RateLimited as exc:
                metrics.RPC_ERRORS.labels(service, exc.status).inc()
                await abort_rate_limited(context, exc.message, exc.retry_after)
            except DomainError as exc:
                metrics.RPC_ERRORS.labels(service, exc.status).inc()
                await context.abort(grpc.StatusCode[exc.status], exc.message)
            except (asyncpg.UniqueViolationError, asyncpg.SerializationError, asyncpg.DeadlockDetectedError):
                # Two writers raced on one row: the loser reads again and retries.
                metrics.RPC_ERRORS.labels(service, "ABORTED").inc()
                await context.abort(grpc.StatusCode.ABORTED, "a concurrent change won; read again and retry")
            except (*DATABASE_AWAY, ConnectionError) as exc:
                # The database is away or failing over (a restart): the caller may retry; nothing committed.
                metrics.RPC_ERRORS.labels(service, "UNAVAILABLE").inc()
                log.warning(
                    "%s: database unavailable: %s: %s", handler_call_details.method, type(exc).__name__, exc
                )
                await context.abort(grpc.StatusCode.UNAVAILABLE, "the database is unavailable; retry")
            except Exception as exc:
                code = context.code() if hasattr(context, "code") else None
                if isinstance(exc, grpc.aio.AbortError) or code not in (None, grpc.StatusCode.OK):
                    metrics.RPC_ERRORS.labels(service, str(code.name if code else "UNKNOWN")).inc()
                    raise
                metrics.RPC_ERRORS.labels(service, "INTERNAL").inc()
                log.exception("unhandled error in %s", handler_call_details.method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")

        return grpc.unary_unary_rpc_method_handler(
            unary_unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class GrpcServer:
    def __init__(
        self,
        *,
        service: str,
        host: str,
        port: int,
        grace: float = 5.0,
        max_connection_age: float = 300.0,
        credentials: grpc.ServerCredentials | None = None,
    ) -> None:
        self.service = service
        self.grace = grace
        self.server = grpc.aio.server(
            interceptors=[_ErrorMetrics(service)],
            options=[
                ("grpc.so_reuseport", 0),
                ("grpc.max_receive_message_length", 16 * 1024 * 1024),
                # Clients reconnect (and re-resolve DNS) at least this often: scaled-up pods get traffic.
                ("grpc.max_connection_age_ms", int(max_connection_age * 1000)),
                ("grpc.max_connection_age_grace_ms", int(max(grace, 1.0) * 1000)),
            ],
        )
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self._service_names: list[str] = [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        address = f"{host}:{port}"
        self.port = (
            self.server.add_secure_port(address, credentials)
            if credentials is not None
            else self.server.add_insecure_port(address)
        )
        if self.port == 0:
            raise OSError(
                f"gRPC port {host}:{port} is busy: choose another with INTERLOOP_{service.upper()}_GRPC_PORT"
            )

    def add(
        self, register: Callable[[Any, grpc.aio.Server], None], servicer: Any, full_names: Iterable[str]
    ) -> None:
        register(servicer, self.server)
        self._service_names.extend(full_names)

    async def start(self) -> None:
        reflection.enable_server_reflection([*self._service_names, reflection.SERVICE_NAME], self.server)
        await self.server.start()
        for name in [OVERALL, *self._service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        metrics.READY.labels(self.service).set(1)
        log.info("gRPC serving on port %d", self.port)

    async def drain(self) -> None:
        for name in [OVERALL, *self._service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        metrics.READY.labels(self.service).set(0)
        log.info("draining: NOT_SERVING, %.1fs grace for in-flight RPCs", self.grace)
        await self.server.stop(self.grace)


def install_shutdown(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


class _DefaultDeadline(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        if client_call_details.timeout is None:
            client_call_details = client_call_details._replace(timeout=self._seconds)
        return await continuation(client_call_details, request)


def channel(target: str, *, deadline_seconds: float = 10.0) -> grpc.aio.Channel:
    """A client channel that applies a default deadline to every call that does not set one."""
    # round_robin: with a dns:/// target naming a headless Service, calls spread over every pod it
    # resolves to (the default pick_first would pin them all to one).
    # A callee that was away (not yet resolvable at start, restarted, rolled) is found again within
    # seconds: gRPC's defaults back off reconnects up to 120 s and re-resolve DNS at most every 30 s,
    # which a real cluster showed as minutes of UNAVAILABLE after every pod was Ready.
    # Calls go only to pods whose gRPC health is SERVING (client-side health checking), so the chart's
    # headless Service can publish pods before they are ready and a draining pod is left at once.
    # UNAVAILABLE (no pod ready to take the call: the moment one pod has gone and the client has not yet
    # connected to its replacement, or a pod refusing while it drains) is retried for about 3 s before the
    # caller sees it; a callee that stays away is still reported, as 503 at the gateway.
    retry = {
        "maxAttempts": 5,
        "initialBackoff": "0.2s",
        "maxBackoff": "1.5s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"],
    }
    config = {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": ""},
        # Health checks are probes: they report UNAVAILABLE at once instead of waiting it out.
        "methodConfig": [
            {"name": [{}], "retryPolicy": retry},
            {"name": [{"service": "grpc.health.v1.Health"}]},
        ],
    }
    options = [
        ("grpc.service_config", json.dumps(config)),
        ("grpc.initial_reconnect_backoff_ms", 500),
        ("grpc.min_reconnect_backoff_ms", 500),
        ("grpc.max_reconnect_backoff_ms", 5000),
        ("grpc.dns_min_time_between_resolutions_ms", 1000),
    ]
    return grpc.aio.insecure_channel(
        target, options=options, interceptors=[_DefaultDeadline(deadline_seconds)]
    )
