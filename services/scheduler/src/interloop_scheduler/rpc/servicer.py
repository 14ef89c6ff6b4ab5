"""`interloop.scheduler.v1.SchedulerService`: validate, protobuf <-> domain, call a use case. Refusals are
``interloop_common.errors`` raised by the use cases, mapped to status codes by the common interceptor.

Conflicts (a slot someone else took first) are ABORTED with a `SlotConflict` detail of fresh alternatives,
a loop that could not be booked with a `LoopConflict` detail; the exclusion constraint `no_double_booking`
(interview plus buffers) is what guarantees no interviewer is ever double-booked."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import grpc
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop.scheduler.v1 import scheduler_pb2_grpc
from interloop_common.export import export_request, to_struct
from interloop_common.idempotency import once
from interloop_common.rpc import Check, decode_cursor, dt, encode_cursor, page_size, tenant, ts, uuid_field
from interloop_common.service import Runtime

from interloop_scheduler.domain.loops import Loop, LoopRules
from interloop_scheduler.rpc import mapping as m
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.usecases import (
    bookings,
    calendar_push,
    calendars,
    export,
    interviewers,
    links,
    loops,
    panels,
)
from interloop_scheduler.usecases.availability import SlotConflict, find_open_slots

MAX_HOLD_SECONDS = 3600
_ZONE = "an IANA zone such as America/New_York"
_FIND_COUNTS = (
    "buffer_before_minutes",
    "buffer_after_minutes",
    "min_notice_minutes",
    "horizon_minutes",
    "limit",
)
R = TypeVar("R")
log = logging.getLogger(__name__)


def _window(w, field: str = "window") -> tuple[datetime, datetime]:  # type: ignore[no-untyped-def]
    Check().require(w.end.seconds > w.start.seconds, field, "end must be after start").done()
    return dt(w.start), dt(w.end)


def _uuid(value: str, field: str) -> uuid.UUID:
    return uuid.UUID(uuid_field(value, field))


def _offers_alternatives(rpc: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """A taken slot answers ABORTED with the alternatives as a detail (see mapping.abort_slot_conflict); a
    loop that could not be booked, with a LoopConflict detail (mapping.abort_loop_conflict)."""

    @functools.wraps(rpc)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> R:
        try:
            return await rpc(self, request, context)
        except SlotConflict as exc:
            await m.abort_slot_conflict(context, exc)
            raise AssertionError("unreachable") from None
        except loops.LoopConflict as exc:
            await m.abort_loop_conflict(context, exc)
            raise AssertionError("unreachable") from None

    return wrapper


class SchedulerServicer(scheduler_pb2_grpc.SchedulerServiceServicer):
    def __init__(self, rt: Runtime) -> None:
        assert isinstance(rt.settings, SchedulerSettings)
        self.pool, self.settings = rt.pool, rt.settings
        self._refreshing: set[asyncio.Task] = set()

    def _verify(self, token: str) -> tuple[str, uuid.UUID]:
        """(tenant, link id) of a candidate's link token."""
        Check().require(bool(token), "token", "required").done()
        return links.verify(self.settings, token)

    # -- interviewers and calendars

    async def UpsertInterviewer(
        self, request: pb.UpsertInterviewerRequest, context: grpc.aio.ServicerContext
    ):
        tenant_id = tenant(request)
        stored = await interviewers.upsert_interviewer(
            self.pool,
            self.settings,
            tenant_id,
            m.interviewer_row(request.interviewer),
            replace_profile=request.replace_profile,
        )
        return pb.UpsertInterviewerResponse(interviewer=m.interviewer_pb(stored))

    async def ListInterviewers(self, request: pb.ListInterviewersRequest, context: grpc.aio.ServicerContext):
        tenant_id, limit = tenant(request), page_size(request.page.page_size)
        after = decode_cursor(request.page.page_token)
        rows = await interviewers.list_interviewers(self.pool, tenant_id, after=after, limit=limit + 1)
        nxt = encode_cursor(rows[limit - 1].id) if len(rows) > limit else ""
        return pb.ListInterviewersResponse(
            interviewers=[m.interviewer_pb(r) for r in rows[:limit]], page={"next_page_token": nxt}
        )

    async def ReplaceBusyBlocks(
        self, request: pb.ReplaceBusyBlocksRequest, context: grpc.aio.ServicerContext
    ):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(request.interviewer_id), "interviewer_id", "required")
        check.require(bool(request.source), "source", "google, graph, ics, caldav or manual")
        check.require(
            request.window.end.seconds > request.window.start.seconds, "window", "end must be after start"
        )
        check.done()
        stored = await interviewers.replace_busy_blocks(
            self.pool,
            request.tenant_id,
            request.interviewer_id,
            request.source,
            (dt(request.window.start), dt(request.window.end)),
            [(dt(b.start), dt(b.end)) for b in request.busy],
        )
        return pb.ReplaceBusyBlocksResponse(stored=stored)

    async def RefreshCalendars(self, request: pb.RefreshCalendarsRequest, context: grpc.aio.ServicerContext):
        tenant_id = tenant(request)
        results = await calendars.refresh_calendars(
            self.pool, self.settings, tenant_id, list(request.interviewer_ids)
        )
        # a refreshed Google / Graph calendar gets (or keeps) its push channel; failures stay on the channel
        await calendar_push.open_channels(self.pool, self.settings, tenant_id, list(request.interviewer_ids))
        return m.refresh_pb(results)

    async def CalendarChanged(self, request: pb.CalendarChangedRequest, context: grpc.aio.ServicerContext):
        check = Check().require(request.kind in calendar_push.PUSH_KINDS, "kind", "google or graph")
        check.require(bool(request.channel_id), "channel_id", "required").done()
        changed = await calendar_push.calendar_changed(
            self.pool, self.settings, request.kind, request.channel_id, request.secret, request.resource_state
        )
        if changed.refresh:  # answered first: vendors want their acknowledgement within seconds
            task = asyncio.create_task(self._refresh_changed(changed))
            self._refreshing.add(task)
            task.add_done_callback(self._refreshing.discard)
        return pb.CalendarChangedResponse(
            tenant_id=changed.tenant_id, interviewer_id=changed.interviewer_id, refreshing=changed.refresh
        )

    async def ListInterviewerDeclines(
        self, request: pb.ListInterviewerDeclinesRequest, context: grpc.aio.ServicerContext
    ):
        declines = await calendar_push.open_declines(self.pool, tenant(request))
        return pb.ListInterviewerDeclinesResponse(
            declines=[
                pb.InterviewerDecline(
                    booking_id=str(d.booking_id),
                    interviewer_id=d.interviewer_id,
                    replacement_interviewer_ids=d.replacements,
                    start=ts(d.start),
                    end=ts(d.end),
                    seen_at=ts(d.seen_at),
                )
                for d in declines
            ]
        )

    async def _refresh_changed(self, changed: calendar_push.Changed) -> None:
        try:
            await calendar_push.refresh_changed(self.pool, self.settings, changed)
        except Exception:  # the periodic refresh is the fallback; this one is logged, never lost silently
            log.exception("push refresh of %s/%s failed", changed.tenant_id, changed.interviewer_id)

    # -- availability and loops

    async def FindSlots(self, request: pb.FindSlotsRequest, context: grpc.aio.ServicerContext):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(request.duration_minutes > 0, "duration_minutes", "must be > 0")
        check.require(request.step_minutes >= 0, "step_minutes", "must be >= 0 (0 = 30)")
        zone = request.candidate_time_zone or "UTC"
        check.require(m.zone_ok(zone), "candidate_time_zone", _ZONE)
        check.require(request.HasField("window"), "window", "required")
        for f in _FIND_COUNTS:
            check.require(getattr(request, f) >= 0, f, "must be >= 0")
        check.done()
        m.panel_dicts(list(request.panel))
        found = await find_open_slots(
            self.pool,
            request.tenant_id,
            m.requirements_pb(list(request.panel)),
            _window(request.window),
            m.find_rules(request, zone),
            limit=min(request.limit or 500, 2000),
        )
        return pb.FindSlotsResponse(
            slots=[m.slot_pb(s) for s in found.slots],
            unknown_interviewer_ids=list(found.unknown),
            reasons=list(found.reasons),
        )

    async def ProposeLoop(self, request: pb.ProposeLoopRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        loop, window, rules = self._proposal(request)
        plan = await loops.propose_loop(self.pool, request.tenant_id, loop, window, rules)
        return pb.ProposeLoopResponse(
            options=[m.loop_option_pb(o) for o in plan.options],
            reason=plan.reason or "",
            unknown_interviewer_ids=list(plan.unknown),
            notes=list(plan.notes),
        )

    def _proposal(
        self, r: pb.ProposeLoopRequest, prefix: str = ""
    ) -> tuple[Loop, tuple[datetime, datetime], LoopRules]:
        """A ProposeLoop request as the solver's input, validated (every bad field at once)."""
        check = Check().require(len(r.sessions) > 0, f"{prefix}sessions", "at least one session")
        zone = r.candidate_time_zone or "UTC"
        check.require(m.zone_ok(zone), f"{prefix}candidate_time_zone", "an IANA zone such as Europe/Berlin")
        check.require(r.HasField("window"), f"{prefix}window", "required")
        check.require(r.time_limit_seconds >= 0, f"{prefix}time_limit_seconds", "must be >= 0")
        m.check_sessions(check, r.sessions, prefix).done()
        cap = self.settings.loop_time_limit_seconds
        return m.loop_pb(r), _window(r.window, f"{prefix}window"), m.loop_rules(r, zone, cap)

    @_offers_alternatives
    @once(pb.BookLoopResponse)
    async def BookLoop(self, request: pb.BookLoopRequest, context: grpc.aio.ServicerContext):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(request.candidate_id), "candidate_id", "required")
        self._contact(check, request).done()
        sessions = m.loop_sessions(request)
        proposal = self._proposal(request.proposal, "proposal.") if request.HasField("proposal") else None
        loop_id, booked = await loops.book_loop(
            self.pool,
            self.settings,
            request.tenant_id,
            sessions,
            candidate={
                "candidate_id": request.candidate_id,
                "application_id": request.application_id,
                "job_id": request.job_id,
                "round": request.round,
                "candidate_email": request.candidate_email,
                "candidate_name": request.candidate_name,
                "candidate_time_zone": request.candidate_time_zone,
            },
            override=m.override_of(request.override),
            proposal=proposal,
        )
        return pb.BookLoopResponse(loop_id=str(loop_id), bookings=[m.booking_pb(b) for b in booked])

    # -- direct booking by a coordinator

    @once(pb.ScheduleInterviewResponse)
    async def ScheduleInterview(
        self, request: pb.ScheduleInterviewRequest, context: grpc.aio.ServicerContext
    ):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(request.candidate_id), "candidate_id", "required")
        check.require(len(request.interviewer_ids) > 0, "interviewer_ids", "at least one interviewer")
        check.require(request.end.seconds > request.start.seconds, "end", "must be after start")
        m.check_when(check, dt(request.start), dt(request.end), "start")
        m.check_buffers(check, request)
        self._contact(check, request).done()
        booking = await bookings.schedule_interview(
            self.pool,
            self.settings,
            request.tenant_id,
            override=m.override_of(request.override),
            buffer_before=timedelta(minutes=request.buffer_before_minutes),
            buffer_after=timedelta(minutes=request.buffer_after_minutes),
            candidate_id=request.candidate_id,
            application_id=request.application_id,
            job_id=request.job_id,
            round=request.round,
            interview_type=request.interview_type,
            interviewer_ids=list(request.interviewer_ids),
            start=dt(request.start),
            end=dt(request.end),
            candidate_email=request.candidate_email,
            candidate_name=request.candidate_name,
            candidate_time_zone=request.candidate_time_zone,
        )
        return pb.ScheduleInterviewResponse(booking=m.booking_pb(booking))

    @staticmethod
    def _contact(check: Check, request: Any) -> Check:
        check.require(
            not getattr(request, "candidate_email", "") or "@" in request.candidate_email,
            "candidate_email",
            "an email address such as ada@example.com",
        )
        return check.require(
            not request.candidate_time_zone or m.zone_ok(request.candidate_time_zone),
            "candidate_time_zone",
            _ZONE,
        )

    # -- scheduling requests (links), holds, confirmation

    @once(pb.CreateSchedulingLinkResponse)
    async def CreateSchedulingLink(
        self, request: pb.CreateSchedulingLinkRequest, context: grpc.aio.ServicerContext
    ):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(request.candidate_id), "candidate_id", "required")
        is_loop = request.HasField("loop")
        if is_loop:  # a loop link: its sessions say who and how long; no panel
            check.require(len(request.loop.sessions) > 0, "loop.sessions", "at least one session")
            m.check_sessions(check, request.loop.sessions, "loop.")
        else:
            check.require(0 < request.duration_minutes <= 24 * 60, "duration_minutes", "between 1 and 1440")
        check.require(request.expires_in_hours >= 0, "expires_in_hours", "must be >= 0 (0 = the default)")
        check.require(
            not request.candidate_email or "@" in request.candidate_email,
            "candidate_email",
            "an email address such as ada@example.com",
        ).done()
        slot_settings = m.settings_dict(request.settings)
        if is_loop:
            slot_settings["loop"] = m.loop_dict(request.loop)
        link, token, url = await links.create_link(
            self.pool,
            self.settings,
            request.tenant_id,
            candidate_id=request.candidate_id,
            application_id=request.application_id,
            job_id=request.job_id,
            round=request.round,
            candidate_email=request.candidate_email,
            candidate_name=request.candidate_name,
            panel=[] if is_loop else m.panel_dicts(list(request.panel)),
            duration_minutes=sum(x.duration_minutes for x in request.loop.sessions)
            if is_loop
            else request.duration_minutes,
            expires_in_hours=request.expires_in_hours,
            slot_settings=slot_settings,
        )
        return pb.CreateSchedulingLinkResponse(
            link_id=str(link.id), token=token, expires_at=ts(link.expires_at), url=url
        )

    async def GetLinkSlots(self, request: pb.GetLinkSlotsRequest, context: grpc.aio.ServicerContext):
        tenant_id, link_id = self._verify(request.token)
        zone = request.candidate_time_zone or "UTC"
        Check().require(m.zone_ok(zone), "candidate_time_zone", _ZONE).done()
        window = _window(request.window) if request.HasField("window") else None
        link, booking, found, hold, options = await links.link_slots(
            self.pool, self.settings, tenant_id, link_id, zone, window
        )
        return m.link_slots_pb(link, booking, found, hold, options)

    @_offers_alternatives
    async def HoldSlot(self, request: pb.HoldSlotRequest, context: grpc.aio.ServicerContext):
        tenant_id, link_id = self._verify(request.token)
        check = Check().require(request.HasField("start"), "start", "the start of a slot from GetLinkSlots")
        check.require(
            0 <= request.ttl_seconds <= MAX_HOLD_SECONDS, "ttl_seconds", f"0 (default) .. {MAX_HOLD_SECONDS}"
        ).done()
        ttl = timedelta(seconds=request.ttl_seconds or self.settings.hold_ttl_seconds)
        hold = await links.hold_slot(self.pool, self.settings, tenant_id, link_id, dt(request.start), ttl)
        return pb.HoldSlotResponse(
            hold_id=str(hold.id),
            expires_at=ts(hold.expires_at),
            start=ts(hold.start),
            end=ts(hold.end),
            interviewer_ids=hold.interviewer_ids,
        )

    async def ReleaseHold(self, request: pb.ReleaseHoldRequest, context: grpc.aio.ServicerContext):
        tenant_id, link_id = self._verify(request.token)
        hold_id = _uuid(request.hold_id, "hold_id")
        released = await links.release_hold(self.pool, tenant_id, link_id, hold_id)
        return pb.ReleaseHoldResponse(released=released)

    @_offers_alternatives
    async def ConfirmBooking(self, request: pb.ConfirmBookingRequest, context: grpc.aio.ServicerContext):
        tenant_id, link_id = self._verify(request.token)
        if request.loop_sessions:
            return await self._confirm_loop(request, tenant_id, link_id)
        check = Check().require(
            bool(request.hold_id) or request.HasField("start"),
            "hold_id",
            "a hold_id from HoldSlot, or a start to hold and confirm at once",
        )
        self._contact(check, request).done()
        booking, sent = await links.confirm_booking(
            self.pool,
            self.settings,
            tenant_id,
            link_id,
            hold_id=_uuid(request.hold_id, "hold_id") if request.hold_id else None,
            start=dt(request.start) if request.HasField("start") else None,
            candidate_time_zone=request.candidate_time_zone,
        )
        return pb.ConfirmBookingResponse(
            booking=m.booking_pb(booking), invite_ics=sent.ics, invites=m.invites_pb(sent)
        )

    async def _confirm_loop(
        self, request: pb.ConfirmBookingRequest, tenant_id: str, link_id: uuid.UUID
    ) -> pb.ConfirmBookingResponse:
        self._contact(Check(), request).done()
        chosen = m.chosen_sessions(request.loop_sessions)
        booked, sent = await loops.confirm_link_loop(
            self.pool, self.settings, tenant_id, link_id, chosen, request.candidate_time_zone
        )
        return pb.ConfirmBookingResponse(
            booking=m.booking_pb(booked[0]),
            invite_ics=sent[0].ics,
            invites=m.invites_pb(sent),
            bookings=[m.booking_pb(b) for b in booked],
        )

    # -- changes to a booking

    async def _booking_target(self, request: Any) -> tuple[str, uuid.UUID, bool]:
        """(tenant, booking id, by candidate) from a token or from tenant_id + booking_id."""
        if request.token:
            tenant_id, booking_id = await links.booked_through(self.pool, *self._verify(request.token))
            return tenant_id, booking_id, True
        Check().require(bool(request.tenant_id), "tenant_id", "required (or a link token)").done()
        return request.tenant_id, _uuid(request.booking_id, "booking_id"), False

    @_offers_alternatives
    @once(pb.RescheduleBookingResponse)
    async def RescheduleBooking(
        self, request: pb.RescheduleBookingRequest, context: grpc.aio.ServicerContext
    ):
        tenant_id, booking_id, by_candidate = await self._booking_target(request)
        check = Check().require(
            request.HasField("start"), "start", "the new start (a slot from GetLinkSlots/FindSlots)"
        )
        self._contact(check, request).done()
        booking, sent = await bookings.reschedule(
            self.pool,
            self.settings,
            tenant_id,
            booking_id,
            dt(request.start),
            reason=request.reason,
            candidate_time_zone=request.candidate_time_zone,
            by_candidate=by_candidate,
        )
        return pb.RescheduleBookingResponse(
            booking=m.booking_pb(booking), invite_ics=sent.ics, invites=m.invites_pb(sent)
        )

    @once(pb.CancelBookingResponse)
    async def CancelBooking(self, request: pb.CancelBookingRequest, context: grpc.aio.ServicerContext):
        tenant_id, booking_id, by_candidate = await self._booking_target(request)
        booking, sent = await bookings.cancel(
            self.pool, self.settings, tenant_id, booking_id, reason=request.reason, by_candidate=by_candidate
        )
        return pb.CancelBookingResponse(booking=m.booking_pb(booking), invites=m.invites_pb(sent))

    @once(pb.CompleteInterviewResponse)
    async def CompleteInterview(
        self, request: pb.CompleteInterviewRequest, context: grpc.aio.ServicerContext
    ):
        tenant_id = tenant(request)
        booking_id = _uuid(request.booking_id, "booking_id")
        booking = await bookings.complete(self.pool, self.settings, tenant_id, booking_id)
        return pb.CompleteInterviewResponse(booking=m.booking_pb(booking))

    async def ListBookings(self, request: pb.ListBookingsRequest, context: grpc.aio.ServicerContext):
        tenant_id, limit = tenant(request), page_size(request.page.page_size)
        rows = await bookings.list_bookings(
            self.pool,
            tenant_id,
            candidate_id=request.candidate_id,
            after=decode_cursor(request.page.page_token),
            limit=limit + 1,
        )
        nxt = encode_cursor(str(rows[limit - 1].id)) if len(rows) > limit else ""
        return pb.ListBookingsResponse(
            bookings=[m.booking_pb(b) for b in rows[:limit]], page={"next_page_token": nxt}
        )

    # -- jobs' default panels

    async def SetJobPanel(self, request: pb.SetJobPanelRequest, context: grpc.aio.ServicerContext):
        p = request.panel
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(p.job_id), "panel.job_id", "required")
        check.require(0 < p.duration_minutes <= 24 * 60, "panel.duration_minutes", "between 1 and 1440")
        check.require(p.expires_in_hours >= 0, "panel.expires_in_hours", "must be >= 0 (0 = the default)")
        check.done()
        config = {
            "panel": m.panel_dicts(list(p.panel), "panel.panel"),
            "duration_minutes": p.duration_minutes,
            "expires_in_hours": p.expires_in_hours,
            "settings": m.settings_dict(p.settings, "panel.settings"),
        }
        await panels.set_job_panel(self.pool, request.tenant_id, p.job_id, config)
        return pb.SetJobPanelResponse(panel=self._panel_pb(p.job_id, config))

    async def ExportCandidate(self, request: pb.ExportCandidateRequest, context: grpc.aio.ServicerContext):
        tenant_id, candidate_id = export_request(request)
        records = await export.export(self.pool, tenant_id, candidate_id)
        return pb.ExportCandidateResponse(records=to_struct(records))

    async def GetJobPanel(self, request: pb.GetJobPanelRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            bool(request.job_id), "job_id", "required"
        ).done()
        config = await panels.get_job_panel(self.pool, request.tenant_id, request.job_id)
        return pb.GetJobPanelResponse(panel=self._panel_pb(request.job_id, config))

    @staticmethod
    def _panel_pb(job_id: str, config: dict) -> pb.JobPanel:
        return pb.JobPanel(
            job_id=job_id,
            panel=m.panel_pb(config["panel"]),
            duration_minutes=config["duration_minutes"],
            expires_in_hours=config.get("expires_in_hours", 0),
            settings=m.settings_pb(config.get("settings", {})),
        )
