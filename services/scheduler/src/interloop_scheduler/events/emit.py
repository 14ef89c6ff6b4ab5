"""Builds `interview.*` events from stored bookings and stages them in the outbox."""

from __future__ import annotations

import asyncpg
from interloop.events.v1 import interview_pb2

from interloop_common.events import new_event
from interloop_common.outbox import add_event
from interloop_common.rpc import ts
from interloop_scheduler.store.bookings import BookingRow

SOURCE = "//interloop/scheduler"


async def booking_event(conn: asyncpg.Connection, tenant_id: str, event_type: str, b: BookingRow, reason: str = "") -> None:
    if event_type in ("interview.scheduled", "interview.rescheduled"):
        payload = interview_pb2.InterviewScheduled(
            booking_id=str(b.id), candidate_id=b.candidate_id, application_id=b.application_id,
            interviewer_ids=b.interviewer_ids, start=ts(b.start), end=ts(b.end), interview_type=b.interview_type,
            sequence=b.sequence, job_id=b.job_id, round=b.round,
        )
    elif event_type == "interview.cancelled":
        payload = interview_pb2.InterviewCancelled(booking_id=str(b.id), reason=reason, sequence=b.sequence)
    elif event_type == "interview.completed":
        payload = interview_pb2.InterviewCompleted(
            booking_id=str(b.id), ended_at=ts(b.end), interviewer_ids=b.interviewer_ids,
            candidate_id=b.candidate_id, job_id=b.job_id, round=b.round,
        )
    else:
        raise ValueError(f"unknown interview event {event_type!r}")
    event = new_event(type=event_type, source=SOURCE, tenant_id=tenant_id, subject=f"booking/{b.id}", payload=payload)
    # Keyed by tenant + booking so one partition orders every event of one booking.
    await add_event(conn, event, key=f"{tenant_id}/{b.id}")
