"""gRPC clients of the backend services, created once per app and shared by controllers."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from interloop.scheduler.v1 import scheduler_pb2_grpc
from interloop.scorecard.v1 import scorecard_pb2_grpc
from interloop.sync.v1 import sync_pb2_grpc
from interloop_common.grpc_server import channel

from interloop_gateway.settings import GatewaySettings


@dataclass
class Backends:
    channels: dict[str, grpc.aio.Channel]
    scheduler: scheduler_pb2_grpc.SchedulerServiceStub
    scorecard: scorecard_pb2_grpc.ScorecardServiceStub
    sync: sync_pb2_grpc.SyncServiceStub

    @classmethod
    def connect(cls, settings: GatewaySettings) -> Backends:
        d = settings.rpc_deadline_seconds
        chans = {
            "scheduler": channel(settings.scheduler_target, deadline_seconds=d),
            "scorecard": channel(settings.scorecard_target, deadline_seconds=d),
            "sync": channel(settings.sync_target, deadline_seconds=d),
        }
        return cls(
            channels=chans,
            scheduler=scheduler_pb2_grpc.SchedulerServiceStub(chans["scheduler"]),
            scorecard=scorecard_pb2_grpc.ScorecardServiceStub(chans["scorecard"]),
            sync=sync_pb2_grpc.SyncServiceStub(chans["sync"]),
        )

    async def health(self, timeout: float) -> dict[str, str]:  # noqa: ASYNC109 - a gRPC deadline
        out: dict[str, str] = {}
        for name, ch in self.channels.items():
            try:
                resp = await health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(), timeout=timeout
                )
                out[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
            except grpc.aio.AioRpcError as exc:
                out[name] = exc.code().name
        return out

    async def close(self) -> None:
        for ch in self.channels.values():
            await ch.close()
