"""Composition root of the gateway: the Litestar app factory and the process that serves it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import grpc
import uvicorn
from cachetools import TTLCache
from interloop.partner.v1 import partner_pb2, partner_pb2_grpc
from interloop_common import db, kafka, metrics, periodic, retention
from interloop_common.grpc_server import GrpcServer, install_shutdown
from interloop_common.logging import configure_logging
from interloop_common.telemetry import configure_telemetry
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

from interloop_gateway import audit, problems
from interloop_gateway.auth import RestLimit
from interloop_gateway.backends import Backends
from interloop_gateway.domain.bias_audit import controllers as bias_audit
from interloop_gateway.domain.connections import controllers as connections
from interloop_gateway.domain.dashboard import controllers as dashboard
from interloop_gateway.domain.health.controllers import HealthController
from interloop_gateway.domain.interviews.controllers import ActivityController, InterviewsController
from interloop_gateway.domain.keys import controllers as keys
from interloop_gateway.domain.partners import controllers as partners
from interloop_gateway.domain.privacy import controllers as privacy
from interloop_gateway.domain.scheduling import controllers as scheduling
from interloop_gateway.domain.scorecards import controllers as scorecards
from interloop_gateway.domain.webhooks import controllers as webhooks
from interloop_gateway.openapi import document_problems
from interloop_gateway.partner.access import Access
from interloop_gateway.partner.servicer import PartnerServicer
from interloop_gateway.settings import GatewaySettings
from interloop_gateway.text import refuse_bad_text

log = logging.getLogger(__name__)


def sweeps(settings: GatewaySettings) -> list[retention.Sweep]:
    """The gateway's own tables the retention sweep bounds (not the audit trail: it is evidence)."""
    return [
        retention.Sweep(
            "idempotency_keys", "created_at", timedelta(hours=settings.idempotency_retention_hours)
        ),
    ]


def create_app(settings: GatewaySettings) -> Litestar:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.pool = await db.create_pool(
            settings.database_url.get_secret_value(),
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            acquire_timeout=settings.db_acquire_timeout_seconds,
        )
        app.state.backends = Backends.connect(settings)
        app.state.verified_keys = TTLCache(maxsize=10_000, ttl=settings.api_key_cache_seconds)
        app.state.refused_keys = TTLCache(maxsize=100_000, ttl=min(2.0, settings.api_key_cache_seconds))
        app.state.rest_limit = RestLimit.of(
            settings.api_key_calls_per_minute, settings.tenant_calls_per_minute
        )
        app.state.partner_access = Access(app.state, settings.api_key_cache_seconds)
        housekeeping = asyncio.create_task(
            periodic.every(
                settings.retention_sweep_seconds,
                "retention sweep",
                lambda: retention.sweep(app.state.pool, sweeps(settings), service="gateway"),
                first_delay=min(60.0, settings.retention_sweep_seconds),
            ),
            name="retention-sweep",
        )
        watch = asyncio.create_task(
            periodic.every(
                settings.backend_health_seconds,
                "backend health",
                lambda: app.state.backends.health(settings.readiness_timeout_seconds),
            ),
            name="backend-health",
        )
        try:
            yield
        finally:
            housekeeping.cancel()
            watch.cancel()
            await asyncio.gather(housekeeping, watch, return_exceptions=True)
            await app.state.backends.close()
            await app.state.pool.close()

    app = Litestar(
        # a body over the bound is refused (413 problem+json) before it is read into memory
        request_max_body_size=settings.max_body_bytes,
        before_request=refuse_bad_text,
        middleware=[audit.rest_middleware],
        route_handlers=[
            HealthController,
            InterviewsController,
            ActivityController,
            *scheduling.CONTROLLERS,
            *scorecards.CONTROLLERS,
            *connections.CONTROLLERS,
            *partners.CONTROLLERS,
            *keys.CONTROLLERS,
            *bias_audit.CONTROLLERS,
            *privacy.CONTROLLERS,
            *webhooks.CONTROLLERS,
            *dashboard.CONTROLLERS,
        ],
        lifespan=[lifespan],
        plugins=[
            problems.plugin(),
            OpenTelemetryPlugin(OpenTelemetryConfig(exclude=["/livez", "/readyz", "/healthz/backends"])),
        ],
        logging_config=None,  # logs go through the JSON handler configured at start-up
        exception_handlers={Exception: problems.internal_error},
        openapi_config=OpenAPIConfig(
            title="Interloop API",
            version="1.0.0",
            description=(
                "Interview scheduling, structured scorecards and ATS/HRIS sync for enterprise tenants."
            ),
            path="/openapi",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
    )
    document_problems(app.openapi_schema, public_prefixes=PUBLIC_PREFIXES)
    return app


# Routes without an API key (their credential is a signature or a link token, or none): no 401/403.
PUBLIC_PREFIXES = (
    "/livez",
    "/readyz",
    "/healthz/",
    "/webhooks/",
    "/v1/scheduling-links/",
    "/schedule/",
    "/dashboard",
)


def partner_credentials(settings: GatewaySettings) -> grpc.ServerCredentials | None:
    """TLS for the partner port when configured; with a client CA, clients must present a certificate it
    signed (mutual TLS)."""
    if not settings.partner_tls_cert_file:
        return None
    ca = (
        Path(settings.partner_tls_client_ca_file).read_bytes()
        if settings.partner_tls_client_ca_file
        else None
    )
    return grpc.ssl_server_credentials(
        [
            (
                Path(settings.partner_tls_key_file).read_bytes(),
                Path(settings.partner_tls_cert_file).read_bytes(),
            )
        ],
        root_certificates=ca,
        require_client_auth=ca is not None,
    )


async def serve(settings: GatewaySettings) -> None:
    configure_logging("gateway", settings.log_level)
    configure_telemetry("gateway")
    kafka.set_topic_prefix(settings.topic_prefix)  # the partner event stream reads the event topics
    kafka.set_security(settings)
    # before anything is written: a role row-level security does not bind never serves
    check = await db.create_pool(settings.database_url.get_secret_value(), min_size=1, max_size=1)
    try:
        await db.refuse_privileged(check)
    finally:
        await check.close()
    await asyncio.to_thread(
        db.prepare_schema,
        settings.database_url.get_secret_value(),
        "interloop_gateway",
        migrate_on_start=settings.migrate_on_start,
    )
    metrics.serve_metrics(settings.metrics_port)

    app = create_app(settings)
    partner = GrpcServer(
        service="gateway",
        host=settings.grpc_host,
        port=settings.grpc_port,
        grace=settings.shutdown_grace_seconds,
        max_connection_age=settings.grpc_max_connection_age_seconds,
        credentials=partner_credentials(settings),
    )
    servicer = PartnerServicer(app)
    partner.add(
        partner_pb2_grpc.add_PartnerServiceServicer_to_server,
        servicer,
        [partner_pb2.DESCRIPTOR.services_by_name["PartnerService"].full_name],
    )
    await partner.start()

    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # we own SIGTERM
    stop = asyncio.Event()
    install_shutdown(stop)
    http = asyncio.create_task(server.serve())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([http, stopper], return_when=asyncio.FIRST_COMPLETED)
    servicer.draining.set()  # event streams end UNAVAILABLE: their clients reconnect to another pod
    await partner.drain()  # NOT_SERVING first, then drain
    server.should_exit = True
    await http
