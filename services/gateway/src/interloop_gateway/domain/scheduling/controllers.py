"""REST controllers of the scheduling resource (registered by app.py through CONTROLLERS).

Tenant endpoints (API key): interviewer availability profiles, panel availability, loop proposals,
calendar refresh, jobs' default panels, scheduling links, reschedule/cancel with invites.
Candidate endpoints (no API key; the signed, expiring link token is the credential): slots in the
candidate's zone, holds, confirmation with the ICS invite, reschedule and cancel, and the HTML page."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from interloop.scheduler.v1 import scheduler_pb2 as spb
from interloop_common.rpc import dt, ts
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import Parameter

from interloop_gateway.auth import principal_of, require_api_key
from interloop_gateway.domain.scheduling import page, schemas
from interloop_gateway.domain.scheduling import services as s
from interloop_gateway.idempotency import run_idempotent

Tz = Annotated[str, Parameter(query="tz", default="UTC", description="IANA zone the slots are shown in")]


def _scheduler(request: Request) -> Any:
    return request.app.state.backends.scheduler


class SchedulingController(Controller):
    path = "/v1/scheduling"
    tags = ["scheduling"]
    guards = [require_api_key]

    @put(
        "/interviewers/{interviewer_id:str}", summary="Set an interviewer's availability profile and calendar"
    )
    async def put_interviewer(
        self, request: Request, interviewer_id: str, data: schemas.InterviewerProfileIn
    ) -> dict:
        resp = await _scheduler(request).UpsertInterviewer(
            spb.UpsertInterviewerRequest(
                tenant_id=principal_of(request).tenant_id,
                interviewer=s.interviewer_pb(interviewer_id, data),
                replace_profile=True,
            )
        )
        return s.interviewer_out(resp.interviewer)

    @post("/availability", summary="Slots when a panel (all-of, k-of-n, or a mix) can meet", status_code=200)
    async def availability(self, request: Request, data: schemas.AvailabilityIn) -> dict:
        tz = s.zone(data.time_zone, "time_zone")
        resp = await _scheduler(request).FindSlots(
            spb.FindSlotsRequest(
                tenant_id=principal_of(request).tenant_id,
                panel=s.panel_pb(data.panel),
                window={
                    "start": ts(s.aware(data.window_start, "window_start")),
                    "end": ts(s.aware(data.window_end, "window_end")),
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
        return {
            "slots": [s.slot_out(x, tz) for x in resp.slots],
            "unknown_interviewer_ids": list(resp.unknown_interviewer_ids),
            "reasons": list(resp.reasons),
        }

    @post("/loops", summary="Ranked options for a multi-session interview loop (CP-SAT)", status_code=200)
    async def loops(self, request: Request, data: schemas.LoopIn) -> dict:
        tz = s.zone(data.time_zone, "time_zone")
        resp = await _scheduler(request).ProposeLoop(
            spb.ProposeLoopRequest(
                tenant_id=principal_of(request).tenant_id,
                sessions=[
                    spb.LoopSession(
                        id=x.id,
                        duration_minutes=x.duration_minutes,
                        pool=x.pool,
                        k=x.k,
                        fixed=x.fixed,
                        interview_type=x.interview_type,
                        allow_shadow=x.allow_shadow,
                    )
                    for x in data.sessions
                ],
                ordered=data.ordered,
                min_break_minutes=data.min_break_minutes,
                max_break_minutes=data.max_break_minutes,
                spread_days=data.spread_days,
                max_days=data.max_days,
                window={
                    "start": ts(s.aware(data.window_start, "window_start")),
                    "end": ts(s.aware(data.window_end, "window_end")),
                },
                candidate_time_zone=data.time_zone,
                step_minutes=data.step_minutes,
                buffer_before_minutes=data.buffer_before_minutes,
                buffer_after_minutes=data.buffer_after_minutes,
                min_notice_minutes=data.min_notice_minutes,
                time_limit_seconds=data.time_limit_seconds,
                objectives=data.objectives,
            ),
            timeout=30,
        )
        return s.loop_out(resp, tz)

    @post("/calendars/refresh", summary="Read interviewers' calendar sources now", status_code=200)
    async def refresh(self, request: Request, data: schemas.RefreshIn) -> dict:
        resp = await _scheduler(request).RefreshCalendars(
            spb.RefreshCalendarsRequest(
                tenant_id=principal_of(request).tenant_id, interviewer_ids=data.interviewer_ids
            ),
            timeout=60,
        )
        return {
            "results": [
                {
                    "interviewer_id": r.interviewer_id,
                    "status": r.status,
                    "reason": r.reason,
                    "busy_blocks": r.busy_blocks,
                }
                for r in resp.results
            ]
        }

    @put(
        "/job-panels/{job_id:str}",
        summary="Set the default panel a job's interview stages are scheduled with",
    )
    async def put_panel(self, request: Request, job_id: str, data: schemas.JobPanelIn) -> dict:
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

    @get("/job-panels/{job_id:str}", summary="A job's default panel")
    async def get_panel(self, request: Request, job_id: str) -> dict:
        resp = await _scheduler(request).GetJobPanel(
            spb.GetJobPanelRequest(tenant_id=principal_of(request).tenant_id, job_id=job_id)
        )
        return s.panel_out(resp.panel)

    @post(
        "/links",
        summary="Open a scheduling request: a signed, expiring self-scheduling link",
        status_code=201,
    )
    async def create_link(self, request: Request, data: schemas.LinkIn) -> Response:
        tenant = principal_of(request).tenant_id
        raw = await request.body()

        async def act() -> tuple[int, dict]:
            resp = await _scheduler(request).CreateSchedulingLink(
                spb.CreateSchedulingLinkRequest(
                    tenant_id=tenant,
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
                )
            )
            return 201, {
                "link_id": resp.link_id,
                "token": resp.token,
                "url": resp.url,
                "expires_at": s.iso(dt(resp.expires_at)),
            }

        return await run_idempotent(request, tenant, raw, act)

    @post(
        "/bookings/{booking_id:str}/reschedule",
        summary="Move a booking (invite SEQUENCE + 1)",
        status_code=200,
    )
    async def reschedule(self, request: Request, booking_id: str, data: schemas.RescheduleIn) -> dict:
        resp = await s.call(
            _scheduler(request).RescheduleBooking(
                spb.RescheduleBookingRequest(
                    tenant_id=principal_of(request).tenant_id,
                    booking_id=booking_id,
                    start=ts(s.aware(data.start, "start")),
                    reason=data.reason,
                )
            )
        )
        return {
            "booking": s.booking_out(resp.booking),
            "invite_ics": resp.invite_ics.decode(),
            "invites": s.invites_out(resp.invites),
        }

    @post(
        "/bookings/{booking_id:str}/cancel",
        summary="Cancel a booking (METHOD:CANCEL invites)",
        status_code=200,
    )
    async def cancel(self, request: Request, booking_id: str, data: schemas.CancelIn | None = None) -> dict:
        resp = await s.call(
            _scheduler(request).CancelBooking(
                spb.CancelBookingRequest(
                    tenant_id=principal_of(request).tenant_id,
                    booking_id=booking_id,
                    reason=data.reason if data else "",
                )
            )
        )
        return {"booking": s.booking_out(resp.booking), "invites": s.invites_out(resp.invites)}


class SchedulingLinksController(Controller):
    """The candidate's API: no API key, the link token is the credential."""

    path = "/v1/scheduling-links/{token:str}"
    tags = ["candidate scheduling"]

    @get("/slots", summary="Open slots for this scheduling request, in the candidate's zone")
    async def slots(self, request: Request, token: str, tz: Tz) -> dict:
        zone = s.zone(tz)
        resp = await s.call(
            _scheduler(request).GetLinkSlots(spb.GetLinkSlotsRequest(token=token, candidate_time_zone=tz)),
            zone,
        )
        return {
            "status": resp.status,
            "candidate_name": resp.candidate_name,
            "round": resp.round,
            "duration_minutes": resp.duration_minutes,
            "expires_at": s.iso(dt(resp.expires_at)),
            "time_zone": tz,
            "hold_id": resp.hold_id or None,
            "booking": s.booking_out(resp.booking) if resp.HasField("booking") else None,
            "slots": [s.slot_out(x, zone) for x in resp.slots],
            "reasons": list(resp.reasons),
        }

    @post("/holds", summary="Hold a slot while the candidate confirms", status_code=201)
    async def hold(self, request: Request, token: str, data: schemas.HoldIn, tz: Tz) -> dict:
        zone = s.zone(tz)
        resp = await s.call(
            _scheduler(request).HoldSlot(
                spb.HoldSlotRequest(
                    token=token, start=ts(s.aware(data.start, "start")), ttl_seconds=data.ttl_seconds
                )
            ),
            zone,
        )
        return {
            "hold_id": resp.hold_id,
            "expires_at": s.iso(dt(resp.expires_at)),
            "start": s.iso(dt(resp.start)),
            "end": s.iso(dt(resp.end)),
            "interviewer_ids": list(resp.interviewer_ids),
        }

    @delete("/holds/{hold_id:str}", summary="Let a held slot go", status_code=204)
    async def release(self, request: Request, token: str, hold_id: str) -> None:
        await s.call(_scheduler(request).ReleaseHold(spb.ReleaseHoldRequest(token=token, hold_id=hold_id)))

    @post(
        "/confirm",
        summary="Book the held slot (or a start directly); returns the booking and invite",
        status_code=200,
    )
    async def confirm(self, request: Request, token: str, data: schemas.ConfirmIn, tz: Tz) -> dict:
        zone = s.zone(tz)
        # The zone the candidate's emails use: the page always sends the one they chose.
        chosen = request.query_params.get("tz", "")
        req = spb.ConfirmBookingRequest(token=token, hold_id=data.hold_id, candidate_time_zone=chosen)
        if data.start is not None:
            req.start.CopyFrom(ts(s.aware(data.start, "start")))
        resp = await s.call(_scheduler(request).ConfirmBooking(req), zone)
        return {
            "booking": s.booking_out(resp.booking),
            "invite_ics": resp.invite_ics.decode(),
            "invites": s.invites_out(resp.invites),
        }

    @post("/reschedule", summary="Move the booking made through this link", status_code=200)
    async def reschedule(self, request: Request, token: str, data: schemas.RescheduleIn, tz: Tz) -> dict:
        zone = s.zone(tz)
        resp = await s.call(
            _scheduler(request).RescheduleBooking(
                spb.RescheduleBookingRequest(
                    token=token,
                    start=ts(s.aware(data.start, "start")),
                    reason=data.reason,
                    candidate_time_zone=request.query_params.get("tz", ""),  # empty: keep the booking's
                )
            ),
            zone,
        )
        return {
            "booking": s.booking_out(resp.booking),
            "invite_ics": resp.invite_ics.decode(),
            "invites": s.invites_out(resp.invites),
        }

    @post("/cancel", summary="Cancel the booking made through this link", status_code=200)
    async def cancel(self, request: Request, token: str, data: schemas.CancelIn | None = None) -> dict:
        resp = await s.call(
            _scheduler(request).CancelBooking(
                spb.CancelBookingRequest(token=token, reason=data.reason if data else "")
            )
        )
        return {"booking": s.booking_out(resp.booking), "invites": s.invites_out(resp.invites)}


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


CONTROLLERS: list[type] = [SchedulingController, SchedulingLinksController, SchedulePageController]
