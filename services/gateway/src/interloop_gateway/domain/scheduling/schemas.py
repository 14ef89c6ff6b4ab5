"""Request bodies of the scheduling resource (tenant API and the candidate's link API)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class Requirement(msgspec.Struct):
    interviewer_ids: list[str]
    k: int = 0  # 0 = all of them


class Window(msgspec.Struct):
    start: str  # "HH:MM"
    end: str  # "HH:MM" ("24:00" = the day's end)


class WorkingHours(msgspec.Struct):
    weekday: int  # 1 = Monday .. 7 = Sunday
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
    daily_cap: int = 0
    weekly_cap: int = 0
    interview_types: list[str] = []
    training: list[Training] = []
    calendar: CalendarSource | None = None


class AvailabilityIn(msgspec.Struct):
    panel: list[Requirement]
    window_start: datetime
    window_end: datetime
    duration_minutes: int
    time_zone: str = "UTC"
    step_minutes: int = 30
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    horizon_minutes: int = 0
    limit: int = 0


class SlotSettings(msgspec.Struct):
    step_minutes: int = 0
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    horizon_days: int = 0
    interview_type: str = ""


class LinkIn(msgspec.Struct):
    candidate_id: str
    panel: list[Requirement]
    duration_minutes: int
    application_id: str = ""
    job_id: str = ""
    round: str = ""
    candidate_email: str = ""
    candidate_name: str = ""
    expires_in_hours: int = 0
    settings: SlotSettings = msgspec.field(default_factory=SlotSettings)


class JobPanelIn(msgspec.Struct):
    panel: list[Requirement]
    duration_minutes: int
    expires_in_hours: int = 0
    settings: SlotSettings = msgspec.field(default_factory=SlotSettings)


class LoopSessionIn(msgspec.Struct):
    id: str
    duration_minutes: int
    pool: list[str] = []
    k: int = 0
    fixed: list[str] = []
    interview_type: str = ""
    allow_shadow: bool = False


class LoopIn(msgspec.Struct):
    sessions: list[LoopSessionIn]
    window_start: datetime
    window_end: datetime
    time_zone: str = "UTC"
    ordered: bool = True
    min_break_minutes: int = 0
    max_break_minutes: int = 0
    spread_days: bool = False
    max_days: int = 0
    step_minutes: int = 30
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    time_limit_seconds: float = 0.0
    objectives: list[str] = []


class RefreshIn(msgspec.Struct):
    interviewer_ids: list[str] = []


class HoldIn(msgspec.Struct):
    start: datetime
    ttl_seconds: int = 0


class ConfirmIn(msgspec.Struct):
    hold_id: str = ""
    start: datetime | None = None


class RescheduleIn(msgspec.Struct):
    start: datetime
    reason: str = ""


class CancelIn(msgspec.Struct):
    reason: str = ""
