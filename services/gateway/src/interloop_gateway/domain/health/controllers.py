"""Liveness and readiness."""

from __future__ import annotations

from litestar import Controller, Request, get

from interloop_gateway.domain.health.schemas import LivenessOut, ReadinessOut
from interloop_gateway.problems import problem


class HealthController(Controller):
    tags = ["health"]

    @get("/livez", summary="The process is up")
    async def livez(self) -> LivenessOut:
        return LivenessOut("ok")

    @get("/readyz", summary="Every backend answers gRPC health with SERVING")
    async def readyz(self, request: Request) -> ReadinessOut:
        app = request.app
        statuses = await app.state.backends.health(app.state.settings.readiness_timeout_seconds)
        try:
            async with app.state.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
            statuses["database"] = "SERVING"
        except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
            statuses["database"] = type(exc).__name__
        down = sorted(name for name, s in statuses.items() if s != "SERVING")
        if down:
            raise problem(503, f"not ready: {', '.join(down)} down", extra={"checks": statuses})
        return ReadinessOut("ready", statuses)
