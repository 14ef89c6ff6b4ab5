"""Scheduling requests: a link row, its signed expiring token, and the `interview.scheduling_requested`
event announcing it, in the caller's transaction; opened by a coordinator or, for the job's default
panel, when the ATS moves an application to an interview stage."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import asyncpg
from interloop_common.clock import utc_now
from interloop_common.erasure import is_erased
from interloop_common.errors import Conflict
from interloop_common.retry import Permanent

from interloop_scheduler.domain.links import issue_link_token
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store import links as link_store
from interloop_scheduler.usecases.emit import scheduling_requested_event

log = logging.getLogger(__name__)


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


def refuse_closed(link: link_store.LinkRow) -> None:
    """A link the ATS closed answers FAILED_PRECONDITION on every page and change, booked or not. The
    candidate reads this: it does not say why (closed_reason is for the tenant; a rejection is the ATS's
    to tell)."""
    if link.closed_at is not None:
        raise Conflict("link: this scheduling link is no longer available")


async def merge_candidates(
    conn: asyncpg.Connection, tenant_id: str, surviving_id: str, merged_id: str
) -> int:
    """Two ATS candidate records became one: what the scheduler holds of the merged one is re-keyed to the
    survivor, in the caller's transaction (a redelivery finds nothing left to move)."""
    moved = await link_store.rekey_candidate(conn, tenant_id, merged_id, surviving_id)
    log.info("merged candidate re-keyed: %d links and bookings (tenant %s)", moved, tenant_id)
    return moved


class NoDefaultPanel(Permanent):
    """The job has no default panel configured: a human must configure it (SetJobPanel), then replay."""


async def open_for_job(
    conn: asyncpg.Connection,
    settings: SchedulerSettings,
    tenant_id: str,
    *,
    candidate_id: str,
    application_id: str,
    job_id: str,
    round_: str,
    candidate_email: str,
    candidate_name: str,
    connection_id: str,
) -> None:
    """Open a request for the job's default panel unless one is already open for this application and
    round (a second move into the stage, or the stage change and an automation asking for the same). None
    for a candidate erased here: a move still in flight when the erasure landed opens nothing."""
    if await is_erased(conn, tenant_id, candidate_id):
        log.info("no scheduling request for an erased candidate (tenant %s)", tenant_id)
        return
    if await link_store.open_link_for(conn, tenant_id, application_id, round_):
        return
    config = await link_store.get_job_panel(conn, tenant_id, job_id)
    if config is None:
        raise NoDefaultPanel(
            f"job {job_id!r} has no default interview panel: set one with SetJobPanel "
            f"(PUT /v1/scheduling/job-panels/{job_id}) and replay this dead letter"
        )
    await open_request(
        conn,
        settings,
        tenant_id,
        utc_now(),
        candidate_id=candidate_id,
        application_id=application_id,
        job_id=job_id,
        round=round_,
        candidate_email=candidate_email,
        candidate_name=candidate_name,
        panel=config["panel"],
        duration_minutes=config["duration_minutes"],
        expires_in_hours=config.get("expires_in_hours", 0),
        slot_settings=config.get("settings", {}),
        connection_id=connection_id,
    )
