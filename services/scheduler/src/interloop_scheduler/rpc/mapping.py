"""protobuf <-> stored rows and domain objects of the scheduler API, validating what comes in."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop_common.rpc import Check, dt, ts

from interloop_scheduler.domain.availability import Availability, Requirement, Slot, SlotRules
from interloop_scheduler.domain.loops import Loop, LoopOption, LoopRules, ScheduledSession
from interloop_scheduler.domain.model import SchedulingError, Stage
from interloop_scheduler.domain.policy import Placement
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store import links as link_store
from interloop_scheduler.store.bookings import BookingRow, HoldRow
from interloop_scheduler.store.links import LinkRow
from interloop_scheduler.usecases.availability import SlotConflict, scheduling_error
from interloop_scheduler.usecases.bookings import Invites, Override
from interloop_scheduler.usecases.calendars import RefreshResult
from interloop_scheduler.usecases.loops import LoopConflict, SessionBooking

DEFAULT_URLS = {
    "google": "https://www.googleapis.com/calendar/v3",
    "graph": "https://graph.microsoft.com/v1.0",
}
CALENDAR_KINDS = ("", "manual", *interviewer_store.EXTERNAL_SOURCES)
_STAGE_TO_PB = {
    Stage.SHADOW: pb.TRAINING_STAGE_SHADOW,
    Stage.REVERSE_SHADOW: pb.TRAINING_STAGE_REVERSE_SHADOW,
    Stage.TRAINED: pb.TRAINING_STAGE_TRAINED,
}
_PB_TO_STAGE = {v: k for k, v in _STAGE_TO_PB.items()}


def zone_ok(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def booking_pb(b: BookingRow) -> pb.Booking:
    return pb.Booking(
        id=str(b.id),
        candidate_id=b.candidate_id,
        application_id=b.application_id,
        interviewer_ids=b.interviewer_ids,
        start=ts(b.start),
        end=ts(b.end),
        status=b.status,
        sequence=b.sequence,
        interview_type=b.interview_type,
        job_id=b.job_id,
        round=b.round,
        reschedules=b.reschedules,
        link_id=str(b.link_id or ""),
        candidate_email=b.candidate_email,
        candidate_time_zone=b.candidate_time_zone,
        buffer_before_minutes=int(b.buffer_before.total_seconds() // 60),
        buffer_after_minutes=int(b.buffer_after.total_seconds() // 60),
        override=pb.BookingOverride(reason=b.override_reason, actor=b.override_by, rules=b.override_rules)
        if b.override_reason
        else None,
        loop_id=str(b.loop_id or ""),
        loop_session_id=b.loop_session_id,
    )


def override_of(o: pb.BookingOverride, field: str = "override") -> Override | None:
    """A request's override: None when absent; a reason is what makes it one."""
    if not (o.reason or o.actor):
        return None
    Check().require(bool(o.reason.strip()), f"{field}.reason", "why the rules may be broken").done()
    return Override(o.reason.strip(), o.actor)


def interviewer_pb(i: interviewer_store.InterviewerRow) -> pb.Interviewer:
    cal = i.calendar
    return pb.Interviewer(
        id=i.id,
        email=i.email,
        display_name=i.display_name,
        time_zone=i.time_zone,
        working_hours=[pb.WorkingHours(**w) for w in i.working_hours],
        daily_cap=i.daily_cap,
        weekly_cap=i.weekly_cap,
        interview_types=i.interview_types,
        overrides=[
            pb.DateOverride(date=d, windows=[pb.TimeWindow(**w) for w in ws])
            for d, ws in sorted(i.overrides.items())
        ],
        out_of_office=[
            {"start": ts(datetime.fromisoformat(o["start"])), "end": ts(datetime.fromisoformat(o["end"]))}
            for o in i.out_of_office
        ],
        training=[
            pb.Training(interview_type=t, stage=_STAGE_TO_PB[Stage(s)]) for t, s in sorted(i.training.items())
        ],
        calendar=pb.CalendarSource(
            kind=cal.get("kind", "manual") or "manual",
            calendar_id=cal.get("calendar_id", ""),
            url=cal.get("url", ""),
            user=cal.get("user", ""),
        ),  # credential is write-only
        calendar_status=i.calendar_status,
        calendar_reason=i.calendar_reason,
    )


