"""Request and response bodies of the interviews (bookings) resource and the scorecards they open."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import KwargDefinition

from interloop_gateway.wire import Page


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


class ActivityOut(msgspec.Struct):
    interviews_seen: int
    scorecards_submitted: int


InterviewsPage = Annotated[Page[InterviewOut], KwargDefinition(schema_component_key="InterviewsPage")]
ExpectedScorecardsPage = Annotated[
    Page[ExpectedScorecardOut], KwargDefinition(schema_component_key="ExpectedScorecardsPage")
]
