"""Composition root of the sync service: servicer, consumers (HRIS hand-off, ATS write-back) and background
workers (automations, reconciliation)."""

from __future__ import annotations

from collections.abc import Awaitable

from interloop.sync.v1 import sync_pb2, sync_pb2_grpc
from interloop_common import service
from interloop_common.grpc_server import GrpcServer
from interloop_common.kafka import topic
from interloop_common.service import ConsumerSpec, Runtime, ServiceSpec

from interloop_sync import context
from interloop_sync.events import (
    automations,
    hris,
    interview_mail,
    notifications,
    reconcile,
    scheduling,
    writeback,
)
from interloop_sync.rpc.servicer import SyncServicer
from interloop_sync.settings import SyncSettings


def _register(server: GrpcServer, rt: Runtime) -> None:
    server.add(
        sync_pb2_grpc.add_SyncServiceServicer_to_server,
        SyncServicer(rt),
        [sync_pb2.DESCRIPTOR.services_by_name["SyncService"].full_name],
    )


def _consumers(rt: Runtime) -> list[ConsumerSpec]:
    ctx = context.of(rt)
    mail = []
    if ctx.settings.interview_emails:
        # Invites, updates, cancellations and reminders to every attendee (ICS attached).
        mail.append(
            ConsumerSpec(
                group="sync.interview-mail",
                topics=[topic("interview"), topic("scorecard")],
                handlers=interview_mail.handlers(),
            )
        )
    return [
        *mail,
        # The service's own ats.application.hired: the webhook answers fast, the HRIS write runs here with
        # retries, dead letters and replay.
        ConsumerSpec(group="sync.hris", topics=[topic("ats")], handlers=hris.handlers(ctx)),
        ConsumerSpec(
            group="sync.writeback",
            topics=[topic("scorecard"), topic("interview")],
            handlers=writeback.handlers(ctx),
        ),
        # The scheduler opened a scheduling request: email the candidate their link (one email per link).
        ConsumerSpec(
            group="sync.scheduling",
            topics=[topic("interview")],
            handlers=scheduling.handlers(ctx),
        ),
        # Every service's alerts (dead letters, failed HRIS writes, read-back mismatches): one email each to
        # the named owner.
        ConsumerSpec(
            group="sync.notifications", topics=[topic("notification")], handlers=notifications.handlers()
        ),
    ]


def _background(rt: Runtime) -> list[Awaitable[None]]:
    ctx = context.of(rt)
    return [automations.run(ctx), reconcile.loop(ctx)]


SPEC = ServiceSpec(
    name="sync", package="interloop_sync", register=_register, consumers=_consumers, background=_background
)


async def serve(settings: SyncSettings) -> None:
    await service.serve(SPEC, settings)
