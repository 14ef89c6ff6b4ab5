"""Request and response bodies of the interviews (bookings) resource and the scorecards they open."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import KwargDefinition

from interloop_gateway.domain.scheduling.schemas import OverrideOut
from interloop_gateway.wire import Int32, Page


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
    # Free time each interviewer keeps around the interview (never double-booked, like the interview).
    buffer_before_minutes: Int32 = 0
    buffer_after_minutes: Int32 = 0
    # Book despite working hours, out of office, calendars or caps: why (recorded on the interview with
    # the caller and the rules it broke). Without it a broken rule is 409 naming the rule.
    override_reason: str = ""


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
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    override: OverrideOut | None = None
    loop_id: str | None = None
    loop_session_id: str | None = None


class ExpectedScorecardOut(msgspec.Struct):
    booking_id: str
    interviewer_id: str
    candidate_id: str
    status: str
    due_at: datetime | None
    job_id: str
    round: str


class ActivityOut(msgspec.Struct):
    interviews_seen: int
    scorecards_submitted: int


InterviewsPage = Annotated[Page[InterviewOut], KwargDefinition(schema_component_key="InterviewsPage")]
ExpectedScorecardsPage = Annotated[
    Page[ExpectedScorecardOut], KwargDefinition(schema_component_key="ExpectedScorecardsPage")
]
