"""What the scorecard consumes (groups and topics), and the inbox handlers that unpack interview, HRIS and
ATS events into the use cases, inside the inbox's tenant transaction (so the dedupe row commits with the
change)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from interloop.events.v1 import ats_pb2, interview_pb2
from interloop_common.erasure import acknowledge
from interloop_common.events import Event, MalformedEvent, booking_order
from interloop_common.kafka import topic
from interloop_common.rpc import dt
from interloop_common.service import ConsumerSpec, Runtime

from interloop_scorecard.settings import ScorecardSettings
from interloop_scorecard.store import outcomes as outcomes_store
from interloop_scorecard.usecases import SOURCE, candidates, erasure, expected, outcomes


def _contacts(attendees) -> list[expected.Contact]:  # type: ignore[no-untyped-def]
    return [(a.id, a.email, a.name, a.time_zone) for a in attendees if a.role == "interviewer" and a.id]


def handlers(feedback_due_hours: int) -> dict:
    """interview.*: open, time and cancel the scorecards each panelist owes."""
    due = timedelta(hours=feedback_due_hours)

    async def scheduled(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(interview_pb2.InterviewScheduled)
        await expected.interview_scheduled(
            conn,
            event.tenant_id,
            booking_id=msg.booking_id,
            interviewer_ids=list(msg.interviewer_ids),
            candidate_id=msg.candidate_id,
            job_id=msg.job_id,
            round=msg.round,
            interview_end=dt(msg.end),
            contacts=_contacts(msg.attendees),
            feedback_due=due,
        )

    async def cancelled(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(interview_pb2.InterviewCancelled)
        await expected.interview_cancelled(conn, event.tenant_id, msg.booking_id)

    async def completed(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(interview_pb2.InterviewCompleted)
        await expected.interview_completed(
            conn,
            event.tenant_id,
            booking_id=msg.booking_id,
            interviewer_ids=list(msg.interviewer_ids),
            candidate_id=msg.candidate_id,
            job_id=msg.job_id,
            round=msg.round,
            ended_at=dt(msg.ended_at) if msg.HasField("ended_at") else None,
            contacts=_contacts(msg.attendees),
            feedback_due=due,
        )

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
        await outcomes.record_outcome(
            conn,
            event.tenant_id,
            candidate_id=msg.candidate_id,
            outcome=msg.outcome,
            value=msg.value,
            recorded_at=dt(msg.recorded_at) if msg.HasField("recorded_at") else event.time,
            job_id=msg.job_id,
            application_id=msg.application_id,
        )

    return {"hris.outcome.recorded": outcome}


def erasure_handlers() -> dict:
    """ats.candidate.erased (GDPR Art. 19): every recipient erases what it holds about the candidate;
    ats.candidate.merged: the merged candidate's records become the survivor's."""

    async def erased(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(ats_pb2.CandidateErased)
        if not msg.remote_candidate_id:
            raise MalformedEvent(f"{event.type} {event.id}: remote_candidate_id is required")
        await erasure.erase_candidate(
            conn,
            event.tenant_id,
            msg.remote_candidate_id,
            fields=list(msg.fields),
            deleted=msg.deleted,
            source="api" if msg.erasure_id else "ats",
        )
        await acknowledge(
            conn, event.tenant_id, msg.remote_candidate_id, msg.erasure_id, service="scorecard", source=SOURCE
        )

    async def demographics(conn: asyncpg.Connection, event: Event) -> None:
        # the ATS's EEOC answers (Greenhouse), for the bias audit: kept with the compliance-only data
        msg = event.unpack(ats_pb2.CandidateDemographicsReported)
        if not msg.remote_candidate_id or not msg.attributes:
            raise MalformedEvent(f"{event.type} {event.id}: remote_candidate_id and attributes are required")
        await outcomes_store.merge_demographics(
            conn, event.tenant_id, msg.remote_candidate_id, dict(msg.attributes)
        )

    async def merged(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(ats_pb2.CandidatesMerged)
        if not msg.surviving_candidate_id or not msg.merged_candidate_id:
            raise MalformedEvent(f"{event.type} {event.id}: surviving and merged candidate ids are required")
        if msg.surviving_candidate_id != msg.merged_candidate_id:
            await candidates.merge_candidates(
                conn, event.tenant_id, msg.surviving_candidate_id, msg.merged_candidate_id
            )

    return {
        "ats.candidate.erased": erased,
        "ats.candidate.demographics_reported": demographics,
        "ats.candidate.merged": merged,
    }


def consumers(rt: Runtime) -> list[ConsumerSpec]:
    settings = rt.settings
    assert isinstance(settings, ScorecardSettings)
    return [
        ConsumerSpec(
            group="scorecard.interviews",
            topics=[topic("interview")],
            handlers=(interview := handlers(settings.feedback_due_hours)),
            # a replayed interview.scheduled older than the cancellation applied must not reopen scorecards
            ordered=booking_order(interview),
        ),
        ConsumerSpec(group="scorecard.outcomes", topics=[topic("hris")], handlers=outcome_handlers()),
        ConsumerSpec(group="scorecard.erasure", topics=[topic("ats")], handlers=erasure_handlers()),
    ]
