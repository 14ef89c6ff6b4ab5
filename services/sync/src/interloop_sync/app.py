"""Composition root of the sync service."""

from __future__ import annotations

from interloop.sync.v1 import sync_pb2, sync_pb2_grpc

from interloop_common import service
from interloop_common.grpc_server import GrpcServer
from interloop_common.service import Runtime, ServiceSpec
from interloop_sync.rpc.servicer import SyncServicer
from interloop_sync.settings import SyncSettings


def _register(server: GrpcServer, rt: Runtime) -> None:
    server.add(
        sync_pb2_grpc.add_SyncServiceServicer_to_server,
        SyncServicer(rt),
        [sync_pb2.DESCRIPTOR.services_by_name["SyncService"].full_name],
    )


SPEC = ServiceSpec(name="sync", package="interloop_sync", register=_register)


async def serve(settings: SyncSettings) -> None:
    await service.serve(SPEC, settings)
