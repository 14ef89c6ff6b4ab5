"""Calendars that tell us when they change: a Google watch channel or a Graph subscription per interviewer
calendar, opened when the calendar is refreshed and renewed before it expires (polling stays the
fallback); a verified notification refreshes that interviewer's busy times at once and reads the events we
wrote there, and a decline becomes one coordinator task (``interview.interviewer_declined``) with the
replacements from the same pool who are free then, least loaded first.

A channel's secret (Google's channel token, Graph's clientState) is random per channel, sealed with the
credential key ring, and compared in constant time; a notification naming no channel, or the wrong
secret, changes nothing."""

from __future__ import annotations

import contextlib
import hmac
import logging
import secrets
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from interloop.events.v1 import interview_pb2
from interloop_common import outbox, vendor_http
from interloop_common.clock import utc_now
from interloop_common.db import system_tx, tenant_tx
from interloop_common.errors import FieldViolations, Forbidden, NotFound
from interloop_common.keyring import KeysUnavailable
from interloop_common.rpc import ts

from interloop_scheduler.domain.availability import Requirement, SlotRules
from interloop_scheduler.settings import SchedulerSettings, credential_ring
from interloop_scheduler.store import channels as channel_store
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store.channels import ChannelRow, WrittenEvent
from interloop_scheduler.store.interviewers import InterviewerRow
from interloop_scheduler.usecases.availability import availability
from interloop_scheduler.usecases.calendars import outbound_policies, refresh_calendars
from interloop_scheduler.usecases.emit import SOURCE
from interloop_scheduler.vendors import RetryPolicy
from interloop_scheduler.vendors.push import GRAPH_MAX_LIFETIME, GoogleWatch, GraphSubscriptions, PushRefused

log = logging.getLogger(__name__)

PUSH_KINDS = ("google", "graph")
# Graph lifecycle notifications after which the subscription must be renewed or made again (A7.3);
# ``missed`` only asks for a full read, which every notification does anyway
LIFECYCLE_RENEW = ("subscriptionRemoved", "reauthorizationRequired")


class ChannelUnknown(NotFound):
    """No channel of ours has this id (or it is of another vendor)."""


class ChannelForged(Forbidden):
    """The channel exists but the secret does not match."""


@dataclass(frozen=True)
class Changed:
    tenant_id: str
    interviewer_id: str
    refresh: bool  # False for Google's ``sync`` handshake: nothing changed yet


def push_address(settings: SchedulerSettings, kind: str) -> str:
    base = (settings.calendar_push_base_url or settings.public_base_url).rstrip("/")
    return f"{base}/webhooks/calendars/{kind}"


def _lifetime(settings: SchedulerSettings, kind: str) -> timedelta:
    asked = timedelta(seconds=settings.calendar_channel_seconds)
    # a minute under Graph's ceiling: a request past it is refused, not shortened
    return min(asked, GRAPH_MAX_LIFETIME - timedelta(minutes=1)) if kind == "graph" else asked


@contextlib.asynccontextmanager
async def _client(settings: SchedulerSettings, kind: str):  # type: ignore[no-untyped-def]
    async with vendor_http.client(guard=outbound_policies(settings)[kind], timeout=15.0) as client:
        yield client


def _retry(settings: SchedulerSettings) -> RetryPolicy:
    return RetryPolicy(attempts=settings.calendar_http_attempts, base_delay=0.2, max_delay=5.0)


async def open_channels(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str | None = None,
    ids: Sequence[str] | None = None,
) -> dict[tuple[str, str], str]:
    """Opens a channel for every Google / Graph calendar (of one tenant, or all) that has none, a failed
    one, or one expiring within ``calendar_channel_renew_seconds``; (tenant, interviewer) -> outcome
    (opened | renewed | kept | failed: <reason>)."""
    if not settings.calendar_push:
        return {}
    if tenant_id is None:
        async with system_tx(pool) as conn:
            rows = await interviewer_store.with_external_calendars(conn, None)
            current = {(c.tenant_id, c.interviewer_id): c for c in await channel_store.every_channel(conn)}
    else:
        async with tenant_tx(pool, tenant_id) as conn:
            rows = await interviewer_store.with_external_calendars(conn, tenant_id, list(ids or []) or None)
            current = {}
            for _, r in rows:
                c = await channel_store.get(conn, tenant_id, r.id)
                if c is not None:
                    current[(tenant_id, r.id)] = c
    renew_by = utc_now() + timedelta(seconds=settings.calendar_channel_renew_seconds)
    out: dict[tuple[str, str], str] = {}
    for tenant, row in rows:
        kind = row.calendar.get("kind")
        if kind not in PUSH_KINDS:
            continue
        channel = current.get((tenant, row.id))
        fresh = channel is not None and channel.kind == kind and channel.status == "active"
        if fresh and channel.expires_at > renew_by:  # type: ignore[union-attr]
            out[(tenant, row.id)] = "kept"
            continue
        try:
            await _open(pool, settings, tenant, row, channel if fresh else None)
            out[(tenant, row.id)] = "renewed" if fresh else "opened"
        except PushRefused as exc:
            log.warning("push channel of %s/%s: %s", tenant, row.id, exc.reason)
            async with tenant_tx(pool, tenant) as conn:
                await channel_store.mark_failed(conn, tenant, row.id, exc.reason)
            out[(tenant, row.id)] = f"failed: {exc.reason}"
    return out