def interviewer_row(i: pb.Interviewer) -> interviewer_store.InterviewerRow:
    """Validates an Interviewer message (every bad field at once) and returns the row to store."""
    check = Check()
    check.require(bool(i.id), "interviewer.id", "required")
    check.require("@" in i.email, "interviewer.email", "an email address such as ada@example.com")
    check.require(zone_ok(i.time_zone), "interviewer.time_zone", "an IANA zone such as Europe/London")
    check.require(
        i.daily_cap >= 0 and i.weekly_cap >= 0, "interviewer.daily_cap", "caps must be >= 0 (0 = no cap)"
    )
    for n, w in enumerate(i.working_hours):
        check.require(
            1 <= w.weekday <= 7, f"interviewer.working_hours[{n}].weekday", "1 (Monday) .. 7 (Sunday)"
        )
        check.require(
            len(w.start) == 5 and len(w.end) == 5 and w.start < w.end,
            f"interviewer.working_hours[{n}]",
            "start and end as HH:MM with start < end",
        )
    for n, o in enumerate(i.overrides):
        try:
            date.fromisoformat(o.date)
        except ValueError:
            check.require(False, f"interviewer.overrides[{n}].date", "a local date like 2026-03-09")
    for n, r in enumerate(i.out_of_office):
        check.require(
            r.end.seconds > r.start.seconds, f"interviewer.out_of_office[{n}]", "end must be after start"
        )
    for n, t in enumerate(i.training):
        check.require(bool(t.interview_type), f"interviewer.training[{n}].interview_type", "required")
        check.require(
            t.stage in _PB_TO_STAGE,
            f"interviewer.training[{n}].stage",
            "TRAINING_STAGE_SHADOW, _REVERSE_SHADOW or _TRAINED",
        )
    kind = i.calendar.kind.lower()
    check.require(kind in CALENDAR_KINDS, "interviewer.calendar.kind", "manual, google, graph, ics or caldav")
    if kind == "ics" or kind == "caldav":
        check.require(
            i.calendar.url.startswith(("http://", "https://")),
            "interviewer.calendar.url",
            "the feed (ics) or server (caldav) URL, http(s)://...",
        )
    if kind in ("google", "graph"):
        check.require(bool(i.calendar.credential), "interviewer.calendar.credential", "an OAuth bearer token")
    check.done()
    trained = set(i.interview_types)
    training = {t.interview_type: _PB_TO_STAGE[t.stage].value for t in i.training}
    trained |= {t for t, s in training.items() if s == Stage.TRAINED.value}
    calendar: dict[str, str] = {}
    if kind not in ("", "manual"):
        calendar = {
            "kind": kind,
            "calendar_id": i.calendar.calendar_id or i.email,
            "url": i.calendar.url or DEFAULT_URLS.get(kind, ""),
            "credential": i.calendar.credential,
            "user": i.calendar.user,
        }
    row = interviewer_store.InterviewerRow(
        id=i.id,
        email=i.email,
        display_name=i.display_name,
        time_zone=i.time_zone,
        working_hours=[{"weekday": w.weekday, "start": w.start, "end": w.end} for w in i.working_hours],
        daily_cap=i.daily_cap,
        weekly_cap=i.weekly_cap,
        interview_types=sorted(trained),
        overrides={o.date: [{"start": w.start, "end": w.end} for w in o.windows] for o in i.overrides},
        out_of_office=[
            {"start": dt(r.start).isoformat(), "end": dt(r.end).isoformat()} for r in i.out_of_office
        ],
        training={t: s for t, s in training.items() if s != Stage.TRAINED.value},
        calendar=calendar,
    )
    try:
        interviewer_store.to_domain(row)  # the same parse availability will do, so errors surface now
    except SchedulingError as exc:
        raise scheduling_error(exc, "interviewer.") from None
    return row


