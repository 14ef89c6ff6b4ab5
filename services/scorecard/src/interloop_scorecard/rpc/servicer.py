"""`interloop.scorecard.v1.ScorecardService`."""

from __future__ import annotations

import grpc
from interloop.scorecard.v1 import scorecard_pb2 as pb
from interloop.scorecard.v1 import scorecard_pb2_grpc

from interloop_common.db import tenant_tx
from interloop_common.rpc import Check, decode_cursor, encode_cursor, page_size, ts
from interloop_common.service import Runtime
from interloop_scorecard.store import expected


class ScorecardServicer(scorecard_pb2_grpc.ScorecardServiceServicer):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def ListExpectedScorecards(self, request: pb.ListExpectedScorecardsRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        limit = page_size(request.page.page_size)
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            rows = await expected.list_expected(
                conn, request.tenant_id, booking_id=request.booking_id,
                after=decode_cursor(request.page.page_token), limit=limit + 1,
            )
        nxt = ""
        if len(rows) > limit:
            last = rows[limit - 1]
            nxt = encode_cursor(f"{last['booking_id']}/{last['interviewer_id']}")
        return pb.ListExpectedScorecardsResponse(
            expected=[
                pb.ExpectedScorecard(
                    booking_id=r["booking_id"], interviewer_id=r["interviewer_id"], candidate_id=r["candidate_id"],
                    status=r["status"], due_at=ts(r["due_at"]) if r["due_at"] else None,
                    job_id=r["job_id"], round=r["round"],
                )
                for r in rows[:limit]
            ],
            page={"next_page_token": nxt},
        )

    async def GetTenantActivity(self, request: pb.GetTenantActivityRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            interviews, scorecards = await expected.activity(conn, request.tenant_id)
        return pb.GetTenantActivityResponse(interviews_seen=interviews, scorecards_submitted=scorecards)