async def renew_channels(pool: asyncpg.Pool, settings: SchedulerSettings) -> dict[tuple[str, str], str]:
    """The background loop's pass over every tenant: channels due are renewed, and the declines no push
    told us of are read (polling, the fallback)."""
    outcomes = await open_channels(pool, settings)
    await sweep_declines(pool, settings)
    return outcomes


async def sweep_declines(pool: asyncpg.Pool, settings: SchedulerSettings) -> int:
    """Reads every interviewer's events we wrote that are still ahead; the number of declines raised."""
    async with system_tx(pool) as conn:
        pairs = await channel_store.with_pending_declines(conn, utc_now())
    raised = 0
    for tenant, interviewer in pairs:
        try:
            raised += len(await check_declines(pool, settings, tenant, interviewer))
        except Exception:  # noqa: BLE001 - one calendar's failure does not stop the pass over the others
            log.exception("declines of %s/%s could not be read", tenant, interviewer)
    return raised


async def _open(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant: str,
    row: InterviewerRow,
    channel: ChannelRow | None,
) -> None:
    box = credential_ring(settings)
    try:
        credential = box.open(row.calendar.get("credential", ""))
    except KeysUnavailable:
        raise PushRefused("scheduler: calendar credential cannot be opened") from None
    kind, cfg = row.calendar["kind"], row.calendar
    expires = utc_now() + _lifetime(settings, kind)
    address = push_address(settings, kind)
    async with _client(settings, kind) as client:
        if kind == "google":
            watch = GoogleWatch(client, credential, base_url=cfg["url"], retry=_retry(settings))
            secret, channel_id = secrets.token_urlsafe(32), str(uuid.uuid4())
            # stored before the watch: Google's ``sync`` handshake may arrive before its answer does
            async with tenant_tx(pool, tenant) as conn:
                await channel_store.save(
                    conn, tenant, row.id, kind, channel_id, "", box.seal(secret), expires
                )
            opened = await watch.open(cfg["calendar_id"], channel_id, address, secret, expires)
            if channel is not None and channel.kind == "google":
                await watch.stop(channel.channel_id, channel.resource_id)  # channels never renew in place
        else:
            subs = GraphSubscriptions(client, credential, base_url=cfg["url"], retry=_retry(settings))
            if channel is not None:
                secret = box.open(channel.secret)
                try:
                    opened = await subs.renew(channel.channel_id, channel.resource_id, expires)
                except PushRefused:  # gone (expired, removed): subscribe anew
                    channel = None
            if channel is None:
                secret = secrets.token_urlsafe(48)[:64]
                opened = await subs.open(cfg["calendar_id"], address, secret, expires)
    async with tenant_tx(pool, tenant) as conn:
        await channel_store.save(
            conn,
            tenant,
            row.id,
            kind,
            opened.channel_id,
            opened.resource_id,
            box.seal(secret),
            opened.expires_at,
        )


async def verify(
    pool: asyncpg.Pool, settings: SchedulerSettings, kind: str, channel_id: str, secret: str
) -> ChannelRow:
    """The channel a notification names, if its secret matches (constant time); else ChannelUnknown or
    ChannelForged."""
    if kind not in PUSH_KINDS or not channel_id:
        raise ChannelUnknown(f"no {kind} channel {channel_id!r}")
    async with system_tx(pool) as conn:
        channel = await channel_store.find(conn, kind, channel_id)
    if channel is None:
        raise ChannelUnknown(f"no {kind} channel {channel_id!r}")
    try:
        expected = credential_ring(settings).open(channel.secret)
    except KeysUnavailable:
        raise ChannelForged("the channel's secret cannot be opened") from None
    if not hmac.compare_digest(expected.encode(), secret.encode()):
        raise ChannelForged("the channel token does not match")
    return channel


async def calendar_changed(
    pool: asyncpg.Pool, settings: SchedulerSettings, kind: str, channel_id: str, secret: str, state: str
) -> Changed:
    """Verifies a notification; the caller then runs ``refresh_changed`` (at once, off the answer)."""
    channel = await verify(pool, settings, kind, channel_id, secret)
    refresh = state != "sync"
    if refresh:
        async with tenant_tx(pool, channel.tenant_id) as conn:
            await channel_store.notified(conn, channel.tenant_id, channel.interviewer_id)
            if state in LIFECYCLE_RENEW:  # Graph lifecycle (A7.3): subscribe again at the next pass
                await channel_store.expire(conn, channel.tenant_id, channel.interviewer_id)
    return Changed(channel.tenant_id, channel.interviewer_id, refresh)


