"""Composition root of the scheduler: builds the runtime, registers servicers, consumers and the
periodic work (calendar refresh, reminders, expired holds)."""

from __future__ import annotations

from interloop.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from interloop_common import service
from interloop_common.grpc_server import GrpcServer
from interloop_common.service import Runtime, ServiceSpec

from interloop_scheduler.events import background
from interloop_scheduler.events.consumers import consumers
from interloop_scheduler.rpc.servicer import SchedulerServicer
from interloop_scheduler.settings import SchedulerSettings


def _register(server: GrpcServer, rt: Runtime) -> None:
    server.add(
        scheduler_pb2_grpc.add_SchedulerServiceServicer_to_server,
        SchedulerServicer(rt),
        [scheduler_pb2.DESCRIPTOR.services_by_name["SchedulerService"].full_name],
    )


def _background(rt: Runtime):  # type: ignore[no-untyped-def]
    assert isinstance(rt.settings, SchedulerSettings)
    return background.tasks(rt.pool, rt.settings)


SPEC = ServiceSpec(
    name="scheduler",
    package="interloop_scheduler",
    register=_register,
    consumers=consumers,
    background=_background,
)


async def serve(settings: SchedulerSettings) -> None:
    await service.serve(SPEC, settings)
