"""Events in interviewers' calendars: a booking, reschedule or cancel stages one write per interviewer whose
calendar source is Google, Microsoft Graph or CalDAV, in the booking's own transaction; a periodic worker
claims due writes in a short transaction, calls the vendor outside any transaction (through the outbound
guard, with the credential sealed by the scheduler's key ring) and records the outcome in another.

Idempotent by our event id (``domain.calendar_events.event_id``): a retried insert finds the event
already there and updates it. Throttling, 5xx and unreachable vendors are retried with backoff; a refusal
(401/403, a request the vendor rejects) fails the write for good and alerts the calendar's owner. What is
recorded is the vendor's event id, ETag and conference link and a fixed reason code, never a body."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import httpx
from interloop_common import vendor_http
from interloop_common.db import system_tx, tenant_tx
from interloop_common.keyring import KeysUnavailable
from interloop_common.outbox import stage_alert

from interloop_scheduler.domain.calendar_events import (
    WRITABLE_KINDS,
    CalendarEvent,
    WriteFailed,
    Written,
    event_id,
    retry_delay,
)
from interloop_scheduler.settings import SchedulerSettings, credential_ring
from interloop_scheduler.store import calendar_writes as store
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store.bookings import BookingRow
from interloop_scheduler.store.calendar_writes import ClaimedWrite
from interloop_scheduler.usecases.calendars import outbound_policies
from interloop_scheduler.usecases.emit import SOURCE
from interloop_scheduler.vendors import CalDavEvents, EventWriter, GoogleEvents, GraphEvents, RetryPolicy

log = logging.getLogger(__name__)


async def stage_booking(
    conn: asyncpg.Connection, tenant_id: str, booking: BookingRow, previous_interviewers: Sequence[str] = ()
) -> None:
    """Inside the booking's transaction: its events as they should now be (written, moved, removed)."""
    if booking.status == "cancelled":
        await store.remove_from(conn, tenant_id, booking.id, [])
        return
    rows = await interviewer_store.get_many(conn, tenant_id, booking.interviewer_ids)
    writes = [
        (i, event_id(str(booking.id), i), rows[i].calendar_kind, "upsert")
        for i in booking.interviewer_ids
        if i in rows and rows[i].calendar_kind in WRITABLE_KINDS
    ]
    if writes:
        await store.stage(conn, tenant_id, booking.id, writes)
    dropped = sorted(set(previous_interviewers) - set(booking.interviewer_ids))
    if dropped:  # off the panel after a reschedule: their events go
        await store.remove_from(conn, tenant_id, booking.id, dropped)


@dataclass(frozen=True)
class Outcome:
    status: str  # written | deleted | pending (retry) | failed
    written: Written
    reason: str = ""
    permanent: bool = False


def _writer(kind: str, cfg: dict, secret: str, client: httpx.AsyncClient, retry: RetryPolicy) -> EventWriter:
    if kind == "google":
        return GoogleEvents(client, secret, base_url=cfg["url"], retry=retry)
    if kind == "graph":
        return GraphEvents(client, secret, base_url=cfg["url"], retry=retry)
    auth = (cfg["user"], secret) if cfg.get("user") else None
    return CalDavEvents(client, cfg["url"], auth=auth, retry=retry)


def _event(c: ClaimedWrite) -> CalendarEvent:
    title = f"Interview: {c.summary_of}" + (f" with {c.candidate_name}" if c.candidate_name else "")
    return CalendarEvent(
        event_id=c.row.event_id,
        calendar_id=c.calendar.get("calendar_id", ""),
        start=c.start,
        end=c.end,
        summary=title,
        description=f"Scheduled by Interloop (booking {c.row.booking_id}).",
        sequence=c.sequence,
    )


