"""`notification.alert` -> an email to the named owner.

Every service raises alerts through its outbox (a dead letter, a failed HRIS write, a read-back mismatch, an
automation that kept failing); this consumer turns each one into one email to its owner, sent by the
automation worker over SMTP and kept in the communications log. The action is keyed by the alert's event
id, so a redelivered alert is one email, not two. A failing alert email is retried and then marked failed;
it never raises an alert of its own (an SMTP outage must not feed itself)."""

from __future__ import annotations

import asyncpg
from interloop.events.v1 import ats_pb2
from interloop_common.clock import utc_now
from interloop_common.events import Event, MalformedEvent

from interloop_sync.store import automations as store
from interloop_sync.usecases.scheduling import connection_id_or_none

ACTION = "send_alert"
TEMPLATE = "alert"


async def plan_alert_email(conn: asyncpg.Connection, event: Event) -> None:
    msg = event.unpack(ats_pb2.Alert)
    if "@" not in msg.owner:
        raise MalformedEvent(f"{event.type} {event.id}: owner {msg.owner!r} is not an email address")
    await store.add_system_action(
        conn,
        event.tenant_id,
        key=f"alert:{event.id}",
        rule_id=TEMPLATE,
        kind=ACTION,
        connection_id=connection_id_or_none(msg.connection_id),
        context={
            "recipient": msg.owner,
            "severity": msg.severity or "error",
            "summary": msg.summary,
            "detail": msg.detail,
            "source": event.source,
            "subject": event.subject,
            "tenant_id": event.tenant_id,
            "candidate_id": msg.candidate_id,
            "raised_at": event.time.isoformat(),
            "event": event.type,
        },
        event_at=event.time,
        due_at=utc_now(),
    )
