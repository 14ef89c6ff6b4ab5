"""`interloop.scheduler.v1.SchedulerService`: protobuf <-> domain and store, errors -> status codes.

Conflicts (a slot someone else took first) are ABORTED with a `SlotConflict` detail of fresh alternatives;
the exclusion constraint `no_double_booking` is what guarantees no interviewer is ever double-booked."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import datetime, timedelta

import grpc
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop.scheduler.v1 import scheduler_pb2_grpc
from interloop_common.db import tenant_tx
from interloop_common.keyring import KeysUnavailable
from interloop_common.rpc import Check, FieldViolations, decode_cursor, dt, encode_cursor, page_size, ts
from interloop_common.service import Runtime

from interloop_scheduler.domain import policy as policy_domain
from interloop_scheduler.domain.availability import Requirement, Slot, SlotRules, all_of
from interloop_scheduler.domain.links import InvalidLink, verify_link_token
from interloop_scheduler.domain.loops import Loop, LoopRules, Session, plan_loop
from interloop_scheduler.domain.model import SchedulingError
from interloop_scheduler.events import background
from interloop_scheduler.events.emit import booking_event, invitation
from interloop_scheduler.events.requests import link_key, link_token, link_url, open_request
from interloop_scheduler.rpc import mapping as m
from interloop_scheduler.rpc import slots
from interloop_scheduler.settings import SchedulerSettings, credential_ring
from interloop_scheduler.store import bookings as booking_store
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store import links as link_store

MAX_HOLD_SECONDS = 3600


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FieldViolations([(field, "must be a UUID")]) from None


def _window(w, field: str = "window") -> tuple[datetime, datetime]:  # type: ignore[no-untyped-def]
    if w.end.seconds <= w.start.seconds:
        raise FieldViolations([(field, "end must be after start")])
    return dt(w.start), dt(w.end)


class SchedulerServicer(scheduler_pb2_grpc.SchedulerServiceServicer):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        assert isinstance(rt.settings, SchedulerSettings)
        self.settings: SchedulerSettings = rt.settings
        # Calendar tokens and passwords are stored sealed; only the refresh path opens them.
        self.secrets = credential_ring(self.settings)
        self.policy = policy_domain.BookingPolicy(
            max_reschedules=self.settings.max_reschedules,
            reschedule_cutoff=timedelta(hours=self.settings.reschedule_cutoff_hours),
            cancel_cutoff=timedelta(hours=self.settings.cancel_cutoff_hours),
        )

    # -- interviewers and calendars

    async def UpsertInterviewer(
        self, request: pb.UpsertInterviewerRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        row = m.interviewer_row(request.interviewer)
        if row.calendar.get("credential"):
            try:
                sealed = self.secrets.seal(row.calendar["credential"])
            except KeysUnavailable as exc:
                await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
            row = dataclasses.replace(row, calendar={**row.calendar, "credential": sealed})
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            stored = await interviewer_store.upsert(
                conn, request.tenant_id, row, replace_profile=request.replace_profile
            )
        return pb.UpsertInterviewerResponse(interviewer=m.interviewer_pb(stored))

    async def ListInterviewers(self, request: pb.ListInterviewersRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        limit = page_size(request.page.page_size)
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            rows = await interviewer_store.list_all(
                conn, request.tenant_id, after=decode_cursor(request.page.page_token), limit=limit + 1
            )
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
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            if not await interviewer_store.get_many(conn, request.tenant_id, [request.interviewer_id]):
                await context.abort(
                    grpc.StatusCode.NOT_FOUND, f"interviewer {request.interviewer_id} not found"
                )
            stored = await interviewer_store.replace_busy(
                conn,
                request.tenant_id,
                request.interviewer_id,
                request.source,
                (dt(request.window.start), dt(request.window.end)),
                [(dt(b.start), dt(b.end)) for b in request.busy],
            )
        return pb.ReplaceBusyBlocksResponse(stored=stored)

    async def RefreshCalendars(self, request: pb.RefreshCalendarsRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        results = await background.refresh_calendars(
            self.rt.pool, self.settings, request.tenant_id, list(request.interviewer_ids)
        )
        return pb.RefreshCalendarsResponse(
            results=[
                pb.CalendarRefresh(
                    interviewer_id=r.interviewer_id,
                    status=r.status,
                    reason=r.reason,
                    busy_blocks=r.busy_blocks,
                )
                for r in results
            ]
        )

    # -- availability and loops

    async def FindSlots(self, request: pb.FindSlotsRequest, context: grpc.aio.ServicerContext):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(request.duration_minutes > 0, "duration_minutes", "must be > 0")
        check.require(request.step_minutes >= 0, "step_minutes", "must be >= 0 (0 = 30)")
        zone = request.candidate_time_zone or "UTC"
        check.require(m.zone_ok(zone), "candidate_time_zone", "an IANA zone such as America/New_York")
        check.require(request.HasField("window"), "window", "required")
        for f in (
            "buffer_before_minutes",
            "buffer_after_minutes",
            "min_notice_minutes",
            "horizon_minutes",
            "limit",
        ):
            check.require(getattr(request, f) >= 0, f, "must be >= 0")
        check.done()
        m.panel_dicts(list(request.panel))
        window = _window(request.window)
        rules = SlotRules(
            duration=timedelta(minutes=request.duration_minutes),
            step=timedelta(minutes=request.step_minutes or 30),
            buffer_before=timedelta(minutes=request.buffer_before_minutes),
            buffer_after=timedelta(minutes=request.buffer_after_minutes),
            min_notice=timedelta(minutes=request.min_notice_minutes),
            horizon=timedelta(minutes=request.horizon_minutes) if request.horizon_minutes else None,
            candidate_zone=zone,
        )
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            found, _ = await slots.availability(
                conn,
                request.tenant_id,
                m.requirements_pb(list(request.panel)),
                window,
                rules,
                m.utc_now(),
                limit=min(request.limit or 500, 2000),
            )
        return pb.FindSlotsResponse(
            slots=[m.slot_pb(s) for s in found.slots],
            unknown_interviewer_ids=list(found.unknown),
            reasons=list(found.reasons),
        )

    async def ProposeLoop(self, request: pb.ProposeLoopRequest, context: grpc.aio.ServicerContext):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(len(request.sessions) > 0, "sessions", "at least one session")
        zone = request.candidate_time_zone or "UTC"
        check.require(m.zone_ok(zone), "candidate_time_zone", "an IANA zone such as Europe/Berlin")
        check.require(request.HasField("window"), "window", "required")
        check.require(request.time_limit_seconds >= 0, "time_limit_seconds", "must be >= 0")
        for n, s in enumerate(request.sessions):
            check.require(bool(s.id), f"sessions[{n}].id", "required")
            check.require(s.duration_minutes > 0, f"sessions[{n}].duration_minutes", "must be > 0")
            check.require(
                len(s.pool) + len(s.fixed) > 0, f"sessions[{n}].pool", "a pool or fixed interviewers"
            )
            check.require(0 <= s.k <= len(s.pool), f"sessions[{n}].k", f"between 0 and {len(s.pool)}")
        check.done()
        window = _window(request.window)
        sessions = tuple(
            Session(
                id=s.id,
                duration=timedelta(minutes=s.duration_minutes),
                pool=tuple(s.pool),
                k=(s.k or 1) if s.pool else 0,
                fixed=tuple(s.fixed),
                interview_type=s.interview_type,
                allow_shadow=s.allow_shadow,
            )
            for s in request.sessions
        )
        loop = Loop(
            sessions=sessions,
            ordered=request.ordered,
            min_break=timedelta(minutes=request.min_break_minutes),
            max_break=timedelta(minutes=request.max_break_minutes) if request.max_break_minutes else None,
            same_day=not request.spread_days,
            max_days=request.max_days or None,
        )
        limit = min(
            request.time_limit_seconds or self.settings.loop_time_limit_seconds,
            self.settings.loop_time_limit_seconds,
        )
        rules = LoopRules(
            step=timedelta(minutes=request.step_minutes or 30),
            candidate_zone=zone,
            buffer_before=timedelta(minutes=request.buffer_before_minutes),
            buffer_after=timedelta(minutes=request.buffer_after_minutes),
            min_notice=timedelta(minutes=request.min_notice_minutes),
            time_limit=limit,
            objectives=tuple(request.objectives) or LoopRules().objectives,
        )
        now = m.utc_now()
        pad = timedelta(days=8)
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            ids = sorted({p for s in sessions for p in (*s.pool, *s.fixed)})
            rows = await interviewer_store.get_many(conn, request.tenant_id, ids)
            missing = [i for i in ids if i not in rows]
            if missing:
                raise FieldViolations([("sessions", f"unknown interviewers: {', '.join(missing)}")])
            for t in {s.interview_type for s in sessions if s.allow_shadow and s.interview_type}:
                rows.update(await interviewer_store.with_training(conn, request.tenant_id, t))
            everyone = sorted(rows)
            blocks = await interviewer_store.busy_blocks(
                conn, request.tenant_id, everyone, window[0] - pad, window[1] + pad
            )
            bookings, holds = await booking_store.commitments(
                conn, request.tenant_id, everyone, window[0] - pad, window[1] + pad
            )
            load = await booking_store.load_counts(conn, request.tenant_id, everyone, window[0], window[1])
        try:
            interviewers = [interviewer_store.to_domain(r) for r in rows.values()]
            # CP-SAT runs off the event loop: other RPCs keep being served while it searches.
            plan = await asyncio.to_thread(
                plan_loop,
                loop=loop,
                interviewers=interviewers,
                busy=interviewer_store.busy_map(rows, blocks),
                window=window,
                now=now,
                rules=rules,
                bookings=bookings,
                holds=holds,
                load=load,
            )
        except SchedulingError as exc:
            raise m.scheduling_error(exc) from None
        return pb.ProposeLoopResponse(
            options=[m.loop_option_pb(o) for o in plan.options],
            reason=plan.reason or "",
            unknown_interviewer_ids=list(plan.unknown),
            notes=list(plan.notes),
        )

    # -- direct booking by a coordinator

    async def ScheduleInterview(
        self, request: pb.ScheduleInterviewRequest, context: grpc.aio.ServicerContext
    ):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(request.candidate_id), "candidate_id", "required")
        check.require(len(request.interviewer_ids) > 0, "interviewer_ids", "at least one interviewer")
        check.require(request.end.seconds > request.start.seconds, "end", "must be after start")
        check.require(
            not request.candidate_email or "@" in request.candidate_email,
            "candidate_email",
            "an email address such as ada@example.com",
        )
        check.require(
            not request.candidate_time_zone or m.zone_ok(request.candidate_time_zone),
            "candidate_time_zone",
            "an IANA zone such as America/New_York",
        )
        check.done()
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            known = await interviewer_store.get_many(conn, request.tenant_id, list(request.interviewer_ids))
            missing = sorted(set(request.interviewer_ids) - set(known))
            if missing:
                raise FieldViolations([("interviewer_ids", f"unknown interviewers: {', '.join(missing)}")])
            try:
                booking = await booking_store.insert_booking(
                    conn,
                    tenant_id=request.tenant_id,
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
            except booking_store.DoubleBooking as exc:
                await context.abort(
                    grpc.StatusCode.ALREADY_EXISTS, f"interviewer already booked: {exc.detail}"
                )
            organizer = self.settings.organizer_email
            await booking_event(conn, request.tenant_id, "interview.scheduled", booking, organizer=organizer)
        return pb.ScheduleInterviewResponse(booking=m.booking_pb(booking))

    # -- scheduling requests (links), holds, confirmation

    async def CreateSchedulingLink(
        self, request: pb.CreateSchedulingLinkRequest, context: grpc.aio.ServicerContext
    ):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(request.candidate_id), "candidate_id", "required")
        check.require(0 < request.duration_minutes <= 24 * 60, "duration_minutes", "between 1 and 1440")
        check.require(request.expires_in_hours >= 0, "expires_in_hours", "must be >= 0 (0 = the default)")
        check.require(
            not request.candidate_email or "@" in request.candidate_email,
            "candidate_email",
            "an email address such as ada@example.com",
        )
        check.done()
        panel = m.panel_dicts(list(request.panel))
        settings = m.settings_dict(request.settings)
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            ids = sorted({i for p in panel for i in p["interviewer_ids"]})
            missing = sorted(set(ids) - set(await interviewer_store.get_many(conn, request.tenant_id, ids)))
            if missing:
                raise FieldViolations([("panel", f"unknown interviewers: {', '.join(missing)}")])
            link, token, url = await open_request(
                conn,
                self.settings,
                request.tenant_id,
                m.utc_now(),
                candidate_id=request.candidate_id,
                application_id=request.application_id,
                job_id=request.job_id,
                round=request.round,
                candidate_email=request.candidate_email,
                candidate_name=request.candidate_name,
                panel=panel,
                duration_minutes=request.duration_minutes,
                expires_in_hours=request.expires_in_hours,
                slot_settings=settings,
            )
        return pb.CreateSchedulingLinkResponse(
            link_id=str(link.id), token=token, expires_at=ts(link.expires_at), url=url
        )

    async def _verify(self, token: str, context: grpc.aio.ServicerContext) -> tuple[str, uuid.UUID]:
        if not token:
            raise FieldViolations([("token", "required")])
        try:
            payload = verify_link_token(token, link_key(self.settings), m.utc_now())
            return str(payload["t"]), uuid.UUID(str(payload["l"]))
        except InvalidLink as exc:
            if exc.field == "expires_at":
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION, "expires_at: the scheduling link has expired"
                )
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, f"token: {exc.message}")
        except (KeyError, ValueError):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "token: payload is not a scheduling link")
        raise AssertionError("unreachable")

    async def _link(
        self, conn, tenant: str, link_id: uuid.UUID, context, *, for_update: bool = False
    ) -> link_store.LinkRow:  # type: ignore[no-untyped-def]
        link = await link_store.get_link(conn, tenant, link_id, for_update=for_update)
        if link is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "scheduling link not found")
        assert link is not None
        return link

    def _rules(self, link: link_store.LinkRow, zone: str = "UTC") -> SlotRules:
        return m.rules_from(link.settings, link.duration_minutes, zone, self.settings.link_horizon_days)

    async def _alternatives(
        self,
        tenant: str,
        reqs: list[Requirement],
        rules: SlotRules,
        hold_key: str | None,
        exclude_booking: uuid.UUID | None = None,
        n: int = 5,
    ) -> list[Slot]:
        """Fresh slots (read after the conflict, in a new transaction) to offer instead."""
        now = m.utc_now()
        horizon = rules.horizon or timedelta(days=self.settings.link_horizon_days)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            found, _ = await slots.availability(
                conn,
                tenant,
                reqs,
                (now, now + horizon),
                rules,
                now,
                hold_key=hold_key,
                exclude_booking=exclude_booking,
                limit=n,
            )
        return found.slots

    async def GetLinkSlots(self, request: pb.GetLinkSlotsRequest, context: grpc.aio.ServicerContext):
        tenant, link_id = await self._verify(request.token, context)
        zone = request.candidate_time_zone or "UTC"
        Check().require(
            m.zone_ok(zone), "candidate_time_zone", "an IANA zone such as America/New_York"
        ).done()
        now = m.utc_now()
        async with tenant_tx(self.rt.pool, tenant) as conn:
            link = await self._link(conn, tenant, link_id, context)
            out = pb.GetLinkSlotsResponse(
                candidate_id=link.candidate_id,
                duration_minutes=link.duration_minutes,
                expires_at=ts(link.expires_at),
                status="open",
                candidate_name=link.candidate_name,
                round=link.round,
            )
            if link.booking_id is not None:
                booking = await booking_store.get_booking(conn, tenant, link.booking_id)
                if booking is not None:
                    out.status = "booked"
                    out.booking.CopyFrom(m.booking_pb(booking))
            rules = self._rules(link, zone)
            window = _window(request.window) if request.HasField("window") else (now, now + rules.horizon)  # type: ignore[operator]
            found, _ = await slots.availability(
                conn,
                tenant,
                link_store.requirements(link.panel),
                window,
                rules,
                now,
                hold_key=str(link.id),
                limit=500,
            )
            hold = await booking_store.active_hold_of_link(conn, tenant, link.id)
        out.slots.extend(m.slot_pb(s) for s in found.slots)
        out.reasons.extend(found.reasons)
        if hold is not None:
            out.hold_id = str(hold.id)
        return out

    async def HoldSlot(self, request: pb.HoldSlotRequest, context: grpc.aio.ServicerContext):
        tenant, link_id = await self._verify(request.token, context)
        check = Check().require(request.HasField("start"), "start", "the start of a slot from GetLinkSlots")
        check.require(
            0 <= request.ttl_seconds <= MAX_HOLD_SECONDS, "ttl_seconds", f"0 (default) .. {MAX_HOLD_SECONDS}"
        )
        check.done()
        start = dt(request.start)
        ttl = timedelta(seconds=request.ttl_seconds or self.settings.hold_ttl_seconds)
        reqs: list[Requirement] = []
        rules: SlotRules | None = None
        try:
            async with tenant_tx(self.rt.pool, tenant) as conn:
                link = await self._link(conn, tenant, link_id, context, for_update=True)
                if link.booking_id is not None:
                    await context.abort(
                        grpc.StatusCode.FAILED_PRECONDITION,
                        "booking: already booked through this link; reschedule or cancel it",
                    )
                reqs, rules = link_store.requirements(link.panel), self._rules(link)
                begin, end, who = await slots.slot_at(
                    conn, tenant, reqs, start, rules, m.utc_now(), hold_key=str(link.id)
                )
                hold = await booking_store.insert_hold(conn, tenant, link.id, who, begin, end, ttl)
        except (slots.SlotTaken, booking_store.DoubleBooking):
            assert rules is not None
            alternatives = await self._alternatives(tenant, reqs, rules, str(link_id))
            await slots.abort_taken(context, "slot: no longer available; choose another", alternatives)
        return pb.HoldSlotResponse(
            hold_id=str(hold.id),
            expires_at=ts(hold.expires_at),
            start=ts(hold.start),
            end=ts(hold.end),
            interviewer_ids=hold.interviewer_ids,
        )

    async def ReleaseHold(self, request: pb.ReleaseHoldRequest, context: grpc.aio.ServicerContext):
        tenant, link_id = await self._verify(request.token, context)
        hold_id = _uuid(request.hold_id, "hold_id")
        async with tenant_tx(self.rt.pool, tenant) as conn:
            n = await booking_store.release_link_holds(conn, tenant, link_id, hold_id)
        return pb.ReleaseHoldResponse(released=n > 0)

    def _manage_url(self, tenant: str, b: booking_store.BookingRow) -> str:
        """The candidate's own page for a booking made through a link: reschedule or cancel it until the
        interview ends (a token of its own, so it outlives the scheduling request's expiry)."""
        if b.link_id is None:
            return ""
        valid_until = max(b.end, m.utc_now() + timedelta(hours=1))
        return link_url(self.settings, link_token(self.settings, tenant, b.link_id, valid_until))

    async def _invites(
        self, conn, tenant: str, b: booking_store.BookingRow, method: str
    ) -> tuple[bytes, list[pb.Invite]]:  # type: ignore[no-untyped-def]
        """One iCalendar object (stable UID, the booking's SEQUENCE) addressed to every attendee."""
        ics, who = await invitation(conn, tenant, b, self.settings.organizer_email, method)
        return ics, [pb.Invite(recipient=a.email, method=method, ics=ics) for a in who]

    async def ConfirmBooking(self, request: pb.ConfirmBookingRequest, context: grpc.aio.ServicerContext):
        tenant, link_id = await self._verify(request.token, context)
        check = Check().require(
            bool(request.hold_id) or request.HasField("start"),
            "hold_id",
            "a hold_id from HoldSlot, or a start to hold and confirm at once",
        )
        check.require(
            not request.candidate_time_zone or m.zone_ok(request.candidate_time_zone),
            "candidate_time_zone",
            "an IANA zone such as America/New_York",
        ).done()
        hold_id = _uuid(request.hold_id, "hold_id") if request.hold_id else None
        reqs: list[Requirement] = []
        rules: SlotRules | None = None
        try:
            async with tenant_tx(self.rt.pool, tenant) as conn:
                link = await self._link(conn, tenant, link_id, context, for_update=True)
                reqs, rules = link_store.requirements(link.panel), self._rules(link)
                if link.booking_id is not None:
                    existing = await booking_store.get_booking(conn, tenant, link.booking_id)
                    hold = await booking_store.get_hold(conn, tenant, hold_id) if hold_id else None
                    same = (
                        existing is not None
                        and existing.status == "scheduled"
                        and (
                            (hold is not None and hold.booking_id == existing.id)
                            or (request.HasField("start") and dt(request.start) == existing.start)
                        )
                    )
                    if not same:
                        await context.abort(
                            grpc.StatusCode.FAILED_PRECONDITION,
                            "booking: already booked through this link; reschedule or cancel it",
                        )
                    assert existing is not None
                    booking = existing  # a retried confirmation: the same answer again
                else:
                    booking = await self._confirm(conn, tenant, link, hold_id, request, rules, reqs, context)
                ics, invites = await self._invites(conn, tenant, booking, "REQUEST")
        except (slots.SlotTaken, booking_store.DoubleBooking):
            assert rules is not None
            alternatives = await self._alternatives(tenant, reqs, rules, str(link_id))
            await slots.abort_taken(context, "slot: taken by someone else; choose another", alternatives)
        return pb.ConfirmBookingResponse(booking=m.booking_pb(booking), invite_ics=ics, invites=invites)

    async def _confirm(
        self,
        conn,
        tenant: str,
        link: link_store.LinkRow,
        hold_id: uuid.UUID | None,
        request: pb.ConfirmBookingRequest,
        rules: SlotRules,
        reqs: list[Requirement],
        context,
    ) -> booking_store.BookingRow:  # type: ignore[no-untyped-def]
        now = m.utc_now()
        who: list[str] | None = None
        if hold_id is not None:
            hold = await booking_store.get_hold(conn, tenant, hold_id, for_update=True)
            if hold is None or hold.link_id != link.id:
                await context.abort(grpc.StatusCode.NOT_FOUND, "hold_id: no such hold for this link")
            assert hold is not None
            start = hold.start
            if hold.status == "active" and hold.expires_at > now:
                # The hold protected the slot: hand its commitments over to the booking.
                await booking_store.release_link_holds(conn, tenant, link.id, hold.id, status="confirmed")
                who, end = hold.interviewer_ids, hold.end
        else:
            start = dt(request.start)
            # The candidate's own earlier hold must not stand in the way of the time they now confirm.
            await booking_store.release_link_holds(conn, tenant, link.id)
        if who is None:  # no live hold: the slot must still be free
            start, end, who = await slots.slot_at(
                conn, tenant, reqs, start, rules, now, hold_key=str(link.id)
            )
        booking = await booking_store.insert_booking(
            conn,
            tenant_id=tenant,
            candidate_id=link.candidate_id,
            application_id=link.application_id,
            job_id=link.job_id,
            round=link.round,
            interview_type=link.settings.get("interview_type", ""),
            interviewer_ids=who,
            start=start,
            end=end,
            link_id=link.id,
            candidate_email=link.candidate_email,
            candidate_name=link.candidate_name,
            candidate_time_zone=request.candidate_time_zone,
        )
        await booking_store.release_link_holds(conn, tenant, link.id, status="released")
        if hold_id is not None:
            await conn.execute(
                "UPDATE holds SET booking_id = $3 WHERE tenant_id = $1 AND id = $2",
                tenant,
                hold_id,
                booking.id,
            )
        await link_store.set_link_booking(conn, tenant, link.id, booking.id)
        await booking_event(
            conn,
            tenant,
            "interview.scheduled",
            booking,
            organizer=self.settings.organizer_email,
            manage_url=self._manage_url(tenant, booking),
        )
        return booking

    # -- changes to a booking

    async def _booking_target(self, request, context) -> tuple[str, uuid.UUID, bool]:  # type: ignore[no-untyped-def]
        """(tenant, booking id, by candidate) from a token or from tenant_id + booking_id."""
        if request.token:
            tenant, link_id = await self._verify(request.token, context)
            async with tenant_tx(self.rt.pool, tenant) as conn:
                link = await self._link(conn, tenant, link_id, context)
            if link.booking_id is None:
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION, "booking: nothing booked through this link"
                )
            assert link.booking_id is not None
            return tenant, link.booking_id, True
        Check().require(bool(request.tenant_id), "tenant_id", "required (or a link token)").done()
        return request.tenant_id, _uuid(request.booking_id, "booking_id"), False

    async def RescheduleBooking(
        self, request: pb.RescheduleBookingRequest, context: grpc.aio.ServicerContext
    ):
        tenant, booking_id, _ = await self._booking_target(request, context)
        Check().require(
            request.HasField("start"), "start", "the new start (a slot from GetLinkSlots/FindSlots)"
        ).require(
            not request.candidate_time_zone or m.zone_ok(request.candidate_time_zone),
            "candidate_time_zone",
            "an IANA zone such as America/New_York",
        ).done()
        new_start = dt(request.start)
        reqs: list[Requirement] = []
        rules: SlotRules | None = None
        hold_key: str | None = None
        try:
            async with tenant_tx(self.rt.pool, tenant) as conn:
                current = await booking_store.get_booking(conn, tenant, booking_id, for_update=True)
                if current is None:
                    await context.abort(grpc.StatusCode.NOT_FOUND, f"booking {booking_id} not found")
                assert current is not None
                duration = current.end - current.start
                link = await link_store.get_link(conn, tenant, current.link_id) if current.link_id else None
                if link is not None:
                    reqs, rules, hold_key = (
                        link_store.requirements(link.panel),
                        self._rules(link),
                        str(link.id),
                    )
                else:
                    reqs = [all_of(*current.interviewer_ids)]
                    rules = SlotRules(
                        duration=duration, horizon=timedelta(days=self.settings.link_horizon_days)
                    )
                state = policy_domain.BookingState(
                    id=str(current.id),
                    start=current.start,
                    end=current.end,
                    status=current.status,
                    sequence=current.sequence,
                    reschedules=current.reschedules,
                )
                try:
                    policy_domain.reschedule(state, new_start, new_start + duration, self.policy, m.utc_now())
                except policy_domain.PolicyViolation as exc:
                    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{exc.field}: {exc.message}")
                start, end, who = await slots.slot_at(
                    conn,
                    tenant,
                    reqs,
                    new_start,
                    rules,
                    m.utc_now(),
                    hold_key=hold_key,
                    exclude_booking=current.id,
                )
                if request.candidate_time_zone:
                    await booking_store.set_candidate_zone(
                        conn, tenant, current.id, request.candidate_time_zone
                    )
                booking = await booking_store.move_booking(conn, tenant, current.id, who, start, end)
                await booking_event(
                    conn,
                    tenant,
                    "interview.rescheduled",
                    booking,
                    request.reason,
                    previous_start=current.start,
                    organizer=self.settings.organizer_email,
                    previous_interviewers=current.interviewer_ids,
                    manage_url=self._manage_url(tenant, booking),
                )
                ics, invites = await self._invites(conn, tenant, booking, "REQUEST")
        except (slots.SlotTaken, booking_store.DoubleBooking):
            assert rules is not None
            alternatives = await self._alternatives(tenant, reqs, rules, hold_key, exclude_booking=booking_id)
            await slots.abort_taken(
                context, "start: that time is not available; choose another", alternatives
            )
        return pb.RescheduleBookingResponse(booking=m.booking_pb(booking), invite_ics=ics, invites=invites)

    async def CancelBooking(self, request: pb.CancelBookingRequest, context: grpc.aio.ServicerContext):
        tenant, booking_id, by_candidate = await self._booking_target(request, context)
        async with tenant_tx(self.rt.pool, tenant) as conn:
            current = await booking_store.get_booking(conn, tenant, booking_id, for_update=True)
            if current is None:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"booking {booking_id} not found")
            assert current is not None
            if current.status != "scheduled":
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"booking {booking_id} is {current.status}, not scheduled",
                )
            if by_candidate:
                state = policy_domain.BookingState(
                    id=str(current.id),
                    start=current.start,
                    end=current.end,
                    status=current.status,
                    sequence=current.sequence,
                )
                decision = policy_domain.can_cancel(state, self.policy, m.utc_now())
                if not decision.allowed:
                    await context.abort(
                        grpc.StatusCode.FAILED_PRECONDITION, f"{decision.field}: {decision.reason}"
                    )
            booking = await booking_store.set_status(conn, tenant, booking_id, "cancelled", release=True)
            assert booking is not None
            if booking.link_id is not None:  # the candidate may pick a new time while the link lasts
                await link_store.set_link_booking(conn, tenant, booking.link_id, None)
            await booking_event(
                conn,
                tenant,
                "interview.cancelled",
                booking,
                request.reason,
                organizer=self.settings.organizer_email,
            )
            _, invites = await self._invites(conn, tenant, booking, "CANCEL")
        return pb.CancelBookingResponse(booking=m.booking_pb(booking), invites=invites)

    async def CompleteInterview(
        self, request: pb.CompleteInterviewRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        booking_id = _uuid(request.booking_id, "booking_id")
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            booking = await booking_store.set_status(
                conn, request.tenant_id, booking_id, "completed", release=False
            )
            if booking is None:
                current = await booking_store.get_booking(conn, request.tenant_id, booking_id)
                if current is None:
                    await context.abort(grpc.StatusCode.NOT_FOUND, f"booking {booking_id} not found")
                assert current is not None
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"booking {booking_id} is {current.status}, not scheduled",
                )
            assert booking is not None
            organizer = self.settings.organizer_email
            await booking_event(conn, request.tenant_id, "interview.completed", booking, organizer=organizer)
        return pb.CompleteInterviewResponse(booking=m.booking_pb(booking))

    async def ListBookings(self, request: pb.ListBookingsRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        limit = page_size(request.page.page_size)
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            rows = await booking_store.list_bookings(
                conn,
                request.tenant_id,
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
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            ids = sorted({i for r in config["panel"] for i in r["interviewer_ids"]})
            missing = sorted(set(ids) - set(await interviewer_store.get_many(conn, request.tenant_id, ids)))
            if missing:
                raise FieldViolations([("panel.panel", f"unknown interviewers: {', '.join(missing)}")])
            await link_store.set_job_panel(conn, request.tenant_id, p.job_id, config)
        return pb.SetJobPanelResponse(panel=self._panel_pb(p.job_id, config))

    async def GetJobPanel(self, request: pb.GetJobPanelRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            bool(request.job_id), "job_id", "required"
        ).done()
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            config = await link_store.get_job_panel(conn, request.tenant_id, request.job_id)
        if config is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"job {request.job_id} has no default panel")
        assert config is not None
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
