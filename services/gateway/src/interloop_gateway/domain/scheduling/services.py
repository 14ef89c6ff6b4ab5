"""protobuf <-> REST for scheduling and interviewers, and gRPC errors the scheduling API answers in its
own words (a taken slot is 409 with fresh alternatives; an expired link is 410)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grpc
import msgspec
from google.rpc import error_details_pb2  # noqa: F401 - registers detail types for unpacking
from grpc_status import rpc_status
from interloop.scheduler.v1 import scheduler_pb2 as spb
from interloop_common.rpc import dt, ts

from interloop_gateway.domain.scheduling import schemas
from interloop_gateway.problems import problem
from interloop_gateway.wire import aware, iso

STAGES = {
    "shadow": spb.TRAINING_STAGE_SHADOW,
    "reverse_shadow": spb.TRAINING_STAGE_REVERSE_SHADOW,
    "trained": spb.TRAINING_STAGE_TRAINED,
}
STAGE_NAMES = {v: k for k, v in STAGES.items()}


def zone(name: str, field: str = "tz") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise problem(
            400,
            f"{field}: unknown IANA time zone {name!r}",
            extra={"errors": [{"field": field, "detail": "an IANA zone such as America/New_York"}]},
        ) from None


def panel_pb(panel: list[schemas.Requirement]) -> list[spb.PanelRequirement]:
    return [spb.PanelRequirement(interviewer_ids=p.interviewer_ids, k=p.k) for p in panel]


def settings_pb(s: schemas.SlotSettings) -> spb.SlotSettings:
    return spb.SlotSettings(
        step_minutes=s.step_minutes,
        buffer_before_minutes=s.buffer_before_minutes,
        buffer_after_minutes=s.buffer_after_minutes,
        min_notice_minutes=s.min_notice_minutes,
        horizon_days=s.horizon_days,
        interview_type=s.interview_type,
    )


def interviewer_pb(interviewer_id: str, body: schemas.InterviewerProfileIn) -> spb.Interviewer:
    bad = [n for n, t in enumerate(body.training) if t.stage not in STAGES]
    if bad:
        raise problem(
            400,
            "training stage must be shadow, reverse_shadow or trained",
            extra={
                "errors": [
                    {"field": f"training[{n}].stage", "detail": "shadow, reverse_shadow or trained"}
                    for n in bad
                ]
            },
        )
    cal = body.calendar or schemas.CalendarSource()
    return spb.Interviewer(
        id=interviewer_id,
        email=body.email,
        display_name=body.display_name,
        time_zone=body.time_zone,
        working_hours=[
            spb.WorkingHours(weekday=w.weekday, start=w.start, end=w.end) for w in body.working_hours
        ],
        overrides=[
            spb.DateOverride(
                date=o.date, windows=[spb.TimeWindow(start=w.start, end=w.end) for w in o.windows]
            )
            for o in body.overrides
        ],
        out_of_office=[
            {"start": ts(aware(p.start, "out_of_office.start")), "end": ts(aware(p.end, "out_of_office.end"))}
            for p in body.out_of_office
        ],
        daily_cap=body.daily_cap,
        weekly_cap=body.weekly_cap,
        interview_types=body.interview_types,
        training=[
            spb.Training(interview_type=t.interview_type, stage=STAGES[t.stage]) for t in body.training
        ],
        calendar=spb.CalendarSource(
            kind=cal.kind, calendar_id=cal.calendar_id, url=cal.url, credential=cal.credential, user=cal.user
        ),
    )


def profile_of(body: schemas.InterviewerIn) -> schemas.InterviewerProfileIn:
    """The older interviewer body as a profile (what it does not know stays as stored)."""
    return schemas.InterviewerProfileIn(
        email=body.email,
        time_zone=body.time_zone,
        display_name=body.display_name,
        working_hours=body.working_hours,
        daily_cap=body.daily_cap,
        weekly_cap=body.weekly_cap,
        interview_types=body.interview_types,
    )


async def upsert_interviewer(
    scheduler: Any,
    tenant_id: str,
    interviewer_id: str,
    body: schemas.InterviewerProfileIn,
    *,
    replace_profile: bool,
) -> spb.Interviewer:
    """Create or update an interviewer; without ``replace_profile`` the stored overrides, out-of-office,
    training and calendar source are kept."""
    resp = await scheduler.UpsertInterviewer(
        spb.UpsertInterviewerRequest(
            tenant_id=tenant_id,
            interviewer=interviewer_pb(interviewer_id, body),
            replace_profile=replace_profile,
        )
    )
    return resp.interviewer


def _hours(i: spb.Interviewer) -> list[schemas.WorkingHours]:
    return [schemas.WorkingHours(w.weekday, w.start, w.end) for w in i.working_hours]


def interviewer_out(i: spb.Interviewer) -> schemas.InterviewerOut:
    return schemas.InterviewerOut(
        id=i.id,
        email=i.email,
        time_zone=i.time_zone,
        display_name=i.display_name,
        working_hours=_hours(i),
        daily_cap=i.daily_cap,
        weekly_cap=i.weekly_cap,
        interview_types=list(i.interview_types),
    )


def interviewer_profile_out(i: spb.Interviewer) -> schemas.InterviewerProfileOut:
    return schemas.InterviewerProfileOut(
        id=i.id,
        email=i.email,
        display_name=i.display_name,
        time_zone=i.time_zone,
        working_hours=_hours(i),
        overrides=[
            schemas.DateOverride(o.date, [schemas.Window(w.start, w.end) for w in o.windows])
            for o in i.overrides
        ],
        out_of_office=[schemas.TimeRangeOut(iso(dt(p.start)), iso(dt(p.end))) for p in i.out_of_office],
        daily_cap=i.daily_cap,
        weekly_cap=i.weekly_cap,
        interview_types=list(i.interview_types),
        training=[schemas.Training(t.interview_type, STAGE_NAMES.get(t.stage, "")) for t in i.training],
        calendar=schemas.CalendarOut(
            kind=i.calendar.kind,
            calendar_id=i.calendar.calendar_id,
            url=i.calendar.url,
            user=i.calendar.user,
        ),
        calendar_status=i.calendar_status,
        calendar_reason=i.calendar_reason,
    )


def slot_out(s: spb.Slot, tz: ZoneInfo) -> schemas.SlotOut:
    start, end = dt(s.start), dt(s.end)
    local = start.astimezone(tz)
    return schemas.SlotOut(
        start=iso(start),
        end=iso(end),
        local_start=local.isoformat(),
        local_end=end.astimezone(tz).isoformat(),
        local_date=local.date().isoformat(),
        interviewer_ids=list(s.interviewer_ids),
    )


def availability_out(r: spb.FindSlotsResponse, tz: ZoneInfo) -> schemas.AvailabilityOut:
    return schemas.AvailabilityOut(
        slots=[slot_out(x, tz) for x in r.slots],
        unknown_interviewer_ids=list(r.unknown_interviewer_ids),
        reasons=list(r.reasons),
    )


def override_out(b: spb.Booking) -> schemas.OverrideOut | None:
    """The audit of a booking made despite scheduling rules (who, why, which rules)."""
    if not b.HasField("override"):
        return None
    return schemas.OverrideOut(b.override.reason, b.override.actor, list(b.override.rules))


def booking_out(b: spb.Booking) -> schemas.BookingOut:
    return schemas.BookingOut(
        id=b.id,
        candidate_id=b.candidate_id,
        application_id=b.application_id,
        interviewer_ids=list(b.interviewer_ids),
        start=iso(dt(b.start)),
        end=iso(dt(b.end)),
        status=b.status,
        sequence=b.sequence,
        reschedules=b.reschedules,
        interview_type=b.interview_type,
        job_id=b.job_id,
        round=b.round,
        link_id=b.link_id,
        candidate_time_zone=b.candidate_time_zone or None,
        buffer_before_minutes=b.buffer_before_minutes,
        buffer_after_minutes=b.buffer_after_minutes,
        override=override_out(b),
        loop_id=b.loop_id or None,
        loop_session_id=b.loop_session_id or None,
    )


def invites_out(invites: Any) -> list[schemas.InviteOut]:
    return [schemas.InviteOut(i.recipient, i.method, i.ics.decode()) for i in invites]


def booking_invites_out(
    r: spb.ConfirmBookingResponse | spb.RescheduleBookingResponse,
) -> schemas.BookingInvitesOut:
    every = r.bookings if isinstance(r, spb.ConfirmBookingResponse) else []
    return schemas.BookingInvitesOut(
        booking=booking_out(r.booking),
        invite_ics=r.invite_ics.decode(),
        invites=invites_out(r.invites),
        bookings=[booking_out(b) for b in every],
    )


def cancellation_out(r: spb.CancelBookingResponse) -> schemas.CancellationOut:
    return schemas.CancellationOut(booking=booking_out(r.booking), invites=invites_out(r.invites))


def panel_out(p: spb.JobPanel) -> schemas.JobPanelOut:
    s = p.settings
    return schemas.JobPanelOut(
        job_id=p.job_id,
        panel=[schemas.Requirement(list(r.interviewer_ids), r.k) for r in p.panel],
        duration_minutes=p.duration_minutes,
        expires_in_hours=p.expires_in_hours,
        settings=schemas.SlotSettings(
            step_minutes=s.step_minutes,
            buffer_before_minutes=s.buffer_before_minutes,
            buffer_after_minutes=s.buffer_after_minutes,
            min_notice_minutes=s.min_notice_minutes,
            horizon_days=s.horizon_days,
            interview_type=s.interview_type,
        ),
    )


def _sessions_pb(sessions: list[schemas.LoopSessionIn]) -> list[spb.LoopSession]:
    return [
        spb.LoopSession(
            id=x.id,
            duration_minutes=x.duration_minutes,
            pool=x.pool,
            k=x.k,
            fixed=x.fixed,
            interview_type=x.interview_type,
            allow_shadow=x.allow_shadow,
        )
        for x in sessions
    ]


def loop_spec_pb(data: schemas.LoopSpecIn) -> spb.LoopSpec:
    return spb.LoopSpec(
        sessions=_sessions_pb(data.sessions),
        ordered=data.ordered,
        min_break_minutes=data.min_break_minutes,
        max_break_minutes=data.max_break_minutes,
        spread_days=data.spread_days,
        max_days=data.max_days,
    )


def session_bookings_pb(sessions: list[schemas.LoopSessionBookingIn]) -> list[spb.LoopSessionBooking]:
    return [
        spb.LoopSessionBooking(
            session_id=x.session_id,
            start=ts(aware(x.start, f"sessions[{n}].start")),
            end=ts(aware(x.end, f"sessions[{n}].end")),
            interviewer_ids=x.interviewer_ids,
            interview_type=x.interview_type,
        )
        for n, x in enumerate(sessions)
    ]


def propose_request(tenant_id: str, data: schemas.LoopIn) -> spb.ProposeLoopRequest:
    return spb.ProposeLoopRequest(
        tenant_id=tenant_id,
        sessions=_sessions_pb(data.sessions),
        ordered=data.ordered,
        min_break_minutes=data.min_break_minutes,
        max_break_minutes=data.max_break_minutes,
        spread_days=data.spread_days,
        max_days=data.max_days,
        window={
            "start": ts(aware(data.window_start, "window_start")),
            "end": ts(aware(data.window_end, "window_end")),
        },
        candidate_time_zone=data.time_zone,
        step_minutes=data.step_minutes,
        buffer_before_minutes=data.buffer_before_minutes,
        buffer_after_minutes=data.buffer_after_minutes,
        min_notice_minutes=data.min_notice_minutes,
        time_limit_seconds=data.time_limit_seconds,
        objectives=data.objectives,
    )


def loop_option_out(o: spb.LoopOption, tz: ZoneInfo) -> schemas.LoopOptionOut:
    return schemas.LoopOptionOut(
        objectives=list(o.objectives),
        status="OPTIMAL" if o.status == spb.SOLVE_STATUS_OPTIMAL else "FEASIBLE",
        days=o.days,
        sessions=[
            schemas.LoopSessionOut(
                session_id=s.session_id,
                start=iso(dt(s.start)),
                end=iso(dt(s.end)),
                local_start=dt(s.start).astimezone(tz).isoformat(),
                interviewer_ids=list(s.interviewer_ids),
                shadows=[
                    schemas.ShadowOut(x.interviewer_id, STAGE_NAMES.get(x.stage, "")) for x in s.shadows
                ],
            )
            for s in o.sessions
        ],
    )


def loop_booking_request(tenant_id: str, data: schemas.LoopBookingIn, actor: str) -> spb.BookLoopRequest:
    return spb.BookLoopRequest(
        tenant_id=tenant_id,
        candidate_id=data.candidate_id,
        application_id=data.application_id,
        job_id=data.job_id,
        round=data.round,
        candidate_email=data.candidate_email,
        candidate_name=data.candidate_name,
        candidate_time_zone=data.candidate_time_zone,
        sessions=session_bookings_pb(data.sessions),
        buffer_before_minutes=data.buffer_before_minutes,
        buffer_after_minutes=data.buffer_after_minutes,
        override=spb.BookingOverride(reason=data.override_reason, actor=actor)
        if data.override_reason
        else None,
        proposal=propose_request(tenant_id, data.proposal) if data.proposal is not None else None,
    )


def loop_booking_out(r: spb.BookLoopResponse) -> schemas.LoopBookingOut:
    return schemas.LoopBookingOut(loop_id=r.loop_id, bookings=[booking_out(b) for b in r.bookings])


def loop_out(r: spb.ProposeLoopResponse, tz: ZoneInfo) -> schemas.LoopOut:
    return schemas.LoopOut(
        options=[loop_option_out(o, tz) for o in r.options],
        reason=r.reason or None,
        unknown_interviewer_ids=list(r.unknown_interviewer_ids),
        notes=list(r.notes),
    )


def refreshes_out(r: spb.RefreshCalendarsResponse) -> schemas.CalendarRefreshesOut:
    return schemas.CalendarRefreshesOut(
        [schemas.CalendarRefreshOut(x.interviewer_id, x.status, x.reason, x.busy_blocks) for x in r.results]
    )


def declines_out(r: spb.ListInterviewerDeclinesResponse) -> schemas.InterviewerDeclinesOut:
    return schemas.InterviewerDeclinesOut(
        [
            schemas.InterviewerDeclineOut(
                d.booking_id,
                d.interviewer_id,
                list(d.replacement_interviewer_ids),
                iso(dt(d.start)),
                iso(dt(d.end)),
                iso(dt(d.seen_at)),
            )
            for d in r.declines
        ]
    )


def link_out(r: spb.CreateSchedulingLinkResponse) -> schemas.LinkOut:
    return schemas.LinkOut(link_id=r.link_id, token=r.token, url=r.url, expires_at=iso(dt(r.expires_at)))


def link_slots_out(r: spb.GetLinkSlotsResponse, tz_name: str, tz: ZoneInfo) -> schemas.LinkSlotsOut:
    return schemas.LinkSlotsOut(
        status=r.status,
        candidate_name=r.candidate_name,
        round=r.round,
        duration_minutes=r.duration_minutes,
        expires_at=iso(dt(r.expires_at)),
        time_zone=tz_name,
        hold_id=r.hold_id or None,
        booking=booking_out(r.booking) if r.HasField("booking") else None,
        slots=[slot_out(x, tz) for x in r.slots],
        reasons=list(r.reasons),
        loop_options=[loop_option_out(o, tz) for o in r.loop_options],
    )


def hold_out(r: spb.HoldSlotResponse) -> schemas.HoldOut:
    return schemas.HoldOut(
        hold_id=r.hold_id,
        expires_at=iso(dt(r.expires_at)),
        start=iso(dt(r.start)),
        end=iso(dt(r.end)),
        interviewer_ids=list(r.interviewer_ids),
    )


def loop_conflict(exc: grpc.aio.AioRpcError) -> spb.LoopConflict | None:
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    for detail in status.details if status else []:
        conflict = spb.LoopConflict()
        if detail.Unpack(conflict):
            return conflict
    return None


def alternatives(exc: grpc.aio.AioRpcError) -> list[spb.Slot]:
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    out: list[spb.Slot] = []
    for detail in status.details if status else []:
        conflict = spb.SlotConflict()
        if detail.Unpack(conflict):
            out.extend(conflict.alternatives)
    return out


async def call(coro, tz: ZoneInfo | None = None):  # type: ignore[no-untyped-def]
    """Await a scheduler RPC, turning a taken slot into 409 + alternatives, a loop that could not be booked
    into 409 naming the session, its rules and fresh options, and an expired link into 410."""
    try:
        return await coro
    except grpc.aio.AioRpcError as exc:
        code, detail = exc.code(), exc.details() or ""
        loop = loop_conflict(exc)
        if loop is not None:
            raise problem(
                409,
                detail or "the loop could not be booked",
                extra={
                    "session_id": loop.session_id,
                    "rules": list(loop.rules),
                    "alternatives": [
                        msgspec.to_builtins(loop_option_out(o, tz or ZoneInfo("UTC")))
                        for o in loop.alternatives
                    ],
                },
                type_="https://interloop.dev/problems/loop-not-booked",
            ) from None
        if code == grpc.StatusCode.ABORTED:
            alts = [msgspec.to_builtins(slot_out(s, tz or ZoneInfo("UTC"))) for s in alternatives(exc)]
            raise problem(
                409,
                detail or "the slot was taken",
                extra={"alternatives": alts},
                type_="https://interloop.dev/problems/slot-taken",
            ) from None
        if code == grpc.StatusCode.FAILED_PRECONDITION and detail.startswith("expires_at:"):
            raise problem(410, detail) from None
        if code == grpc.StatusCode.UNAUTHENTICATED:
            raise problem(404, "no such scheduling link (the token is not valid)") from None
        raise
