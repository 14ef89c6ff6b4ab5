"""Client channels spread calls over every address a target resolves to (round robin), which is what the
Helm chart's headless Services + dns:/// targets rely on; a pick-first channel would pin one pod."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from interloop_common.grpc_server import channel


class _Counting(health_pb2_grpc.HealthServicer):
    def __init__(self) -> None:
        self.calls = 0

    async def Check(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802
        self.calls += 1
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


async def test_calls_are_spread_over_every_resolved_backend() -> None:
    servers, counters, ports = [], [], []
    for _ in range(3):
        server = grpc.aio.server()
        counter = _Counting()
        health_pb2_grpc.add_HealthServicer_to_server(counter, server)
        ports.append(server.add_insecure_port("127.0.0.1:0"))
        await server.start()
        servers.append(server)
        counters.append(counter)
    try:
        target = "ipv4:" + ",".join(f"127.0.0.1:{p}" for p in ports)  # three pods behind one name
        async with channel(target) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            await stub.Check(health_pb2.HealthCheckRequest(), wait_for_ready=True)
            for _ in range(29):
                await stub.Check(health_pb2.HealthCheckRequest(), wait_for_ready=True)
        assert sum(c.calls for c in counters) == 30
        assert all(c.calls >= 5 for c in counters), [c.calls for c in counters]
    finally:
        for server in servers:
            await server.stop(None)
