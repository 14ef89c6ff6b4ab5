"""Composition root of the scorecard service."""

from __future__ import annotations

from collections.abc import Awaitable

from interloop.scorecard.v1 import scorecard_pb2, scorecard_pb2_grpc
from interloop_common import service
from interloop_common.grpc_server import GrpcServer
from interloop_common.kafka import topic
from interloop_common.service import ConsumerSpec, Runtime, ServiceSpec

from interloop_scorecard.events import overdue
from interloop_scorecard.events.consumers import erasure_handlers, handlers, outcome_handlers
from interloop_scorecard.rpc.servicer import ScorecardServicer
from interloop_scorecard.settings import ScorecardSettings


def _register(server: GrpcServer, rt: Runtime) -> None:
    server.add(
        scorecard_pb2_grpc.add_ScorecardServiceServicer_to_server,
        ScorecardServicer(rt),
        [scorecard_pb2.DESCRIPTOR.services_by_name["ScorecardService"].full_name],
    )


def _consumers(rt: Runtime) -> list[ConsumerSpec]:
    settings: ScorecardSettings = rt.settings  # type: ignore[assignment]
    return [
        ConsumerSpec(
            group="scorecard.interviews",
            topics=[topic("interview")],
            handlers=handlers(settings.feedback_due_hours),
        ),
        ConsumerSpec(group="scorecard.outcomes", topics=[topic("hris")], handlers=outcome_handlers()),
        ConsumerSpec(group="scorecard.erasure", topics=[topic("ats")], handlers=erasure_handlers()),
    ]


def _background(rt: Runtime) -> list[Awaitable[None]]:
    return overdue.tasks(rt.pool, rt.settings)  # type: ignore[arg-type]


SPEC = ServiceSpec(
    name="scorecard",
    package="interloop_scorecard",
    register=_register,
    consumers=_consumers,
    background=_background,
)


async def serve(settings: ScorecardSettings) -> None:
    await service.serve(SPEC, settings)
