"""Liveness, readiness (this pod: the process and its database) and the backends' health (reported apart:
one backend down takes only its own routes out, never the webhooks or the candidate pages)."""

from __future__ import annotations

import asyncio

from litestar import Controller, Request, get

from interloop_gateway.domain.health.schemas import BackendsOut, LivenessOut, ReadinessOut
from interloop_gateway.problems import BACKEND_RETRY_AFTER_SECONDS, problem


class HealthController(Controller):
    tags = ["health"]

    @get("/livez", summary="The process is up")
    async def livez(self) -> LivenessOut:
        return LivenessOut("ok")

    @get(
        "/readyz",
        summary="This pod serves: the process and its database answer",
        description="Also reports each backend's health at the last look (`backends`); a backend that is "
        "down does not make the pod unready, its own routes answer 503 problem+json naming it.",
    )
    async def readyz(self, request: Request) -> ReadinessOut:
        app = request.app
        backends = dict(app.state.backends.last)
        checks = {"database": await _database(request)}
        if checks["database"] != "SERVING":
            raise problem(503, "not ready: database down", extra={"checks": checks, "backends": backends})
        return ReadinessOut("ready", checks, backends)

    @get(
        "/healthz/backends",
        summary="Every backend's gRPC health, checked now",
        description="503 problem+json naming the backends that are not SERVING (for monitoring; the "
        "pod's readiness is /readyz).",
    )
    async def backends(self, request: Request) -> BackendsOut:
        app = request.app
        statuses = await app.state.backends.health(app.state.settings.readiness_timeout_seconds)
        down = sorted(name for name, s in statuses.items() if s != "SERVING")
        if down:
            raise problem(
                503,
                f"{', '.join(down)} down",
                extra={"backends": statuses},
                headers={"Retry-After": str(BACKEND_RETRY_AFTER_SECONDS)},
            )
        return BackendsOut("serving", statuses)


async def _database(request: Request) -> str:
    """SERVING when a pooled connection answers within the readiness timeout, else what happened."""
    app = request.app
    try:
        async with asyncio.timeout(app.state.settings.readiness_timeout_seconds):
            async with app.state.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
        return type(exc).__name__
    return "SERVING"
