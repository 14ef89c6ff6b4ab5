"""Composition root of the scheduler: builds the runtime, registers servicers, consumers and the
periodic work (calendar refresh, calendar event writes, reminders, expired holds)."""

from __future__ import annotations

from interloop.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from interloop_common import service
from interloop_common.grpc_server import GrpcServer
from interloop_common.periodic import every
from interloop_common.service import Runtime, ServiceSpec

from interloop_scheduler.events.consumers import consumers
from interloop_scheduler.rpc.servicer import SchedulerServicer
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.usecases.calendar_push import renew_channels
from interloop_scheduler.usecases.calendar_writes import write_due
from interloop_scheduler.usecases.calendars import refresh_calendars
from interloop_scheduler.usecases.holds import sweep_expired_holds
from interloop_scheduler.usecases.reminders import emit_due_reminders


def _register(server: GrpcServer, rt: Runtime) -> None:
    server.add(
        scheduler_pb2_grpc.add_SchedulerServiceServicer_to_server,
        SchedulerServicer(rt),
        [scheduler_pb2.DESCRIPTOR.services_by_name["SchedulerService"].full_name],
    )


def _background(rt: Runtime):  # type: ignore[no-untyped-def]
    settings = rt.settings
    assert isinstance(settings, SchedulerSettings)

    async def reminders_and_holds() -> None:
        await sweep_expired_holds(rt.pool)
        await emit_due_reminders(rt.pool)

    return [
        every(
            settings.calendar_refresh_seconds,
            "calendar refresh",
            lambda: refresh_calendars(rt.pool, settings),
        ),
        every(
            settings.calendar_write_poll_seconds,
            "calendar writes",
            lambda: write_due(rt.pool, settings),
            drain=True,
        ),
        every(settings.reminder_poll_seconds, "reminders", reminders_and_holds),
        every(
            settings.calendar_channel_poll_seconds,
            "calendar push channels",
            lambda: renew_channels(rt.pool, settings),
        ),
    ]


SPEC = ServiceSpec(
    name="scheduler",
    package="interloop_scheduler",
    register=_register,
    consumers=consumers,
    background=_background,
)


async def serve(settings: SchedulerSettings) -> None:
    await service.serve(SPEC, settings)
