"""Consumer declarations: each group, its topics, and per event type the use case it is unpacked into."""

from __future__ import annotations

import asyncpg
from interloop.events.v1 import ats_pb2, scorecard_pb2
from interloop_common.events import Event, booking_order
from interloop_common.kafka import topic
from interloop_common.service import ConsumerSpec

from interloop_sync.settings import SyncSettings
from interloop_sync.usecases import erasures, hris, interview_mail, notifications, scheduling, writeback
from interloop_sync.usecases.context import SyncContext


def count(settings: SyncSettings) -> int:
    """How many consumer groups ``consumers`` declares with these settings (the pool is sized by it)."""
    return 6 if settings.interview_emails else 5


def consumers(ctx: SyncContext) -> list[ConsumerSpec]:
    mail = []
    if ctx.settings.interview_emails:
        # Invites, updates, cancellations and reminders to every attendee (ICS attached).
        mail.append(
            ConsumerSpec(
                group="sync.interview-mail",
                topics=[topic("interview"), topic("scorecard")],
                handlers=dict.fromkeys(interview_mail.TEMPLATES, interview_mail.plan_mails),
                # no invite for a time the booking has moved on from (a replayed or late older event)
                ordered=booking_order(interview_mail.TEMPLATES),
            )
        )
    return [
        *mail,
        # The service's own ats.application.hired: the webhook answers fast, the hire is planned here (in
        # the inbox transaction) and written by the automation worker with no transaction held.
        ConsumerSpec(group="sync.hris", topics=[topic("ats")], handlers=_hris(ctx)),
        ConsumerSpec(
            group="sync.writeback",
            topics=[topic("scorecard"), topic("interview")],
            handlers=(writes := _writeback(ctx)),
            ordered=booking_order(writes),
        ),
        # The scheduler opened a scheduling request: email the candidate their link (one email per link).
        ConsumerSpec(
            group="sync.scheduling",
            topics=[topic("interview")],
            handlers={"interview.scheduling_requested": scheduling.plan_link_email},
        ),
        # The scheduler's and the scorecard service's answers to an erasure request.
        ConsumerSpec(
            group="sync.privacy",
            topics=[topic("ats")],
            handlers={"ats.candidate.erasure_acknowledged": erasures.acknowledged},
        ),
        # Every service's alerts (dead letters, failed HRIS writes, read-back mismatches): one email each to
        # the named owner.
        ConsumerSpec(
            group="sync.notifications",
            topics=[topic("notification")],
            handlers={"notification.alert": notifications.plan_alert_email},
        ),
    ]


def _hris(ctx: SyncContext) -> dict:
    async def hired(conn: asyncpg.Connection, event: Event) -> None:
        msg: ats_pb2.ApplicationHired = event.unpack(ats_pb2.ApplicationHired)  # type: ignore[assignment]
        await hris.plan_hire(ctx, conn, event.tenant_id, event.id, event.time, msg)

    return {"ats.application.hired": hired}


def _writeback(ctx: SyncContext) -> dict:
    async def scorecard_submitted(conn: asyncpg.Connection, event: Event) -> None:
        msg: scorecard_pb2.ScorecardSubmitted = event.unpack(scorecard_pb2.ScorecardSubmitted)  # type: ignore[assignment]
        await writeback.scorecard_submitted(ctx, conn, event.tenant_id, msg)

    async def interview_status(conn: asyncpg.Connection, event: Event) -> None:
        await writeback.interview_status(ctx, conn, event.tenant_id, event)

    return {
        "scorecard.submitted": scorecard_submitted,
        **dict.fromkeys(
            ("interview.scheduled", "interview.rescheduled", "interview.cancelled", "interview.completed"),
            interview_status,
        ),
    }
