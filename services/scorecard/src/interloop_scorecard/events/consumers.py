"""Inbox handlers: interview events open, time and cancel expected scorecards; HRIS outcomes are recorded;
a candidate erased in the ATS has the free text about them and their demographics erased."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from interloop.events.v1 import ats_pb2, interview_pb2
from interloop_common.events import Event, MalformedEvent
from interloop_common.rpc import dt

from interloop_scorecard.store import erasure, expected, outcomes


def _contacts(attendees) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    return [(a.id, a.email, a.name, a.time_zone) for a in attendees if a.role == "interviewer" and a.id]


def handlers(feedback_due_hours: int) -> dict:
    due = timedelta(hours=feedback_due_hours)

    async def scheduled(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(interview_pb2.InterviewScheduled)
        end = dt(msg.end)
        await expected.open_expected(
            conn,
            event.tenant_id,
            booking_id=msg.booking_id,
            interviewer_ids=list(msg.interviewer_ids),
            candidate_id=msg.candidate_id,
            job_id=msg.job_id,
            round=msg.round,
            interview_end=end,
            due_at=end + due,
        )
        await expected.set_contacts(conn, event.tenant_id, msg.booking_id, _contacts(msg.attendees))
        # moved onto another panel: whoever left it owes no scorecard
        await expected.cancel_others(conn, event.tenant_id, msg.booking_id, list(msg.interviewer_ids))
        await expected.bump_activity(conn, event.tenant_id, interviews=1)

    async def cancelled(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(interview_pb2.InterviewCancelled)
        await expected.set_status_for_booking(conn, event.tenant_id, msg.booking_id, "cancelled")

    async def completed(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(interview_pb2.InterviewCompleted)
        if msg.interviewer_ids and msg.HasField("ended_at"):
            end = dt(msg.ended_at)
            await expected.complete(
                conn,
                event.tenant_id,
                booking_id=msg.booking_id,
                interviewer_ids=list(msg.interviewer_ids),
                candidate_id=msg.candidate_id,
                job_id=msg.job_id,
                round=msg.round,
                ended_at=end,
                due_at=end + due,
            )
            await expected.set_contacts(conn, event.tenant_id, msg.booking_id, _contacts(msg.attendees))
        else:  # an older producer without the panel: time the rows interview.scheduled opened
            await expected.set_status_for_booking(conn, event.tenant_id, msg.booking_id, "due")

    return {
        "interview.scheduled": scheduled,
        "interview.rescheduled": scheduled,
        "interview.cancelled": cancelled,
        "interview.completed": completed,
    }


def outcome_handlers() -> dict:
    """hris.outcome.recorded: 90-day retention, first performance rating, ... feed predictive validity."""

    async def outcome(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(ats_pb2.OutcomeRecorded)
        if not msg.candidate_id or not msg.outcome:
            raise MalformedEvent(f"{event.type} {event.id}: candidate_id and outcome are required")
        at = dt(msg.recorded_at) if msg.HasField("recorded_at") else event.time
        await outcomes.record_outcome(
            conn,
            event.tenant_id,
            candidate_id=msg.candidate_id,
            outcome=msg.outcome,
            value=msg.value,
            recorded_at=at,
            job_id=msg.job_id,
            application_id=msg.application_id,
        )

    return {"hris.outcome.recorded": outcome}


DEMOGRAPHIC_HINTS = ("eeoc", "demographic", "gender", "race", "ethnicity", "veteran", "disability")


def erasure_handlers() -> dict:
    """ats.candidate.erased (GDPR Art. 19): every recipient erases what it holds about the candidate."""

    async def erased(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(ats_pb2.CandidateErased)
        if not msg.remote_candidate_id:
            raise MalformedEvent(f"{event.type} {event.id}: remote_candidate_id is required")
        fields = [f.lower() for f in msg.fields]
        demographics = msg.deleted or not fields or any(h in f for f in fields for h in DEMOGRAPHIC_HINTS)
        await erasure.erase_candidate(
            conn, event.tenant_id, msg.remote_candidate_id, demographics=demographics
        )

    return {"ats.candidate.erased": erased}
