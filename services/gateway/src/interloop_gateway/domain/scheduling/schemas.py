"""Request and response bodies of the scheduling resource (tenant API and the candidate's link API) and
of the interviewers it schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import KwargDefinition

from interloop_gateway.wire import Int32, LocalDate, Page, Timestamp


class Requirement(msgspec.Struct):
    interviewer_ids: list[str]
    k: Int32 = 0  # 0 = all of them


class Window(msgspec.Struct):
    start: str  # "HH:MM"
    end: str  # "HH:MM" ("24:00" = the day's end)


class WorkingHours(msgspec.Struct):
    weekday: Int32  # 1 = Monday .. 7 = Sunday
    start: str
    end: str


class DateOverride(msgspec.Struct):
    date: str  # local "YYYY-MM-DD"; no windows = day off
    windows: list[Window] = []


class Period(msgspec.Struct):
    start: datetime
    end: datetime


class Training(msgspec.Struct):
    interview_type: str
    stage: str  # shadow | reverse_shadow | trained


class CalendarSource(msgspec.Struct):
    kind: str = "manual"  # manual | google | graph | ics | caldav
    calendar_id: str = ""
    url: str = ""
    credential: str = ""
    user: str = ""


class InterviewerProfileIn(msgspec.Struct):
    email: str
    time_zone: str
    display_name: str = ""
    working_hours: list[WorkingHours] = []
    overrides: list[DateOverride] = []
    out_of_office: list[Period] = []
    daily_cap: Int32 = 0
    weekly_cap: Int32 = 0
    interview_types: list[str] = []
    training: list[Training] = []
    calendar: CalendarSource | None = None


class InterviewerIn(msgspec.Struct):
    """The older interviewer body (POST /v1/interviewers): no overrides, out-of-office, training or
    calendar source, so it cannot wipe them."""

    id: str
    email: str
    time_zone: str
    display_name: str = ""
    working_hours: list[WorkingHours] = []
    daily_cap: Int32 = 0
    weekly_cap: Int32 = 0
    interview_types: list[str] = []


class AvailabilityIn(msgspec.Struct):
    panel: list[Requirement]
    window_start: datetime
    window_end: datetime
    duration_minutes: Int32
    time_zone: str = "UTC"
    step_minutes: Int32 = 30
    buffer_before_minutes: Int32 = 0
    buffer_after_minutes: Int32 = 0
    min_notice_minutes: Int32 = 0
    horizon_minutes: Int32 = 0
    limit: Int32 = 0


class SlotSettings(msgspec.Struct):
    step_minutes: Int32 = 0
    buffer_before_minutes: Int32 = 0
    buffer_after_minutes: Int32 = 0
    min_notice_minutes: Int32 = 0
    horizon_days: Int32 = 0
    interview_type: str = ""


class LoopSpecIn(msgspec.Struct):
    """A whole loop one link books: the candidate picks an option and confirms every session at once."""

    sessions: list[LoopSessionIn]
    ordered: bool = True
    min_break_minutes: Int32 = 0
    max_break_minutes: Int32 = 0
    spread_days: bool = False
    max_days: Int32 = 0


class LinkIn(msgspec.Struct):
    candidate_id: str
    # a panel link: who (panel) and how long (duration_minutes); a loop link gives `loop` instead
    panel: list[Requirement] = []
    duration_minutes: Int32 = 0
    application_id: str = ""
    job_id: str = ""
    round: str = ""
    candidate_email: str = ""
    candidate_name: str = ""
    expires_in_hours: Int32 = 0
    settings: SlotSettings = msgspec.field(default_factory=SlotSettings)
    loop: LoopSpecIn | None = None


class JobPanelIn(msgspec.Struct):
    panel: list[Requirement]
    duration_minutes: Int32
    expires_in_hours: Int32 = 0
    settings: SlotSettings = msgspec.field(default_factory=SlotSettings)


class LoopSessionIn(msgspec.Struct):
    id: str
    duration_minutes: Int32
    pool: list[str] = []
    k: Int32 = 0
    fixed: list[str] = []
    interview_type: str = ""
    allow_shadow: bool = False


class LoopIn(msgspec.Struct):
    sessions: list[LoopSessionIn]
    window_start: datetime
    window_end: datetime
    time_zone: str = "UTC"
    ordered: bool = True
    min_break_minutes: Int32 = 0
    max_break_minutes: Int32 = 0
    spread_days: bool = False
    max_days: Int32 = 0
    step_minutes: Int32 = 30
    buffer_before_minutes: Int32 = 0
    buffer_after_minutes: Int32 = 0
    min_notice_minutes: Int32 = 0
    time_limit_seconds: float = 0.0
    objectives: list[str] = []


class LoopSessionBookingIn(msgspec.Struct):
    session_id: str
    start: datetime
    end: datetime
    interviewer_ids: list[str]  # shadows included, when they should attend
    interview_type: str = ""


class LoopBookingIn(msgspec.Struct):
    """A loop to book as one: every session or none (typically an option of POST /v1/scheduling/loops)."""

    candidate_id: str
    sessions: list[LoopSessionBookingIn]
    application_id: str = ""
    job_id: str = ""
    round: str = ""
    candidate_email: str = ""
    candidate_name: str = ""
    candidate_time_zone: str = ""
    buffer_before_minutes: Int32 = 0
    buffer_after_minutes: Int32 = 0
    # book despite working hours, out of office, calendars or caps: why (recorded on each session)
    override_reason: str = ""
    # the proposal the sessions were chosen from: a conflict then answers fresh options for it
    proposal: LoopIn | None = None


class RefreshIn(msgspec.Struct):
    interviewer_ids: list[str] = []


class HoldIn(msgspec.Struct):
    start: datetime
    ttl_seconds: Int32 = 0


class ConfirmIn(msgspec.Struct):
    hold_id: str = ""
    start: datetime | None = None
    # a loop link: the sessions of the option chosen from the slots' loop_options, booked together
    sessions: list[LoopSessionBookingIn] = []


class RescheduleIn(msgspec.Struct):
    start: datetime
    reason: str = ""


class CancelIn(msgspec.Struct):
    reason: str = ""


# -- responses


class InterviewerOut(msgspec.Struct):
    """An interviewer as the older endpoint and the list show it."""

    id: str
    email: str
    time_zone: str
    display_name: str
    working_hours: list[WorkingHours]
    daily_cap: int
    weekly_cap: int
    interview_types: list[str]


InterviewersPage = Annotated[Page[InterviewerOut], KwargDefinition(schema_component_key="InterviewersPage")]


class TimeRangeOut(msgspec.Struct):
    start: Timestamp
    end: Timestamp


class CalendarOut(msgspec.Struct):
    """The calendar source without its credential (never returned)."""

    kind: str
    calendar_id: str
    url: str
    user: str


class InterviewerProfileOut(msgspec.Struct):
    id: str
    email: str
    display_name: str
    time_zone: str
    working_hours: list[WorkingHours]
    overrides: list[DateOverride]
    out_of_office: list[TimeRangeOut]
    daily_cap: int
    weekly_cap: int
    interview_types: list[str]
    training: list[Training]
    calendar: CalendarOut
    # known | unknown (with calendar_reason)
    calendar_status: str
    calendar_reason: str


class SlotOut(msgspec.Struct):
    """A slot in UTC and in the zone asked for."""

    start: Timestamp
    end: Timestamp
    local_start: Timestamp
    local_end: Timestamp
    local_date: LocalDate
    interviewer_ids: list[str]


class AvailabilityOut(msgspec.Struct):
    slots: list[SlotOut]
    unknown_interviewer_ids: list[str]
    reasons: list[str]


class ShadowOut(msgspec.Struct):
    interviewer_id: str
    stage: str


class LoopSessionOut(msgspec.Struct):
    session_id: str
    start: Timestamp
    end: Timestamp
    local_start: Timestamp
    interviewer_ids: list[str]
    shadows: list[ShadowOut]


class LoopOptionOut(msgspec.Struct):
    objectives: list[str]
    # OPTIMAL | FEASIBLE
    status: str
    days: int
    sessions: list[LoopSessionOut]


class LoopOut(msgspec.Struct):
    options: list[LoopOptionOut]
    # why there is no option, when there is none
    reason: str | None
    unknown_interviewer_ids: list[str]
    notes: list[str]


class CalendarRefreshOut(msgspec.Struct):
    interviewer_id: str
    status: str
    reason: str
    busy_blocks: int


class CalendarRefreshesOut(msgspec.Struct):
    results: list[CalendarRefreshOut]


class InterviewerDeclineOut(msgspec.Struct):
    booking_id: str
    interviewer_id: str
    # who could stand in: the same pool, free for the whole interview, least loaded first
    replacement_interviewer_ids: list[str]
    start: str
    end: str
    seen_at: str


class InterviewerDeclinesOut(msgspec.Struct):
    # open tasks, oldest first (at most 500)
    declines: list[InterviewerDeclineOut]


class JobPanelOut(msgspec.Struct):
    job_id: str
    panel: list[Requirement]
    duration_minutes: int
    expires_in_hours: int
    settings: SlotSettings


class LinkOut(msgspec.Struct):
    link_id: str
    token: str
    url: str
    expires_at: Timestamp


class BookingOut(msgspec.Struct):
    id: str
    candidate_id: str
    application_id: str
    interviewer_ids: list[str]
    start: Timestamp
    end: Timestamp
    status: str
    sequence: int
    reschedules: int
    interview_type: str
    job_id: str
    round: str
    link_id: str
    candidate_time_zone: str | None
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    override: OverrideOut | None = None  # the audit of a booking made despite scheduling rules
    loop_id: str | None = None
    loop_session_id: str | None = None


class OverrideOut(msgspec.Struct):
    reason: str
    actor: str
    rules: list[str]


class LoopBookingOut(msgspec.Struct):
    loop_id: str
    bookings: list[BookingOut]  # one per session, in time order


class InviteOut(msgspec.Struct):
    recipient: str
    # REQUEST | CANCEL
    method: str
    ics: str


class BookingInvitesOut(msgspec.Struct):
    """A booking made or moved, with the invite (ICS) and every invite sent."""

    booking: BookingOut
    invite_ics: str
    invites: list[InviteOut]
    bookings: list[BookingOut] = []  # a loop link: every session's booking (booking is the first)


class CancellationOut(msgspec.Struct):
    booking: BookingOut
    invites: list[InviteOut]


class LinkSlotsOut(msgspec.Struct):
    status: str
    candidate_name: str
    round: str
    duration_minutes: int
    expires_at: Timestamp
    time_zone: str
    hold_id: str | None
    booking: BookingOut | None
    slots: list[SlotOut]
    reasons: list[str]
    loop_options: list[LoopOptionOut] = []  # a loop link: ranked options for the whole loop


class HoldOut(msgspec.Struct):
    hold_id: str
    expires_at: Timestamp
    start: Timestamp
    end: Timestamp
    interviewer_ids: list[str]
