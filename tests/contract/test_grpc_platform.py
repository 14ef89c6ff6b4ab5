"""gRPC surface every service shares: health, reflection, field violations, graceful SIGTERM drain."""

from __future__ import annotations

import asyncio
import signal

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop.scheduler.v1 import scheduler_pb2_grpc
from interloop_common.rpc import field_violations
from interloop_devstack.testing import ServiceSet

pytestmark = pytest.mark.integration


async def test_reflection_lists_each_service(platform) -> None:  # type: ignore[no-untyped-def]
    expected = {
        "scheduler": "interloop.scheduler.v1.SchedulerService",
        "scorecard": "interloop.scorecard.v1.ScorecardService",
        "sync": "interloop.sync.v1.SyncService",
        "gateway": "interloop.partner.v1.PartnerService",
    }
    for svc, name in expected.items():
        async with grpc.aio.insecure_channel(platform.target(svc)) as ch:
            stub = reflection_pb2_grpc.ServerReflectionStub(ch)
            responses = stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            async for resp in responses:
                names = {s.name for s in resp.list_services_response.service}
                assert name in names and "grpc.health.v1.Health" in names
                break


async def test_invalid_argument_carries_field_violations(platform) -> None:  # type: ignore[no-untyped-def]
    async with grpc.aio.insecure_channel(platform.target("scheduler")) as ch:
        stub = scheduler_pb2_grpc.SchedulerServiceStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.UpsertInterviewer(
                pb.UpsertInterviewerRequest(
                    tenant_id="t",
                    interviewer=pb.Interviewer(id="x", email="no-at-sign", time_zone="Nowhere/City"),
                )
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        fields = dict(field_violations(err.value))
        assert set(fields) == {"interviewer.email", "interviewer.time_zone"}
        assert "IANA" in fields["interviewer.time_zone"]


async def test_sigterm_flips_health_then_drains(infra, tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = ServiceSet(infra, tmp_path, ("sync",))
    await asyncio.to_thread(services.start)
    proc = services.procs["sync"].proc
    async with grpc.aio.insecure_channel(services.target("sync")) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        assert (
            await health.Check(health_pb2.HealthCheckRequest())
        ).status == health_pb2.HealthCheckResponse.SERVING
        watch = health.Watch(health_pb2.HealthCheckRequest())
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        proc.send_signal(signal.SIGTERM)
        nxt = await asyncio.wait_for(watch.read(), timeout=10)
        assert nxt.status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert await asyncio.to_thread(proc.wait, 30) == 0
