"""Interview messages: every attendee gets the invite, its updates and its cancellation by email, with the
scheduler's iCalendar object attached (one UID per booking, its SEQUENCE, METHOD:REQUEST or CANCEL), so
the interview lands in — and moves or leaves — their calendar; the candidate also gets the reminders, and
an interviewer whose scorecard is overdue is reminded of it (`scorecard.overdue`).

Times are written in each recipient's own zone (the interviewer's profile, the zone the candidate booked
in). The handler only plans one action per recipient, keyed by booking, event, sequence (and lead), in the
inbox transaction; the automation worker sends it with the tenant's template of that name, or the default,
and logs it in the communications log: a redelivered event is never a second email."""

from __future__ import annotations

import hashlib
import zoneinfo
from datetime import datetime

import asyncpg
from interloop.events.v1 import interview_pb2, scorecard_pb2
from interloop_common.clock import utc_now
from interloop_common.events import Event
from interloop_common.rpc import dt

from interloop_sync.store import automations as store

ACTION = "send_interview_email"
TEMPLATES = {
    "interview.scheduled": "interview_scheduled",
    "interview.rescheduled": "interview_rescheduled",
    "interview.cancelled": "interview_cancelled",
    "interview.reminder_due": "interview_reminder",
    "scorecard.overdue": "scorecard_overdue",
}


def _zone(name: str) -> tuple[zoneinfo.ZoneInfo, str]:
    try:
        return zoneinfo.ZoneInfo(name or "UTC"), name or "UTC"
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC"), "UTC"


def local(when: datetime, zone: str) -> str:
    """'Monday 3 May 2027, 09:00 (Europe/London)' in the recipient's zone."""
    tz, name = _zone(zone)
    t = when.astimezone(tz)
    return f"{t:%A} {t.day} {t:%B %Y}, {t:%H:%M} ({name})"


def recipient_tag(address: str) -> str:
    """Who an email goes to, inside its idempotency key: a digest of the address, not the address (keys
    outlive an erasure, for the record of what was sent when; the address must not)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]


def plan_overdue(event: Event) -> list[tuple[str, dict[str, str]]]:
    """The interviewer is reminded of the scorecard they owe (nothing when their address is unknown)."""
    msg = event.unpack(scorecard_pb2.ScorecardOverdue)
    if "@" not in msg.interviewer_email:
        return []
    context = {
        "template": TEMPLATES[event.type],
        "recipient": msg.interviewer_email,
        "name": msg.interviewer_name,
        "role": "interviewer",
        "candidate_id": msg.candidate_id,
        "round": msg.round,
        "job_id": msg.job_id,
        "booking_id": msg.booking_id,
        "interview_end": local(dt(msg.interview_end), msg.interviewer_time_zone),
        "due": local(dt(msg.due_at), msg.interviewer_time_zone),
        "nudge": str(msg.nudge),
        "event": event.type,
    }
    key = f"scorecard-overdue:{msg.booking_id}:{msg.interviewer_id}:{msg.nudge}"
    return [(key, context)]


def plan(event: Event) -> list[tuple[str, dict[str, str]]]:
    """(idempotency key, context) per email the event calls for."""
    if event.type == "scorecard.overdue":
        return plan_overdue(event)
    if event.type in ("interview.scheduled", "interview.rescheduled"):
        msg = event.unpack(interview_pb2.InterviewScheduled)
        start, end = dt(msg.start), dt(msg.end)
        method, ics, lead, previous = "REQUEST", msg.invite_ics, "", msg.previous_start
        reason, candidate_id, manage = "", msg.candidate_id, msg.manage_url
        recipients = list(msg.attendees)
    elif event.type == "interview.cancelled":
        msg = event.unpack(interview_pb2.InterviewCancelled)
        start, end = dt(msg.start), dt(msg.end)
        method, ics, lead, previous = "CANCEL", msg.invite_ics, "", None
        reason, candidate_id, manage = msg.reason, msg.candidate_id, ""
        # closed in the ATS and, by the tenant's policy, not the candidate's to hear from us: the panel only
        recipients = [a for a in msg.attendees if not (msg.candidate_not_told and a.role == "candidate")]
    else:
        msg = event.unpack(interview_pb2.InterviewReminderDue)
        start, end = dt(msg.start), dt(msg.end)
        method, ics, lead, previous = "", b"", msg.lead, None
        reason, candidate_id, manage = "", msg.candidate_id, ""
        recipients = [a for a in msg.attendees if a.role == "candidate"]
    if end <= event.time and not lead:
        return []  # an interview recorded after the fact: no invite for a meeting that is over
    candidate = next((a for a in msg.attendees if a.role == "candidate"), None)
    panel = [a.name or a.email for a in msg.attendees if a.role == "interviewer"]
    moved_from = dt(previous) if previous is not None and previous.seconds else None
    mails = [(a, TEMPLATES[event.type], method, reason, ics, "") for a in recipients]
    if event.type == "interview.rescheduled":  # moved onto another panel: out of their calendars
        mails += [
            (
                a,
                TEMPLATES["interview.cancelled"],
                "CANCEL",
                "it was moved, and you are no longer on its panel",
                msg.removed_cancel_ics,
                ":removed",
            )
            for a in msg.removed_attendees
        ]
    out = []
    for a, template, a_method, a_reason, a_ics, tag in mails:
        # the dropped see the time they had, not the new one
        shown = moved_from if tag and moved_from else start
        shown_end = shown + (end - start)
        context = {
            "template": template,
            "recipient": a.email,
            "name": a.name,
            "role": a.role,
            "candidate_id": candidate_id,
            "candidate_name": candidate.name if candidate else "",
            "interviewers": ", ".join(panel),
            "round": msg.round,
            "job_id": msg.job_id,
            "booking_id": msg.booking_id,
            "start": local(shown, a.time_zone),
            "end": local(shown_end, a.time_zone),
            "end_time": f"{shown_end.astimezone(_zone(a.time_zone)[0]):%H:%M}",
            "previous_start": local(moved_from, a.time_zone) if moved_from else "",
            "reason": a_reason,
            "lead": lead,
            "method": a_method,
            "ics": a_ics.decode() if a_ics else "",
            # the candidate's page to reschedule or cancel (a bearer link: theirs alone)
            "manage_url": manage if a.role == "candidate" and not tag else "",
            "event": event.type,
        }
        suffix = f"{lead}:{msg.start.seconds}" if lead else f"{msg.sequence}{tag}"
        key = f"interview-mail:{msg.booking_id}:{event.type}:{suffix}:{recipient_tag(a.email)}"
        out.append((key, context))
    return out


async def plan_mails(conn: asyncpg.Connection, event: Event) -> None:
    for key, context in plan(event):
        await store.add_system_action(
            conn,
            event.tenant_id,
            key=key,
            rule_id=context["template"],
            kind=ACTION,
            context=context,
            event_at=event.time,
            due_at=utc_now(),
        )
