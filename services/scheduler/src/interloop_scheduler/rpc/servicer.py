"""`interloop.scheduler.v1.SchedulerService`."""

from __future__ import annotations

import uuid
import zoneinfo

import grpc
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop.scheduler.v1 import scheduler_pb2_grpc

from interloop_common.db import tenant_tx
from interloop_common.rpc import Check, FieldViolations, decode_cursor, dt, encode_cursor, page_size, ts
from interloop_common.service import Runtime
from interloop_scheduler.events.emit import booking_event
from interloop_scheduler.store import bookings as booking_store
from interloop_scheduler.store import interviewers as interviewer_store


def _zone_ok(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FieldViolations([(field, "must be a UUID")]) from None


def booking_pb(b: booking_store.BookingRow) -> pb.Booking:
    return pb.Booking(
        id=str(b.id), candidate_id=b.candidate_id, application_id=b.application_id,
        interviewer_ids=b.interviewer_ids, start=ts(b.start), end=ts(b.end), status=b.status,
        sequence=b.sequence, interview_type=b.interview_type, job_id=b.job_id, round=b.round,
    )


def interviewer_pb(i: interviewer_store.InterviewerRow) -> pb.Interviewer:
    return pb.Interviewer(
        id=i.id, email=i.email, display_name=i.display_name, time_zone=i.time_zone,
        working_hours=[pb.WorkingHours(**w) for w in i.working_hours], daily_cap=i.daily_cap,
        weekly_cap=i.weekly_cap, interview_types=i.interview_types,
    )


class SchedulerServicer(scheduler_pb2_grpc.SchedulerServiceServicer):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def UpsertInterviewer(self, request: pb.UpsertInterviewerRequest, context: grpc.aio.ServicerContext):
        i = request.interviewer
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(i.id), "interviewer.id", "required")
        check.require("@" in i.email, "interviewer.email", "an email address such as ada@example.com")
        check.require(_zone_ok(i.time_zone), "interviewer.time_zone", "an IANA zone such as Europe/London")
        check.require(i.daily_cap >= 0 and i.weekly_cap >= 0, "interviewer.daily_cap", "caps must be >= 0")
        for n, w in enumerate(i.working_hours):
            check.require(1 <= w.weekday <= 7, f"interviewer.working_hours[{n}].weekday", "1 (Monday) .. 7 (Sunday)")
            check.require(
                len(w.start) == 5 and len(w.end) == 5 and w.start < w.end,
                f"interviewer.working_hours[{n}]", "start and end as HH:MM with start < end",
            )
        check.done()
        row = interviewer_store.InterviewerRow(
            id=i.id, email=i.email, display_name=i.display_name, time_zone=i.time_zone,
            working_hours=[{"weekday": w.weekday, "start": w.start, "end": w.end} for w in i.working_hours],
            daily_cap=i.daily_cap, weekly_cap=i.weekly_cap, interview_types=list(i.interview_types),
        )
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            stored = await interviewer_store.upsert(conn, request.tenant_id, row)
        return pb.UpsertInterviewerResponse(interviewer=interviewer_pb(stored))

    async def ListInterviewers(self, request: pb.ListInterviewersRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        limit = page_size(request.page.page_size)
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            rows = await interviewer_store.list_all(
                conn, request.tenant_id, after=decode_cursor(request.page.page_token), limit=limit + 1
            )
        nxt = encode_cursor(rows[limit - 1].id) if len(rows) > limit else ""
        return pb.ListInterviewersResponse(
            interviewers=[interviewer_pb(r) for r in rows[:limit]], page={"next_page_token": nxt}
        )

    async def ReplaceBusyBlocks(self, request: pb.ReplaceBusyBlocksRequest, context: grpc.aio.ServicerContext):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(request.interviewer_id), "interviewer_id", "required")
        check.require(bool(request.source), "source", "google, graph, ics, caldav or manual")
        check.require(
            request.window.end.seconds > request.window.start.seconds, "window", "end must be after start"
        )
        check.done()
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            stored = await interviewer_store.replace_busy(
                conn, request.tenant_id, request.interviewer_id, request.source,
                (dt(request.window.start), dt(request.window.end)),
                [(dt(b.start), dt(b.end)) for b in request.busy],
            )
        return pb.ReplaceBusyBlocksResponse(stored=stored)

    async def ScheduleInterview(self, request: pb.ScheduleInterviewRequest, context: grpc.aio.ServicerContext):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(request.candidate_id), "candidate_id", "required")
        check.require(len(request.interviewer_ids) > 0, "interviewer_ids", "at least one interviewer")
        check.require(request.end.seconds > request.start.seconds, "end", "must be after start")
        check.done()
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            known = await interviewer_store.get_many(conn, request.tenant_id, list(request.interviewer_ids))
            missing = sorted(set(request.interviewer_ids) - set(known))
            if missing:
                raise FieldViolations([("interviewer_ids", f"unknown interviewers: {', '.join(missing)}")])
            try:
                booking = await booking_store.insert_booking(
                    conn, tenant_id=request.tenant_id, candidate_id=request.candidate_id,
                    application_id=request.application_id, job_id=request.job_id, round=request.round,
                    interview_type=request.interview_type, interviewer_ids=list(request.interviewer_ids),
                    start=dt(request.start), end=dt(request.end),
                )
            except booking_store.DoubleBooking as exc:
                await context.abort(grpc.StatusCode.ALREADY_EXISTS, f"interviewer already booked: {exc.detail}")
            await booking_event(conn, request.tenant_id, "interview.scheduled", booking)
        return pb.ScheduleInterviewResponse(booking=booking_pb(booking))

    async def _transition(self, request, context, status: str, event_type: str, release: bool):  # type: ignore[no-untyped-def]
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.done()
        booking_id = _uuid(request.booking_id, "booking_id")
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            booking = await booking_store.set_status(conn, request.tenant_id, booking_id, status, release=release)
            if booking is None:
                current = await booking_store.get_booking(conn, request.tenant_id, booking_id)
                if current is None:
                    await context.abort(grpc.StatusCode.NOT_FOUND, f"booking {booking_id} not found")
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION, f"booking {booking_id} is {current.status}, not scheduled"
                )
            await booking_event(conn, request.tenant_id, event_type, booking, getattr(request, "reason", ""))
        return booking

    async def CancelBooking(self, request: pb.CancelBookingRequest, context: grpc.aio.ServicerContext):
        booking = await self._transition(request, context, "cancelled", "interview.cancelled", release=True)
        return pb.CancelBookingResponse(booking=booking_pb(booking))

    async def CompleteInterview(self, request: pb.CompleteInterviewRequest, context: grpc.aio.ServicerContext):
        booking = await self._transition(request, context, "completed", "interview.completed", release=False)
        return pb.CompleteInterviewResponse(booking=booking_pb(booking))

    async def ListBookings(self, request: pb.ListBookingsRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        limit = page_size(request.page.page_size)
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            rows = await booking_store.list_bookings(
                conn, request.tenant_id, candidate_id=request.candidate_id,
                after=decode_cursor(request.page.page_token), limit=limit + 1,
            )
        nxt = encode_cursor(str(rows[limit - 1].id)) if len(rows) > limit else ""
        return pb.ListBookingsResponse(bookings=[booking_pb(b) for b in rows[:limit]], page={"next_page_token": nxt})
