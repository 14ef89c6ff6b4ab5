"""Builds `interview.*` events from stored bookings and links and stages them in the outbox."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from interloop.events.v1 import interview_pb2
from interloop_common.events import new_event
from interloop_common.outbox import add_event
from interloop_common.rpc import ts

from interloop_scheduler.store.bookings import BookingRow
from interloop_scheduler.store.links import LinkRow

SOURCE = "//interloop/scheduler"


async def booking_event(
    conn: asyncpg.Connection,
    tenant_id: str,
    event_type: str,
    b: BookingRow,
    reason: str = "",
    previous_start: datetime | None = None,
) -> None:
    if event_type in ("interview.scheduled", "interview.rescheduled"):
        payload = interview_pb2.InterviewScheduled(
            booking_id=str(b.id),
            candidate_id=b.candidate_id,
            application_id=b.application_id,
            interviewer_ids=b.interviewer_ids,
            start=ts(b.start),
            end=ts(b.end),
            interview_type=b.interview_type,
            sequence=b.sequence,
            job_id=b.job_id,
            round=b.round,
            link_id=str(b.link_id or ""),
        )
        if previous_start is not None:
            payload.previous_start.CopyFrom(ts(previous_start))
    elif event_type == "interview.cancelled":
        payload = interview_pb2.InterviewCancelled(booking_id=str(b.id), reason=reason, sequence=b.sequence)
    elif event_type == "interview.completed":
        payload = interview_pb2.InterviewCompleted(
            booking_id=str(b.id),
            ended_at=ts(b.end),
            interviewer_ids=b.interviewer_ids,
            candidate_id=b.candidate_id,
            job_id=b.job_id,
            round=b.round,
        )
    else:
        raise ValueError(f"unknown interview event {event_type!r}")
    event = new_event(
        type=event_type, source=SOURCE, tenant_id=tenant_id, subject=f"booking/{b.id}", payload=payload
    )
    # Keyed by tenant + booking so one partition orders every event of one booking.
    await add_event(conn, event, key=f"{tenant_id}/{b.id}")


async def reminder_event(conn: asyncpg.Connection, tenant_id: str, b: BookingRow, lead: str) -> None:
    payload = interview_pb2.InterviewReminderDue(
        booking_id=str(b.id),
        lead=lead,
        start=ts(b.start),
        candidate_id=b.candidate_id,
        interviewer_ids=b.interviewer_ids,
        sequence=b.sequence,
        job_id=b.job_id,
        round=b.round,
    )
    event = new_event(
        type="interview.reminder_due",
        source=SOURCE,
        tenant_id=tenant_id,
        subject=f"booking/{b.id}",
        payload=payload,
    )
    await add_event(conn, event, key=f"{tenant_id}/{b.id}")


async def scheduling_requested_event(conn: asyncpg.Connection, link: LinkRow, token: str, url: str) -> None:
    payload = interview_pb2.InterviewSchedulingRequested(
        link_id=str(link.id),
        candidate_id=link.candidate_id,
        application_id=link.application_id,
        job_id=link.job_id,
        round=link.round,
        candidate_email=link.candidate_email,
        candidate_name=link.candidate_name,
        token=token,
        url=url,
        expires_at=ts(link.expires_at),
        connection_id=link.connection_id,
    )
    event = new_event(
        type="interview.scheduling_requested",
        source=SOURCE,
        tenant_id=link.tenant_id,
        subject=f"scheduling-link/{link.id}",
        payload=payload,
    )
    await add_event(conn, event, key=f"{link.tenant_id}/{link.id}")
