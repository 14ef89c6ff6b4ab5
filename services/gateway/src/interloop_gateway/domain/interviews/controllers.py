"""REST: interviews (bookings) and the scorecards they open; the tenant's activity."""

from __future__ import annotations

from interloop.scheduler.v1 import scheduler_pb2 as spb
from interloop.scorecard.v1 import scorecard_pb2 as cpb
from litestar import Controller, Request, get, post

from interloop_gateway.auth import actor_of, allow, principal_of, require_api_key
from interloop_gateway.domain.interviews import schemas, services
from interloop_gateway.domain.scorecards.services import owed_by
from interloop_gateway.idempotency import idempotent
from interloop_gateway.wire import Cursor, Limit, Page


class InterviewsController(Controller):
    path = "/v1/interviews"
    tags = ["interviews"]
    guards = [require_api_key]

    @allow("admin", "recruiter")
    @post(
        "/",
        summary="Book an interview for a panel (never double-books, buffers included)",
        description="Checked like any booking: working hours, out of office, calendars, daily and weekly "
        "caps (holds count); a broken rule is 409 naming it unless `override_reason` says why, which is "
        "recorded on the interview with the caller.",
        status_code=201,
    )
    @idempotent
    async def create(self, request: Request, data: schemas.InterviewIn) -> schemas.InterviewOut:
        principal = principal_of(request)
        resp = await request.app.state.backends.scheduler.ScheduleInterview(
            services.interview_request(principal.tenant_id, data, actor_of(principal))
        )
        return services.interview_out(resp.booking)

    @allow("admin", "recruiter", "interviewer")
    @get("/", summary="List interviews")
    async def list(
        self, request: Request, cursor: Cursor, limit: Limit, candidate_id: str = ""
    ) -> schemas.InterviewsPage:
        resp = await request.app.state.backends.scheduler.ListBookings(
            spb.ListBookingsRequest(
                tenant_id=principal_of(request).tenant_id,
                candidate_id=candidate_id,
                page={"page_size": limit, "page_token": cursor},
            )
        )
        return Page([services.interview_out(b) for b in resp.bookings], resp.page.next_page_token or None)

    @allow("admin", "recruiter")
    @post("/{interview_id:str}/cancel", summary="Cancel an interview", status_code=200)
    @idempotent
    async def cancel(self, request: Request, interview_id: str) -> schemas.InterviewOut:
        resp = await request.app.state.backends.scheduler.CancelBooking(
            spb.CancelBookingRequest(tenant_id=principal_of(request).tenant_id, booking_id=interview_id)
        )
        return services.interview_out(resp.booking)

    @allow("admin", "recruiter")
    @post("/{interview_id:str}/complete", summary="Mark an interview as held", status_code=200)
    @idempotent
    async def complete(self, request: Request, interview_id: str) -> schemas.InterviewOut:
        resp = await request.app.state.backends.scheduler.CompleteInterview(
            spb.CompleteInterviewRequest(tenant_id=principal_of(request).tenant_id, booking_id=interview_id)
        )
        return services.interview_out(resp.booking)

    @allow("admin", "recruiter", "interviewer")
    @get("/{interview_id:str}/expected-scorecards", summary="Scorecards this interview opened")
    async def expected(
        self, request: Request, interview_id: str, cursor: Cursor, limit: Limit
    ) -> schemas.ExpectedScorecardsPage:
        resp = await request.app.state.backends.scorecard.ListExpectedScorecards(
            cpb.ListExpectedScorecardsRequest(
                tenant_id=principal_of(request).tenant_id,
                booking_id=interview_id,
                interviewer_id=owed_by(request, ""),  # an interviewer sees only their own
                page={"page_size": limit, "page_token": cursor},
            )
        )
        return Page([services.expected_out(e) for e in resp.expected], resp.page.next_page_token or None)


class ActivityController(Controller):
    path = "/v1/activity"
    tags = ["activity"]
    guards = [require_api_key]

    @allow("admin", "recruiter")
    @get("/", summary="Interviews and scorecards seen by the scorecard service for this tenant")
    async def activity(self, request: Request) -> schemas.ActivityOut:
        resp = await request.app.state.backends.scorecard.GetTenantActivity(
            cpb.GetTenantActivityRequest(tenant_id=principal_of(request).tenant_id)
        )
        return schemas.ActivityOut(resp.interviews_seen, resp.scorecards_submitted)