def panel_dicts(panel: list[pb.PanelRequirement], field: str = "panel") -> list[dict]:
    check = Check().require(len(panel) > 0, field, "at least one requirement (interviewer_ids and k)")
    seen: set[str] = set()
    for n, p in enumerate(panel):
        check.require(len(p.interviewer_ids) > 0, f"{field}[{n}].interviewer_ids", "at least one interviewer")
        check.require(
            0 <= p.k <= len(p.interviewer_ids),
            f"{field}[{n}].k",
            f"between 0 (all of them) and {len(p.interviewer_ids)}",
        )
        dup = seen & set(p.interviewer_ids)
        check.require(
            not dup, f"{field}[{n}].interviewer_ids", f"{sorted(dup)} already in another requirement"
        )
        seen |= set(p.interviewer_ids)
    check.done()
    return [{"interviewer_ids": list(dict.fromkeys(p.interviewer_ids)), "k": p.k} for p in panel]


def panel_pb(panel: list[dict]) -> list[pb.PanelRequirement]:
    return [pb.PanelRequirement(interviewer_ids=p["interviewer_ids"], k=p.get("k", 0)) for p in panel]


def requirements_pb(panel: list[pb.PanelRequirement]) -> list[Requirement]:
    return [
        Requirement(tuple(p.interviewer_ids), p.k or None, name=f"panel[{n}]") for n, p in enumerate(panel)
    ]


def settings_dict(s: pb.SlotSettings, field: str = "settings") -> dict:
    check = Check()
    for name in (
        "step_minutes",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "min_notice_minutes",
        "horizon_days",
    ):
        check.require(getattr(s, name) >= 0, f"{field}.{name}", "must be >= 0 (0 = the default)")
    check.require(s.step_minutes == 0 or s.step_minutes >= 5, f"{field}.step_minutes", "at least 5 minutes")
    check.done()
    return {
        "step_minutes": s.step_minutes,
        "buffer_before_minutes": s.buffer_before_minutes,
        "buffer_after_minutes": s.buffer_after_minutes,
        "min_notice_minutes": s.min_notice_minutes,
        "horizon_days": s.horizon_days,
        "interview_type": s.interview_type,
    }


def settings_pb(d: dict) -> pb.SlotSettings:
    return pb.SlotSettings(**{k: v for k, v in d.items() if k in pb.SlotSettings.DESCRIPTOR.fields_by_name})


def slot_pb(s: Slot) -> pb.Slot:
    return pb.Slot(start=ts(s.start), end=ts(s.end), interviewer_ids=list(s.interviewers))


def loop_option_pb(o: LoopOption) -> pb.LoopOption:
    return pb.LoopOption(
        objectives=list(o.objectives),
        status=pb.SOLVE_STATUS_OPTIMAL if o.status == "OPTIMAL" else pb.SOLVE_STATUS_FEASIBLE,
        days=o.days,
        sessions=[
            pb.ScheduledSession(
                session_id=s.session_id,
                start=ts(s.start),
                end=ts(s.end),
                interviewer_ids=list(s.interviewers),
                shadows=[pb.Shadow(interviewer_id=t, stage=_STAGE_TO_PB[st]) for t, st in s.shadows],
            )
            for s in o.sessions
        ],
    )


def invites_pb(sent: Invites | list[Invites]) -> list[pb.Invite]:
    every = sent if isinstance(sent, list) else [sent]
    return [pb.Invite(recipient=a.email, method=i.method, ics=i.ics) for i in every for a in i.attendees]


async def abort_slot_conflict(context: grpc.aio.ServicerContext, exc: SlotConflict) -> None:
    """ABORTED with a `SlotConflict` detail carrying fresh alternatives (REST: 409 problem+json). The one
    refusal the common interceptor cannot send: its details are scheduler protobuf."""
    packed = any_pb2.Any()
    packed.Pack(pb.SlotConflict(alternatives=[slot_pb(s) for s in exc.alternatives]))
    status = status_pb2.Status(code=code_pb2.ABORTED, message=exc.message, details=[packed])
    await context.abort_with_status(rpc_status.to_status(status))


