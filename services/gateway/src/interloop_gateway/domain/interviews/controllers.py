"""REST: interviewers, interviews (bookings) and the scorecards they open."""

from __future__ import annotations

from typing import Annotated

import msgspec
from interloop.scheduler.v1 import scheduler_pb2 as spb
from interloop.scorecard.v1 import scorecard_pb2 as cpb
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from interloop_gateway.auth import principal_of, require_api_key
from interloop_gateway.domain.interviews import schemas, services
from interloop_gateway.idempotency import run_idempotent

Cursor = Annotated[str, Parameter(query="cursor", default="", description="next_cursor of the previous page")]
Limit = Annotated[int, Parameter(query="limit", default=50, ge=1, le=500)]


class InterviewersController(Controller):
    path = "/v1/interviewers"
    tags = ["interviewers"]
    guards = [require_api_key]

    @post("/", summary="Create or update an interviewer")
    async def upsert(self, request: Request, data: schemas.InterviewerIn) -> Response:
        tenant = principal_of(request).tenant_id
        raw = await request.body()

        async def act() -> tuple[int, dict]:
            resp = await request.app.state.backends.scheduler.UpsertInterviewer(
                spb.UpsertInterviewerRequest(tenant_id=tenant, interviewer=services.interviewer_pb(data))
            )
            return 200, services.interviewer_out(resp.interviewer)

        return await run_idempotent(request, tenant, raw, act)

    @get("/", summary="List interviewers")
    async def list(self, request: Request, cursor: Cursor, limit: Limit) -> dict:
        resp = await request.app.state.backends.scheduler.ListInterviewers(
            spb.ListInterviewersRequest(
                tenant_id=principal_of(request).tenant_id, page={"page_size": limit, "page_token": cursor}
            )
        )
        return {
            "items": [services.interviewer_out(i) for i in resp.interviewers],
            "next_cursor": resp.page.next_page_token or None,
        }


class InterviewsController(Controller):
    path = "/v1/interviews"
    tags = ["interviews"]
    guards = [require_api_key]

    @post("/", summary="Book an interview for a panel (never double-books)", status_code=201)
    async def create(self, request: Request, data: schemas.InterviewIn) -> Response:
        tenant = principal_of(request).tenant_id
        raw = await request.body()

        async def act() -> tuple[int, dict]:
            resp = await request.app.state.backends.scheduler.ScheduleInterview(
                services.interview_request(tenant, data)
            )
            return 201, services.interview_out(resp.booking)

        return await run_idempotent(request, tenant, raw, act)

    @get("/", summary="List interviews")
    async def list(self, request: Request, cursor: Cursor, limit: Limit, candidate_id: str = "") -> dict:
        resp = await request.app.state.backends.scheduler.ListBookings(
            spb.ListBookingsRequest(
                tenant_id=principal_of(request).tenant_id,
                candidate_id=candidate_id,
                page={"page_size": limit, "page_token": cursor},
            )
        )
        return {
            "items": [services.interview_out(b) for b in resp.bookings],
            "next_cursor": resp.page.next_page_token or None,
        }

    @post("/{interview_id:str}/cancel", summary="Cancel an interview", status_code=200)
    async def cancel(self, request: Request, interview_id: str) -> dict:
        resp = await request.app.state.backends.scheduler.CancelBooking(
            spb.CancelBookingRequest(tenant_id=principal_of(request).tenant_id, booking_id=interview_id)
        )
        return services.interview_out(resp.booking)

    @post("/{interview_id:str}/complete", summary="Mark an interview as held", status_code=200)
    async def complete(self, request: Request, interview_id: str) -> dict:
        resp = await request.app.state.backends.scheduler.CompleteInterview(
            spb.CompleteInterviewRequest(tenant_id=principal_of(request).tenant_id, booking_id=interview_id)
        )
        return services.interview_out(resp.booking)

    @get("/{interview_id:str}/expected-scorecards", summary="Scorecards this interview opened")
    async def expected(self, request: Request, interview_id: str, cursor: Cursor, limit: Limit) -> dict:
        resp = await request.app.state.backends.scorecard.ListExpectedScorecards(
            cpb.ListExpectedScorecardsRequest(
                tenant_id=principal_of(request).tenant_id,
                booking_id=interview_id,
                page={"page_size": limit, "page_token": cursor},
            )
        )
        return {
            "items": [services.expected_out(e) for e in resp.expected],
            "next_cursor": resp.page.next_page_token or None,
        }


class ActivityController(Controller):
    path = "/v1/activity"
    tags = ["activity"]
    guards = [require_api_key]

    @get("/", summary="Interviews and scorecards seen by the scorecard service for this tenant")
    async def activity(self, request: Request) -> dict:
        resp = await request.app.state.backends.scorecard.GetTenantActivity(
            cpb.GetTenantActivityRequest(tenant_id=principal_of(request).tenant_id)
        )
        return msgspec.to_builtins(schemas.ActivityOut(resp.interviews_seen, resp.scorecards_submitted))