async def refresh_changed(pool: asyncpg.Pool, settings: SchedulerSettings, changed: Changed) -> None:
    await refresh_calendars(pool, settings, changed.tenant_id, [changed.interviewer_id])
    await check_declines(pool, settings, changed.tenant_id, changed.interviewer_id)


# -- declines


async def check_declines(
    pool: asyncpg.Pool, settings: SchedulerSettings, tenant_id: str, interviewer_id: str
) -> list[uuid.UUID]:
    """Reads the events we wrote into this interviewer's calendar; each newly seen decline is recorded on
    the booking and raises one task. Returns the bookings declined now (none when already known)."""
    now = utc_now()
    async with tenant_tx(pool, tenant_id) as conn:
        rows = await interviewer_store.get_many(conn, tenant_id, [interviewer_id])
        row = rows.get(interviewer_id)
        if row is None or row.calendar.get("kind") not in PUSH_KINDS:
            return []
        events = await channel_store.written_events(conn, tenant_id, interviewer_id, now)
    if not events:
        return []
    try:
        credential = credential_ring(settings).open(row.calendar.get("credential", ""))
    except KeysUnavailable:
        return []
    kind, cfg = row.calendar["kind"], row.calendar
    declined: list[WrittenEvent] = []
    async with _client(settings, kind) as client:
        reader: GoogleWatch | GraphSubscriptions
        if kind == "google":
            reader = GoogleWatch(client, credential, base_url=cfg["url"], retry=_retry(settings))
        else:
            reader = GraphSubscriptions(client, credential, base_url=cfg["url"], retry=_retry(settings))
        for event in events:
            event_id = event.vendor_event_id or event.event_id
            if await reader.declined(cfg["calendar_id"], event_id, row.email):
                declined.append(event)
    raised = []
    for event in declined:
        async with tenant_tx(pool, tenant_id) as conn:
            ranked = await replacements(conn, tenant_id, interviewer_id, event, now)
            if await channel_store.record_decline(conn, tenant_id, event.booking_id, interviewer_id, ranked):
                await outbox.stage(
                    conn,
                    type="interview.interviewer_declined",
                    source=SOURCE,
                    tenant_id=tenant_id,
                    subject=f"booking/{event.booking_id}",
                    key=f"{tenant_id}:{event.booking_id}",
                    payload=interview_pb2.InterviewerDeclined(
                        booking_id=str(event.booking_id),
                        interviewer_id=interviewer_id,
                        start=ts(event.start),
                        end=ts(event.end),
                        replacement_interviewer_ids=ranked,
                    ),
                )
                raised.append(event.booking_id)
    return raised


async def replacements(
    conn: asyncpg.Connection, tenant_id: str, interviewer_id: str, event: WrittenEvent, now: datetime
) -> list[str]:
    """Who of the declined interviewer's pool (the requirement the booking was made for) is free for the
    whole booking, not already on it; least loaded first, as the booking itself picks."""
    pool = [
        p
        for req in event.panel
        if interviewer_id in req.get("interviewer_ids", [])
        for p in req["interviewer_ids"]
        if p not in event.interviewer_ids and p != interviewer_id
    ]
    pool = list(dict.fromkeys(pool))
    if not pool:
        return []
    duration = event.end - event.start
    rules = SlotRules(
        duration=duration,
        step=timedelta(minutes=1),
        candidate_zone="UTC",
        align_to=event.start.time().replace(second=0, microsecond=0, tzinfo=None),
    )
    ranked: list[str] = []
    try:
        found, bookings = await availability(
            conn,
            tenant_id,
            [Requirement(tuple(pool), 1, name="replacement")],
            (event.start, event.end),
            rules,
            now,
        )
    except FieldViolations:
        return []
    free = next((s.available[0] for s in found.slots if s.start == event.start), ())
    load: Counter[str] = Counter(i for b in bookings for i in b.interviewer_ids)
    ranked = sorted(free, key=lambda i: (load[i], i))
    return ranked


@dataclass(frozen=True)
class Decline:
    booking_id: uuid.UUID
    interviewer_id: str
    replacements: list[str]
    start: datetime
    end: datetime
    seen_at: datetime


async def open_declines(pool: asyncpg.Pool, tenant_id: str) -> list[Decline]:
    async with tenant_tx(pool, tenant_id) as conn:
        rows = await channel_store.open_declines(conn, tenant_id)
    return [
        Decline(
            r["booking_id"], r["interviewer_id"], list(r["replacements"]), r["start"], r["end"], r["seen_at"]
        )
        for r in rows
    ]
