"""`interview.scheduling_requested` -> the candidate gets their scheduling link by email.

The handler only plans the email (an automation action keyed by the link id, in the inbox transaction);
the automation worker sends it over SMTP with the tenant's `scheduling_link` template (or the default) and
logs it in the communications log. One link, one action row, one email, however often the event arrives."""

from __future__ import annotations

import uuid

import asyncpg
from interloop.events.v1 import interview_pb2
from interloop_common.clock import utc_now
from interloop_common.events import Event, MalformedEvent
from interloop_common.rpc import dt

from interloop_sync.store import automations as store

ACTION = "send_scheduling_link"
TEMPLATE = "scheduling_link"


def connection_id_or_none(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw)) if raw else None
    except ValueError:
        return None  # a request opened by hand or by another system: no connection to attribute it to


def action_key(link_id: str) -> str:
    return f"scheduling-link:{link_id}"


async def plan_link_email(conn: asyncpg.Connection, event: Event) -> None:
    msg = event.unpack(interview_pb2.InterviewSchedulingRequested)
    if not msg.link_id or not msg.url:
        raise MalformedEvent(f"{event.type} {event.id}: link_id and url are required")
    expires = dt(msg.expires_at).isoformat() if msg.HasField("expires_at") else ""
    await store.add_system_action(
        conn,
        event.tenant_id,
        key=action_key(msg.link_id),
        rule_id=TEMPLATE,
        kind=ACTION,
        connection_id=connection_id_or_none(msg.connection_id),
        context={
            "candidate_id": msg.candidate_id,
            "application_id": msg.application_id,
            "candidate_email": msg.candidate_email,
            "candidate_name": msg.candidate_name,
            "job_id": msg.job_id,
            "round": msg.round,
            "link": msg.url,
            "link_id": msg.link_id,
            "expires_at": expires,
            "event": event.type,
        },
        event_at=event.time,
        due_at=utc_now(),
    )
