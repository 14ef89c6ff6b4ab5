"""protobuf <-> REST translation for interviews and the scorecards they open."""

from __future__ import annotations

from interloop.scheduler.v1 import scheduler_pb2 as spb
from interloop.scorecard.v1 import scorecard_pb2 as cpb
from interloop_common.rpc import dt, ts

from interloop_gateway.domain.interviews import schemas
from interloop_gateway.domain.scheduling.services import override_out
from interloop_gateway.wire import aware


def interview_request(
    tenant_id: str, body: schemas.InterviewIn, actor: str = ""
) -> spb.ScheduleInterviewRequest:
    return spb.ScheduleInterviewRequest(
        tenant_id=tenant_id,
        candidate_id=body.candidate_id,
        application_id=body.application_id,
        interviewer_ids=body.interviewer_ids,
        start=ts(aware(body.start, "start")),
        end=ts(aware(body.end, "end")),
        interview_type=body.interview_type,
        job_id=body.job_id,
        round=body.round,
        candidate_email=body.candidate_email,
        candidate_name=body.candidate_name,
        candidate_time_zone=body.candidate_time_zone,
        buffer_before_minutes=body.buffer_before_minutes,
        buffer_after_minutes=body.buffer_after_minutes,
        override=spb.BookingOverride(reason=body.override_reason, actor=actor)
        if body.override_reason
        else None,
    )


def interview_out(b: spb.Booking) -> schemas.InterviewOut:
    return schemas.InterviewOut(
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
        buffer_before_minutes=b.buffer_before_minutes,
        buffer_after_minutes=b.buffer_after_minutes,
        override=override_out(b),
        loop_id=b.loop_id or None,
        loop_session_id=b.loop_session_id or None,
    )


def expected_out(e: cpb.ExpectedScorecard) -> schemas.ExpectedScorecardOut:
    return schemas.ExpectedScorecardOut(
        booking_id=e.booking_id,
        interviewer_id=e.interviewer_id,
        candidate_id=e.candidate_id,
        status=e.status,
        due_at=dt(e.due_at) if e.HasField("due_at") else None,
        job_id=e.job_id,
        round=e.round,
    )