async def _write(
    c: ClaimedWrite,
    settings: SchedulerSettings,
    clients: dict[str, httpx.AsyncClient],
    retry: RetryPolicy,
) -> Outcome:
    row = c.row
    before = Written(row.vendor_event_id, row.etag, row.conference_url)
    kind = c.calendar.get("kind", "")
    if kind not in WRITABLE_KINDS or not c.calendar.get("url") or not c.calendar.get("calendar_id"):
        return Outcome("failed", before, "scheduler: calendar source not writable", permanent=True)
    try:
        secret = credential_ring(settings).open(c.calendar.get("credential", ""))
    except KeysUnavailable:
        return Outcome("failed", before, "scheduler: credential does not open", permanent=True)
    writer = _writer(kind, c.calendar, secret, clients[kind], retry)
    known = before if row.vendor_event_id else None
    try:
        if row.action == "delete":
            await writer.delete(_event(c), known)
            return Outcome("deleted", Written())
        return Outcome("written", await writer.upsert(_event(c), known))
    except WriteFailed as exc:
        return Outcome("failed" if exc.permanent else "pending", before, exc.reason, exc.permanent)
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is retried like an outage, then alerted
        log.warning("calendar write %s/%s failed: %s", kind, row.event_id, type(exc).__name__)
        return Outcome("pending", before, f"{kind}: {type(exc).__name__}")


async def _settle(pool: asyncpg.Pool, settings: SchedulerSettings, c: ClaimedWrite, outcome: Outcome) -> None:
    row = c.row
    status, retry_in = outcome.status, None
    if status == "pending":
        if row.attempts + 1 >= settings.calendar_write_max_attempts:
            status = "failed"
        else:
            retry_in = retry_delay(
                row.attempts + 1,
                timedelta(seconds=settings.calendar_write_retry_seconds),
                timedelta(seconds=settings.calendar_write_retry_max_seconds),
            )
    async with tenant_tx(pool, row.tenant_id) as conn:
        recorded = await store.settle(
            conn,
            row,
            status=status,
            vendor_event_id=outcome.written.vendor_event_id,
            etag=outcome.written.etag,
            conference_url=outcome.written.conference_url,
            reason=outcome.reason,
            retry_in=retry_in,
        )
        if recorded and status == "failed":
            kind = c.calendar.get("kind", row.kind)
            why = "refused" if outcome.permanent else f"failed {row.attempts + 1} times"
            await stage_alert(
                conn,
                source=SOURCE,
                tenant_id=row.tenant_id,
                # the calendar's owner is the one who can reconnect it; the scheduler knows no tenant owner
                owner=c.email,
                subject=f"booking/{row.booking_id}",
                summary=f"scheduler: the interview event for {row.interviewer_id}'s {kind} calendar {why}",
                detail=(
                    f"booking {row.booking_id}, interviewer {row.interviewer_id}, {row.action}: "
                    f"{outcome.reason}. The calendar stays out of date until its connection is fixed "
                    "and the booking is changed again."
                ),
            )


async def write_due(pool: asyncpg.Pool, settings: SchedulerSettings) -> int:
    """One round of the worker: claim due writes, call the vendors, record the outcomes; the count."""
    lease = timedelta(
        seconds=settings.calendar_http_timeout_seconds * 2 * settings.calendar_http_attempts + 30
    )
    async with system_tx(pool) as conn:
        claimed = await store.claim_due(conn, settings.calendar_write_batch, lease)
    if not claimed:
        return 0
    retry = RetryPolicy(attempts=settings.calendar_http_attempts, base_delay=0.2, max_delay=5.0)
    policies = outbound_policies(settings)
    kinds = {c.calendar.get("kind") for c in claimed} & WRITABLE_KINDS
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            kind: await stack.enter_async_context(
                vendor_http.client(guard=policies[kind], timeout=settings.calendar_http_timeout_seconds)
            )
            for kind in kinds
        }
        outcomes = await asyncio.gather(*(_write(c, settings, clients, retry) for c in claimed))
    for c, outcome in zip(claimed, outcomes, strict=True):
        await _settle(pool, settings, c, outcome)
    return len(claimed)


async def of_booking(
    pool: asyncpg.Pool, tenant_id: str, booking_id: uuid.UUID
) -> list[store.CalendarWriteRow]:
    """The calendar events of a booking: where each stands and its conference link."""
    async with tenant_tx(pool, tenant_id) as conn:
        return await store.of_booking(conn, tenant_id, booking_id)
