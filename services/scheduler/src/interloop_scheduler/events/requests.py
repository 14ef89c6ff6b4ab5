"""Opening a scheduling request: a link row, its signed expiring token, and the
`interview.scheduling_requested` event announcing it, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from interloop_scheduler.domain.links import issue_link_token
from interloop_scheduler.events.emit import scheduling_requested_event
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store import links as link_store


def link_key(settings: SchedulerSettings) -> bytes:
    return settings.link_signing_key.get_secret_value().encode()


def link_url(settings: SchedulerSettings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/schedule/{token}"


def link_token(settings: SchedulerSettings, tenant_id: str, link_id: object, valid_until: datetime) -> str:
    """The signed token of a scheduling link (the one payload every link page and manage link carries)."""
    return issue_link_token({"t": tenant_id, "l": str(link_id)}, link_key(settings), valid_until)


async def open_request(
    conn: asyncpg.Connection,
    settings: SchedulerSettings,
    tenant_id: str,
    now: datetime,
    *,
    candidate_id: str,
    application_id: str,
    job_id: str,
    round: str,
    candidate_email: str,
    candidate_name: str,
    panel: list[dict],
    duration_minutes: int,
    expires_in_hours: int,
    slot_settings: dict,
    connection_id: str = "",
) -> tuple[link_store.LinkRow, str, str]:
    expires_at = now + timedelta(hours=expires_in_hours or settings.link_expires_hours)
    link = await link_store.insert_link(
        conn,
        tenant_id,
        candidate_id=candidate_id,
        application_id=application_id,
        job_id=job_id,
        round=round,
        candidate_email=candidate_email,
        candidate_name=candidate_name,
        panel=panel,
        duration_minutes=duration_minutes,
        expires_at=expires_at,
        settings=slot_settings,
        connection_id=connection_id,
    )
    token = link_token(settings, tenant_id, link.id, expires_at)
    url = link_url(settings, token)
    await scheduling_requested_event(conn, link, token, url)
    return link, token, url
