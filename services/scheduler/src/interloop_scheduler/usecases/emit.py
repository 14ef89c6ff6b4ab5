"""The `interview.*` events the use cases announce, built from stored bookings and links and staged in
the caller's transaction (``interloop_common.outbox.stage``)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import asyncpg
from interloop.events.v1 import interview_pb2
from interloop_common import outbox
from interloop_common.clock import utc_now
from interloop_common.rpc import ts

from interloop_scheduler.domain import invites as invite_domain
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store.bookings import BookingRow
from interloop_scheduler.store.links import LinkRow

SOURCE = "//interloop/scheduler"


async def attendees(conn: asyncpg.Connection, tenant_id: str, b: BookingRow) -> list[interview_pb2.Attendee]:
    """The candidate (when their address is known) and the panel, each with the zone to show times in.
    A party without a usable address is left out rather than failing the booking."""
    rows = await interviewer_store.get_many(conn, tenant_id, b.interviewer_ids)
    out = [
        interview_pb2.Attendee(
            id=r.id, email=r.email, name=r.display_name, role="interviewer", time_zone=r.time_zone
        )
        for r in (rows[i] for i in b.interviewer_ids if i in rows)
    ]
    if b.candidate_email:
        candidate = interview_pb2.Attendee(
            id=b.candidate_id,
            email=b.candidate_email,
            name=b.candidate_name,
            role="candidate",
            time_zone=b.candidate_time_zone or "UTC",
        )
        out.insert(0, candidate)
    return [a for a in out if "@" in a.email]


async def invitation(
    conn: asyncpg.Connection, tenant_id: str, b: BookingRow, organizer: str, method: str
) -> tuple[bytes, list[interview_pb2.Attendee]]:
    """One iCalendar object (stable UID, the booking's SEQUENCE) addressed to every attendee."""
    who = await attendees(conn, tenant_id, b)
    invite = invite_domain.Invite(
        booking_id=str(b.id),
        sequence=b.sequence,
        start=b.start,
        end=b.end,
        summary=f"Interview: {b.round or b.interview_type or 'interview'}",
        organizer=invite_domain.Party(organizer, "Interloop Scheduling"),
        attendees=tuple(invite_domain.Party(a.email, a.name) for a in who),
    )
    build = invite_domain.request_ics if method == "REQUEST" else invite_domain.cancel_ics
    return build(invite, utc_now()), who


async def booking_event(
    conn: asyncpg.Connection,
    tenant_id: str,
    event_type: str,
    b: BookingRow,
    reason: str = "",
    previous_start: datetime | None = None,
    *,
    organizer: str,
    previous_interviewers: list[str] | None = None,
    manage_url: str = "",
    candidate_not_told: bool = False,
) -> None:
    if event_type in ("interview.scheduled", "interview.rescheduled"):
        ics, who = await invitation(conn, tenant_id, b, organizer, "REQUEST")
        dropped = sorted(set(previous_interviewers or ()) - set(b.interviewer_ids))
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
            attendees=who,
            invite_ics=ics,
            manage_url=manage_url,
        )
        if previous_start is not None:
            payload.previous_start.CopyFrom(ts(previous_start))
        if dropped:
            off_panel = dataclasses.replace(b, interviewer_ids=dropped, candidate_email="")
            cancel, removed = await invitation(conn, tenant_id, off_panel, organizer, "CANCEL")
            payload.removed_attendees.extend(removed)
            payload.removed_cancel_ics = cancel
    elif event_type == "interview.cancelled":
        ics, who = await invitation(conn, tenant_id, b, organizer, "CANCEL")
        payload = interview_pb2.InterviewCancelled(
            booking_id=str(b.id),
            reason=reason,
            sequence=b.sequence,
            attendees=who,
            invite_ics=ics,
            start=ts(b.start),
            end=ts(b.end),
            candidate_id=b.candidate_id,
            job_id=b.job_id,
            round=b.round,
            candidate_not_told=candidate_not_told,
        )
    elif event_type == "interview.completed":
        payload = interview_pb2.InterviewCompleted(
            booking_id=str(b.id),
            ended_at=ts(b.end),
            interviewer_ids=b.interviewer_ids,
            candidate_id=b.candidate_id,
            job_id=b.job_id,
            round=b.round,
            attendees=await attendees(conn, tenant_id, b),
        )
    else:
        raise ValueError(f"unknown interview event {event_type!r}")
    # Keyed by tenant + booking so one partition orders every event of one booking.
    await outbox.stage(
        conn,
        type=event_type,
        source=SOURCE,
        tenant_id=tenant_id,
        subject=f"booking/{b.id}",
        payload=payload,
        key=f"{tenant_id}/{b.id}",
    )


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
        attendees=await attendees(conn, tenant_id, b),
        end=ts(b.end),
    )
    await outbox.stage(
        conn,
        type="interview.reminder_due",
        source=SOURCE,
        tenant_id=tenant_id,
        subject=f"booking/{b.id}",
        payload=payload,
        key=f"{tenant_id}/{b.id}",
    )


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
    await outbox.stage(
        conn,
        type="interview.scheduling_requested",
        source=SOURCE,
        tenant_id=link.tenant_id,
        subject=f"scheduling-link/{link.id}",
        payload=payload,
        key=f"{link.tenant_id}/{link.id}",
    )
