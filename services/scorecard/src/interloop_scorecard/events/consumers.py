"""Inbox handlers: interview events open, time and cancel expected scorecards."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from interloop.events.v1 import interview_pb2

from interloop_common.events import Event
from interloop_common.rpc import dt
from interloop_scorecard.store import expected


def handlers(feedback_due_hours: int) -> dict:
    due = timedelta(hours=feedback_due_hours)

    async def scheduled(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(interview_pb2.InterviewScheduled)
        end = dt(msg.end)
        await expected.open_expected(
            conn, event.tenant_id, booking_id=msg.booking_id, interviewer_ids=list(msg.interviewer_ids),
            candidate_id=msg.candidate_id, job_id=msg.job_id, round=msg.round, interview_end=end, due_at=end + due,
        )
        await expected.bump_activity(conn, event.tenant_id, interviews=1)

    async def cancelled(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(interview_pb2.InterviewCancelled)
        await expected.set_status_for_booking(conn, event.tenant_id, msg.booking_id, "cancelled")

    async def completed(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(interview_pb2.InterviewCompleted)
        await expected.set_status_for_booking(conn, event.tenant_id, msg.booking_id, "due")

    return {
        "interview.scheduled": scheduled,
        "interview.rescheduled": scheduled,
        "interview.cancelled": cancelled,
        "interview.completed": completed,
    }
