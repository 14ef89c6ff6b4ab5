"""REST controllers of the scheduling resource (registered by app.py through CONTROLLERS).

Tenant endpoints (API key): interviewer availability profiles (PUT /v1/scheduling/interviewers/{id}; the
older POST /v1/interviewers is deprecated and takes the same path), panel availability, loop proposals,
calendar refresh, jobs' default panels, scheduling links, reschedule/cancel with invites.
Candidate endpoints (no API key; the signed, expiring link token is the credential): slots in the
candidate's zone, holds, confirmation with the ICS invite, reschedule and cancel, and the HTML page."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from interloop.scheduler.v1 import scheduler_pb2 as spb
from interloop_common.rpc import ts
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import Parameter

from interloop_gateway.auth import actor_of, allow, principal_of, require_api_key
from interloop_gateway.domain.scheduling import page, schemas
from interloop_gateway.domain.scheduling import services as s
from interloop_gateway.idempotency import idempotent
from interloop_gateway.wire import Cursor, Limit, Page, aware

Tz = Annotated[str, Parameter(query="tz", default="UTC", description="IANA zone the slots are shown in")]


def _scheduler(request: Request) -> Any:
    return request.app.state.backends.scheduler


class InterviewersController(Controller):
    path = "/v1/interviewers"
    tags = ["interviewers"]
    guards = [require_api_key]

    @allow("admin")
    @post(
        "/",
        summary="Create or update an interviewer (deprecated: PUT /v1/scheduling/interviewers/{id})",
        description="Keeps the stored overrides, out-of-office, training and calendar source.",
        status_code=200,
        deprecated=True,
    )
    @idempotent
    async def upsert(self, request: Request, data: schemas.InterviewerIn) -> schemas.InterviewerOut:
        stored = await s.upsert_interviewer(
            _scheduler(request),
            principal_of(request).tenant_id,
            data.id,
            s.profile_of(data),
            replace_profile=False,
        )
        return s.interviewer_out(stored)

    @allow("admin", "recruiter")
    @get("/", summary="List interviewers")
    async def list(self, request: Request, cursor: Cursor, limit: Limit) -> schemas.InterviewersPage:
        resp = await _scheduler(request).ListInterviewers(
            spb.ListInterviewersRequest(
                tenant_id=principal_of(request).tenant_id, page={"page_size": limit, "page_token": cursor}
            )
        )
        return Page([s.interviewer_out(i) for i in resp.interviewers], resp.page.next_page_token or None)


class SchedulingController(Controller):
    path = "/v1/scheduling"
    tags = ["scheduling"]
    guards = [require_api_key]

    @allow("admin")
    @put(
        "/interviewers/{interviewer_id:str}", summary="Set an interviewer's availability profile and calendar"
    )
    @idempotent
    async def put_interviewer(
        self, request: Request, interviewer_id: str, data: schemas.InterviewerProfileIn
    ) -> schemas.InterviewerProfileOut:
        stored = await s.upsert_interviewer(
            _scheduler(request), principal_of(request).tenant_id, interviewer_id, data, replace_profile=True
        )
        return s.interviewer_profile_out(stored)

    @allow("admin", "recruiter")
    @post("/availability", summary="Slots when a panel (all-of, k-of-n, or a mix) can meet", status_code=200)
    @idempotent
    async def availability(self, request: Request, data: schemas.AvailabilityIn) -> schemas.AvailabilityOut:
        tz = s.zone(data.time_zone, "time_zone")
        resp = await _scheduler(request).FindSlots(
            spb.FindSlotsRequest(
                tenant_id=principal_of(request).tenant_id,
                panel=s.panel_pb(data.panel),
                window={
                    "start": ts(aware(data.window_start, "window_start")),
                    "end": ts(aware(data.window_end, "window_end")),
                },
                duration_minutes=data.duration_minutes,
                step_minutes=data.step_minutes,
                buffer_before_minutes=data.buffer_before_minutes,
                buffer_after_minutes=data.buffer_after_minutes,
                min_notice_minutes=data.min_notice_minutes,
                candidate_time_zone=data.time_zone,
                horizon_minutes=data.horizon_minutes,
                limit=data.limit,
            )
        )
        return s.availability_out(resp, tz)

    @allow("admin", "recruiter")
    @post("/loops", summary="Ranked options for a multi-session interview loop (CP-SAT)", status_code=200)
    @idempotent
    async def loops(self, request: Request, data: schemas.LoopIn) -> schemas.LoopOut:
        tz = s.zone(data.time_zone, "time_zone")
        resp = await _scheduler(request).ProposeLoop(
            s.propose_request(principal_of(request).tenant_id, data), timeout=30
        )
        return s.loop_out(resp, tz)

    @allow("admin", "recruiter")
    @post(
        "/loops/bookings",
        summary="Book a loop as one: every session in one transaction, or none",
        description="Each session is checked like any booking (overlaps with buffers, working hours, "
        "calendars, daily and weekly caps with holds counted), the loop's own sessions included. A "
        "failure books nothing and is 409 problem+json naming the session, the rules, and fresh options "
        "when `proposal` came along.",
        status_code=201,
    )
    @idempotent
    async def book_loop(self, request: Request, data: schemas.LoopBookingIn) -> schemas.LoopBookingOut:
        tz = s.zone(data.candidate_time_zone or "UTC", "candidate_time_zone")
        principal = principal_of(request)
        resp = await s.call(
            _scheduler(request).BookLoop(
                s.loop_booking_request(principal.tenant_id, data, actor_of(principal)), timeout=30
            ),
            tz,
        )
        return s.loop_booking_out(resp)

    @allow("admin", "recruiter")
    @post("/calendars/refresh", summary="Read interviewers' calendar sources now", status_code=200)
    @idempotent
    async def refresh(self, request: Request, data: schemas.RefreshIn) -> schemas.CalendarRefreshesOut:
        resp = await _scheduler(request).RefreshCalendars(
            spb.RefreshCalendarsRequest(
                tenant_id=principal_of(request).tenant_id, interviewer_ids=data.interviewer_ids
            ),
            timeout=60,
        )
        return s.refreshes_out(resp)

    @allow("admin")
    @put(
        "/job-panels/{job_id:str}",
        summary="Set the default panel a job's interview stages are scheduled with",
    )
    @idempotent
    async def put_panel(self, request: Request, job_id: str, data: schemas.JobPanelIn) -> schemas.JobPanelOut:
        resp = await _scheduler(request).SetJobPanel(
            spb.SetJobPanelRequest(
                tenant_id=principal_of(request).tenant_id,
                panel=spb.JobPanel(
                    job_id=job_id,
                    panel=s.panel_pb(data.panel),
                    duration_minutes=data.duration_minutes,
                    expires_in_hours=data.expires_in_hours,
                    settings=s.settings_pb(data.settings),
                ),
            )
        )
        return s.panel_out(resp.panel)

    @allow("admin", "recruiter")
    @get(
        "/declines",
        summary="Open decline tasks: interviews an interviewer declined in their calendar, with replacements",
    )
    async def declines(self, request: Request) -> schemas.InterviewerDeclinesOut:
        resp = await _scheduler(request).ListInterviewerDeclines(
            spb.ListInterviewerDeclinesRequest(tenant_id=principal_of(request).tenant_id)
        )
        return s.declines_out(resp)

    @allow("admin", "recruiter")
    @get("/job-panels/{job_id:str}", summary="A job's default panel")
    async def get_panel(self, request: Request, job_id: str) -> schemas.JobPanelOut:
        resp = await _scheduler(request).GetJobPanel(
            spb.GetJobPanelRequest(tenant_id=principal_of(request).tenant_id, job_id=job_id)
        )
        return s.panel_out(resp.panel)

    @allow("admin", "recruiter")
    @post(
        "/links",
        summary="Open a scheduling request: a signed, expiring self-scheduling link",
        status_code=201,
    )
    @idempotent
    async def create_link(self, request: Request, data: schemas.LinkIn) -> schemas.LinkOut:
        resp = await _scheduler(request).CreateSchedulingLink(
            spb.CreateSchedulingLinkRequest(
                tenant_id=principal_of(request).tenant_id,
                candidate_id=data.candidate_id,
                application_id=data.application_id,
                panel=s.panel_pb(data.panel),
                duration_minutes=data.duration_minutes,
                expires_in_hours=data.expires_in_hours,
                job_id=data.job_id,
                round=data.round,
                candidate_email=data.candidate_email,
                candidate_name=data.candidate_name,
                settings=s.settings_pb(data.settings),
                loop=s.loop_spec_pb(data.loop) if data.loop is not None else None,
            )
        )
        return s.link_out(resp)

    @allow("admin", "recruiter")
    @post(
        "/bookings/{booking_id:str}/reschedule",
        summary="Move a booking (invite SEQUENCE + 1)",
        status_code=200,
    )
    @idempotent
    async def reschedule(
        self, request: Request, booking_id: str, data: schemas.RescheduleIn
    ) -> schemas.BookingInvitesOut:
        resp = await s.call(
            _scheduler(request).RescheduleBooking(
                spb.RescheduleBookingRequest(
                    tenant_id=principal_of(request).tenant_id,
                    booking_id=booking_id,
                    start=ts(aware(data.start, "start")),
                    reason=data.reason,
                )
            )
        )
        return s.booking_invites_out(resp)

    @allow("admin", "recruiter")
    @post(
        "/bookings/{booking_id:str}/cancel",
        summary="Cancel a booking (METHOD:CANCEL invites)",
        status_code=200,
    )
    @idempotent
    async def cancel(
        self, request: Request, booking_id: str, data: schemas.CancelIn | None = None
    ) -> schemas.CancellationOut:
        resp = await s.call(
            _scheduler(request).CancelBooking(
                spb.CancelBookingRequest(
                    tenant_id=principal_of(request).tenant_id,
                    booking_id=booking_id,
                    reason=data.reason if data else "",
                )
            )
        )
        return s.cancellation_out(resp)


class SchedulingLinksController(Controller):
    """The candidate's API: no API key, the link token is the credential."""

    path = "/v1/scheduling-links/{token:str}"
    tags = ["candidate scheduling"]

    @get("/slots", summary="Open slots for this scheduling request, in the candidate's zone")
    async def slots(self, request: Request, token: str, tz: Tz) -> schemas.LinkSlotsOut:
        zone = s.zone(tz)
        resp = await s.call(
            _scheduler(request).GetLinkSlots(spb.GetLinkSlotsRequest(token=token, candidate_time_zone=tz)),
            zone,
        )
        return s.link_slots_out(resp, tz, zone)

    @post("/holds", summary="Hold a slot while the candidate confirms", status_code=201)
    async def hold(self, request: Request, token: str, data: schemas.HoldIn, tz: Tz) -> schemas.HoldOut:
        zone = s.zone(tz)
        resp = await s.call(
            _scheduler(request).HoldSlot(
                spb.HoldSlotRequest(
                    token=token, start=ts(aware(data.start, "start")), ttl_seconds=data.ttl_seconds
                )
            ),
            zone,
        )
        return s.hold_out(resp)

    @delete("/holds/{hold_id:str}", summary="Let a held slot go", status_code=204)
    async def release(self, request: Request, token: str, hold_id: str) -> None:
        await s.call(_scheduler(request).ReleaseHold(spb.ReleaseHoldRequest(token=token, hold_id=hold_id)))

    @post(
        "/confirm",
        summary="Book the held slot, a start, or a loop option's sessions; returns bookings and invites",
        status_code=200,
    )
    async def confirm(
        self, request: Request, token: str, data: schemas.ConfirmIn, tz: Tz
    ) -> schemas.BookingInvitesOut:
        zone = s.zone(tz)
        # The zone the candidate's emails use: the page always sends the one they chose.
        chosen = request.query_params.get("tz", "")
        req = spb.ConfirmBookingRequest(
            token=token,
            hold_id=data.hold_id,
            candidate_time_zone=chosen,
            loop_sessions=s.session_bookings_pb(data.sessions),
        )
        if data.start is not None:
            req.start.CopyFrom(ts(aware(data.start, "start")))
        resp = await s.call(_scheduler(request).ConfirmBooking(req), zone)
        return s.booking_invites_out(resp)

    @post("/reschedule", summary="Move the booking made through this link", status_code=200)
    async def reschedule(
        self, request: Request, token: str, data: schemas.RescheduleIn, tz: Tz
    ) -> schemas.BookingInvitesOut:
        zone = s.zone(tz)
        resp = await s.call(
            _scheduler(request).RescheduleBooking(
                spb.RescheduleBookingRequest(
                    token=token,
                    start=ts(aware(data.start, "start")),
                    reason=data.reason,
                    candidate_time_zone=request.query_params.get("tz", ""),  # empty: keep the booking's
                )
            ),
            zone,
        )
        return s.booking_invites_out(resp)

    @post("/cancel", summary="Cancel the booking made through this link", status_code=200)
    async def cancel(
        self, request: Request, token: str, data: schemas.CancelIn | None = None
    ) -> schemas.CancellationOut:
        resp = await s.call(
            _scheduler(request).CancelBooking(
                spb.CancelBookingRequest(token=token, reason=data.reason if data else "")
            )
        )
        return s.cancellation_out(resp)


class SchedulePageController(Controller):
    path = "/schedule"
    tags = ["candidate scheduling"]
    include_in_schema = False

    @get("/{token:str}", summary="The candidate's self-scheduling page", media_type="text/html")
    async def page(self, token: str) -> Response:
        nonce = secrets.token_urlsafe(16)
        return Response(
            page.render(token, nonce),
            media_type="text/html",
            headers={
                "Content-Security-Policy": (
                    f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                    "frame-ancestors 'none'"
                ),
                "Referrer-Policy": "no-referrer",  # the token is in the URL
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


CONTROLLERS: list[type] = [
    InterviewersController,
    SchedulingController,
    SchedulingLinksController,
    SchedulePageController,
]
