"""Composition root of the scorecard service: builds the runtime, registers the servicer, the consumers
and the periodic work (the overdue-scorecard chase)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta

from interloop.scorecard.v1 import scorecard_pb2, scorecard_pb2_grpc
from interloop_common import service
from interloop_common.grpc_server import GrpcServer
from interloop_common.periodic import every
from interloop_common.service import Runtime, ServiceSpec

from interloop_scorecard.events.consumers import consumers
from interloop_scorecard.rpc.servicer import ScorecardServicer
from interloop_scorecard.settings import ScorecardSettings
from interloop_scorecard.usecases.expected import chase_overdue


def _register(server: GrpcServer, rt: Runtime) -> None:
    server.add(
        scorecard_pb2_grpc.add_ScorecardServiceServicer_to_server,
        ScorecardServicer(rt),
        [scorecard_pb2.DESCRIPTOR.services_by_name["ScorecardService"].full_name],
    )


def _background(rt: Runtime) -> list[Awaitable[None]]:
    settings = rt.settings
    assert isinstance(settings, ScorecardSettings)
    if settings.overdue_reminders <= 0:
        return []
    interval = timedelta(hours=settings.overdue_reminder_every_hours)
    return [
        every(
            settings.overdue_poll_seconds,
            "overdue scorecards",
            lambda: chase_overdue(rt.pool, max_nudges=settings.overdue_reminders, every=interval),
        )
    ]


SPEC = ServiceSpec(
    name="scorecard",
    package="interloop_scorecard",
    register=_register,
    consumers=consumers,
    background=_background,
)


async def serve(settings: ScorecardSettings) -> None:
    await service.serve(SPEC, settings)
