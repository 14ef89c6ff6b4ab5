"""`interloop.sync.v1.SyncService`."""

from __future__ import annotations

import grpc
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc

from interloop_common.db import tenant_tx
from interloop_common.inbox import replay_dead_letters
from interloop_common.rpc import Check, decode_cursor, encode_cursor, page_size, ts
from interloop_common.service import Runtime
from interloop_sync.store import dead_letters


class SyncServicer(sync_pb2_grpc.SyncServiceServicer):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def ListDeadLetters(self, request: pb.ListDeadLettersRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        limit = page_size(request.page.page_size)
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            rows = await dead_letters.list_open(
                conn, request.tenant_id, after=decode_cursor(request.page.page_token), limit=limit + 1
            )
        nxt = encode_cursor(str(rows[limit - 1]["id"])) if len(rows) > limit else ""
        return pb.ListDeadLettersResponse(
            dead_letters=[
                pb.DeadLetter(id=str(r["id"]), topic=r["topic"], reason=r["reason"], attempts=r["attempts"],
                              failed_at=ts(r["failed_at"]), event_type=r["event_type"])
                for r in rows[:limit]
            ],
            page={"next_page_token": nxt},
        )

    async def ReplayDeadLetters(self, request: pb.ReplayDeadLettersRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        n = await replay_dead_letters(self.rt.pool, self.rt.producer, tenant_id=request.tenant_id,
                                      ids=list(request.ids) or None)
        return pb.ReplayDeadLettersResponse(replayed=n)