def find_rules(r: pb.FindSlotsRequest, zone: str) -> SlotRules:
    return SlotRules(
        duration=timedelta(minutes=r.duration_minutes),
        step=timedelta(minutes=r.step_minutes or 30),
        buffer_before=timedelta(minutes=r.buffer_before_minutes),
        buffer_after=timedelta(minutes=r.buffer_after_minutes),
        min_notice=timedelta(minutes=r.min_notice_minutes),
        horizon=timedelta(minutes=r.horizon_minutes) if r.horizon_minutes else None,
        candidate_zone=zone,
    )


def loop_dict(r: pb.ProposeLoopRequest | pb.LoopSpec) -> dict:
    """A loop's sessions and shape as stored on a loop link (both messages carry these fields)."""
    return {
        "sessions": [
            {
                "id": s.id,
                "duration_minutes": s.duration_minutes,
                "pool": list(s.pool),
                "k": s.k,
                "fixed": list(s.fixed),
                "interview_type": s.interview_type,
                "allow_shadow": s.allow_shadow,
            }
            for s in r.sessions
        ],
        "ordered": r.ordered,
        "min_break_minutes": r.min_break_minutes,
        "max_break_minutes": r.max_break_minutes,
        "spread_days": r.spread_days,
        "max_days": r.max_days,
    }


def loop_pb(r: pb.ProposeLoopRequest | pb.LoopSpec) -> Loop:
    loop = link_store.loop_of({"loop": loop_dict(r)})
    assert loop is not None
    return loop


def loop_rules(r: pb.ProposeLoopRequest, zone: str, cap_seconds: float) -> LoopRules:
    """The solver's rules; the time limit asked for is capped by the service's own."""
    return LoopRules(
        step=timedelta(minutes=r.step_minutes or 30),
        candidate_zone=zone,
        buffer_before=timedelta(minutes=r.buffer_before_minutes),
        buffer_after=timedelta(minutes=r.buffer_after_minutes),
        min_notice=timedelta(minutes=r.min_notice_minutes),
        time_limit=min(r.time_limit_seconds or cap_seconds, cap_seconds),
        objectives=tuple(r.objectives) or LoopRules().objectives,
    )


def check_sessions(check: Check, sessions, prefix: str = "") -> Check:  # type: ignore[no-untyped-def]
    for n, s in enumerate(sessions):
        at = f"{prefix}sessions[{n}]"
        check.require(bool(s.id), f"{at}.id", "required")
        check.require(s.duration_minutes > 0, f"{at}.duration_minutes", "must be > 0")
        check.require(len(s.pool) + len(s.fixed) > 0, f"{at}.pool", "a pool or fixed interviewers")
        check.require(0 <= s.k <= len(s.pool), f"{at}.k", f"between 0 and {len(s.pool)}")
    return check


MAX_BUFFER_MINUTES = 24 * 60
# Bookings live between these (the rules look days and weeks around a booking: no date arithmetic may
# leave the datetime range however far out a caller's timestamps are).
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def check_when(check: Check, start: datetime, end: datetime, field: str) -> Check:
    inside = EARLIEST <= start and end <= LATEST
    return check.require(inside, field, f"between {EARLIEST.date()} and {LATEST.date()}")


def check_buffers(check: Check, r: pb.ScheduleInterviewRequest | pb.BookLoopRequest) -> Check:
    for name in ("buffer_before_minutes", "buffer_after_minutes"):
        value = getattr(r, name)
        check.require(0 <= value <= MAX_BUFFER_MINUTES, name, f"0 .. {MAX_BUFFER_MINUTES} minutes")
    return check


