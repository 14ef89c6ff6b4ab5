"""Composition root of the sync service: servicer, consumers (HRIS hand-off, ATS write-back, emails) and
background workers (automations, reconciliation)."""

from __future__ import annotations

from collections.abc import Awaitable

from interloop.sync.v1 import sync_pb2, sync_pb2_grpc
from interloop_common import service
from interloop_common.grpc_server import GrpcServer
from interloop_common.keyring import KeyRing
from interloop_common.service import ConsumerSpec, Runtime, ServiceSpec

from interloop_sync.events import consumers as consumer_groups
from interloop_sync.events.consumers import consumers
from interloop_sync.rpc.servicer import SyncServicer
from interloop_sync.settings import SyncSettings
from interloop_sync.store import automations as actions
from interloop_sync.store import mirror
from interloop_sync.store.connections import SealedCredentials
from interloop_sync.usecases import automations, context, reconcile, retention


def _register(server: GrpcServer, rt: Runtime) -> None:
    server.add(
        sync_pb2_grpc.add_SyncServiceServicer_to_server,
        SyncServicer(rt),
        [sync_pb2.DESCRIPTOR.services_by_name["SyncService"].full_name],
    )


def _consumers(rt: Runtime) -> list[ConsumerSpec]:
    return consumers(context.of(rt))


def _background(rt: Runtime) -> list[Awaitable[None]]:
    ctx = context.of(rt)
    return [automations.worker(ctx), reconcile.loop(ctx), retention.loop(ctx)]


SPEC = ServiceSpec(
    name="sync",
    package="interloop_sync",
    register=_register,
    consumers=_consumers,
    background=_background,
    sweeps=(actions.FINISHED_CALLS, mirror.DELIVERIES, mirror.QUARANTINE),
)


class PoolTooSmall(SystemExit):
    """The pool cannot cover the configured concurrency: start fails with one line saying what to set."""


def check_pool(settings: SyncSettings) -> None:
    problem = settings.pool_shortfall(consumer_groups.count(settings))
    if problem is not None:
        raise PoolTooSmall(problem)


async def serve(settings: SyncSettings) -> None:
    check_pool(settings)  # before a connection is opened: a pool too small would starve, not fail
    await service.serve(SPEC, settings)


def sealed(settings: SyncSettings) -> tuple[KeyRing, SealedCredentials]:
    """`rotate-credentials`: the key ring and the connections' sealed credentials."""
    return context.key_ring(settings), SealedCredentials()
