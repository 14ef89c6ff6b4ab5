"""protobuf <-> REST translation for interviews, interviewers and expected scorecards."""

from __future__ import annotations

from datetime import UTC

import msgspec
from interloop.scheduler.v1 import scheduler_pb2 as spb
from interloop.scorecard.v1 import scorecard_pb2 as cpb
from interloop_common.rpc import dt, ts

from interloop_gateway.domain.interviews import schemas


def _aware(value, field: str):  # type: ignore[no-untyped-def]
    from interloop_gateway.problems import problem

    if value.tzinfo is None:
        raise problem(
            400,
            f"{field} must carry a UTC offset, e.g. 2026-03-09T09:00:00-04:00",
            extra={"errors": [{"field": field, "detail": "timestamp without offset"}]},
        )
    return value.astimezone(UTC)


def interview_request(tenant_id: str, body: schemas.InterviewIn) -> spb.ScheduleInterviewRequest:
    return spb.ScheduleInterviewRequest(
        tenant_id=tenant_id,
        candidate_id=body.candidate_id,
        application_id=body.application_id,
        interviewer_ids=body.interviewer_ids,
        start=ts(_aware(body.start, "start")),
        end=ts(_aware(body.end, "end")),
        interview_type=body.interview_type,
        job_id=body.job_id,
        round=body.round,
        candidate_email=body.candidate_email,
        candidate_name=body.candidate_name,
        candidate_time_zone=body.candidate_time_zone,
    )


def interview_out(b: spb.Booking) -> dict:
    return msgspec.to_builtins(
        schemas.InterviewOut(
            id=b.id,
            candidate_id=b.candidate_id,
            application_id=b.application_id,
            interviewer_ids=list(b.interviewer_ids),
            start=dt(b.start),
            end=dt(b.end),
            status=b.status,
            sequence=b.sequence,
            interview_type=b.interview_type,
            job_id=b.job_id,
            round=b.round,
        )
    )


def interviewer_pb(body: schemas.InterviewerIn) -> spb.Interviewer:
    return spb.Interviewer(
        id=body.id,
        email=body.email,
        display_name=body.display_name,
        time_zone=body.time_zone,
        working_hours=[
            spb.WorkingHours(weekday=w.weekday, start=w.start, end=w.end) for w in body.working_hours
        ],
        daily_cap=body.daily_cap,
        weekly_cap=body.weekly_cap,
        interview_types=body.interview_types,
    )


def interviewer_out(i: spb.Interviewer) -> dict:
    return msgspec.to_builtins(
        schemas.InterviewerOut(
            id=i.id,
            email=i.email,
            display_name=i.display_name,
            time_zone=i.time_zone,
            working_hours=[schemas.WorkingHours(w.weekday, w.start, w.end) for w in i.working_hours],
            daily_cap=i.daily_cap,
            weekly_cap=i.weekly_cap,
            interview_types=list(i.interview_types),
        )
    )


def expected_out(e: cpb.ExpectedScorecard) -> dict:
    return msgspec.to_builtins(
        schemas.ExpectedScorecardOut(
            booking_id=e.booking_id,
            interviewer_id=e.interviewer_id,
            candidate_id=e.candidate_id,
            status=e.status,
            due_at=dt(e.due_at) if e.HasField("due_at") else None,
            job_id=e.job_id,
            round=e.round,
        )
    )