def loop_sessions(r: pb.BookLoopRequest) -> list[SessionBooking]:
    """The sessions to book, validated together: ids, times, interviewers, and a candidate who is never in
    two sessions at once."""
    check = check_buffers(Check().require(len(r.sessions) > 0, "sessions", "at least one session"), r)
    for n, s in enumerate(r.sessions):
        check.require(bool(s.session_id), f"sessions[{n}].session_id", "required")
        check.require(s.end.seconds > s.start.seconds, f"sessions[{n}].end", "must be after start")
        check.require(
            len(s.interviewer_ids) > 0, f"sessions[{n}].interviewer_ids", "at least one interviewer"
        )
        check_when(check, dt(s.start), dt(s.end), f"sessions[{n}].start")
    ids = [s.session_id for s in r.sessions]
    check.require(len(set(ids)) == len(ids), "sessions", "session ids must be unique")
    check.done()
    before, after = timedelta(minutes=r.buffer_before_minutes), timedelta(minutes=r.buffer_after_minutes)
    out = sorted(
        (
            SessionBooking(
                s.session_id,
                Placement(
                    tuple(dict.fromkeys(s.interviewer_ids)),
                    dt(s.start),
                    dt(s.end),
                    before,
                    after,
                    s.session_id,
                ),
                s.interview_type,
            )
            for s in r.sessions
        ),
        key=lambda b: b.placement.start,
    )
    for a, b in zip(out, out[1:], strict=False):
        check.require(
            b.placement.start >= a.placement.end,
            f"sessions[{ids.index(b.session_id)}].start",
            f"the candidate is still in session {a.session_id} until {a.placement.end.isoformat()}",
        )
    check.done()
    return out


def chosen_sessions(sessions) -> list[ScheduledSession]:  # type: ignore[no-untyped-def]
    """The sessions a candidate chose (an option of GetLinkSlots), validated as times."""
    check = Check()
    for n, s in enumerate(sessions):
        check.require(bool(s.session_id), f"loop_sessions[{n}].session_id", "required")
        check.require(s.end.seconds > s.start.seconds, f"loop_sessions[{n}].end", "must be after start")
        check_when(check, dt(s.start), dt(s.end), f"loop_sessions[{n}].start")
    check.done()
    return [
        ScheduledSession(s.session_id, dt(s.start), dt(s.end), tuple(sorted(set(s.interviewer_ids))))
        for s in sessions
    ]


async def abort_loop_conflict(context: grpc.aio.ServicerContext, exc: LoopConflict) -> None:
    """ABORTED with a `LoopConflict` detail: the session that failed, its rules, fresh options."""
    packed = any_pb2.Any()
    packed.Pack(
        pb.LoopConflict(
            session_id=exc.session_id,
            rules=exc.rules,
            alternatives=[loop_option_pb(o) for o in exc.alternatives],
        )
    )
    status = status_pb2.Status(code=code_pb2.ABORTED, message=exc.message, details=[packed])
    await context.abort_with_status(rpc_status.to_status(status))


def refresh_pb(results: list[RefreshResult]) -> pb.RefreshCalendarsResponse:
    return pb.RefreshCalendarsResponse(
        results=[
            pb.CalendarRefresh(
                interviewer_id=r.interviewer_id, status=r.status, reason=r.reason, busy_blocks=r.busy_blocks
            )
            for r in results
        ]
    )


def link_slots_pb(
    link: LinkRow,
    booking: BookingRow | None,
    found: Availability,
    hold: HoldRow | None,
    options: list[LoopOption] = (),  # type: ignore[assignment]
) -> pb.GetLinkSlotsResponse:
    out = pb.GetLinkSlotsResponse(
        candidate_id=link.candidate_id,
        duration_minutes=link.duration_minutes,
        expires_at=ts(link.expires_at),
        status="booked" if booking is not None else "open",
        candidate_name=link.candidate_name,
        round=link.round,
        slots=[slot_pb(s) for s in found.slots],
        reasons=list(found.reasons),
        hold_id=str(hold.id) if hold is not None else "",
        loop_options=[loop_option_pb(o) for o in options],
    )
    if booking is not None:
        out.booking.CopyFrom(booking_pb(booking))
    return out
