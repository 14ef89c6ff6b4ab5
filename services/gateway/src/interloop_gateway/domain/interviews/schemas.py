"""Request and response bodies of the interviews and interviewers resources."""

from __future__ import annotations

from datetime import datetime

import msgspec


class WorkingHours(msgspec.Struct):
    weekday: int
    start: str
    end: str


class InterviewerIn(msgspec.Struct):
    id: str
    email: str
    time_zone: str
    display_name: str = ""
    working_hours: list[WorkingHours] = []
    daily_cap: int = 0
    weekly_cap: int = 0
    interview_types: list[str] = []


class InterviewerOut(InterviewerIn):
    pass


class InterviewIn(msgspec.Struct):
    candidate_id: str
    interviewer_ids: list[str]
    start: datetime
    end: datetime
    application_id: str = ""
    interview_type: str = ""
    job_id: str = ""
    round: str = ""
    # When given, the candidate gets the invite (and reminders), with times in candidate_time_zone.
    candidate_email: str = ""
    candidate_name: str = ""
    candidate_time_zone: str = ""


class InterviewOut(msgspec.Struct):
    id: str
    candidate_id: str
    application_id: str
    interviewer_ids: list[str]
    start: datetime
    end: datetime
    status: str
    sequence: int
    interview_type: str
    job_id: str
    round: str


class ExpectedScorecardOut(msgspec.Struct):
    booking_id: str
    interviewer_id: str
    candidate_id: str
    status: str
    due_at: datetime | None
    job_id: str
    round: str


class Page(msgspec.Struct):
    items: list
    next_cursor: str | None


class ActivityOut(msgspec.Struct):
    interviews_seen: int
    scorecards_submitted: int
