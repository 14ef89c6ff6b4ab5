"""Calendar refresh: read every external calendar source and store busy blocks per interviewer (a failed
read marks the calendar unknown, never free); periodic for all tenants, or on request for one.

Every URL here is the tenant's to choose, so every call passes the outbound guard (google and graph pinned
to their vendors' hosts) and iCalendar answers are parsed with bounded work off the event loop; the reason
an unknown calendar keeps is a fixed code."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import httpx
from interloop_common import vendor_http
from interloop_common.clock import utc_now
from interloop_common.db import system_tx, tenant_tx
from interloop_common.keyring import KeysUnavailable
from interloop_common.outbound import OutboundPolicy

from interloop_scheduler.domain.ics import ExpansionLimits
from interloop_scheduler.settings import SchedulerSettings, credential_ring
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store.interviewers import InterviewerRow
from interloop_scheduler.vendors import (
    CalDavSource,
    CalendarSource,
    GoogleFreeBusy,
    GraphSchedule,
    IcsFeedSource,
    IcsParser,
    ParseLimits,
    RetryPolicy,
    Unknown,
)
from interloop_scheduler.vendors.google import HOSTS as GOOGLE_HOSTS
from interloop_scheduler.vendors.graph import HOSTS as GRAPH_HOSTS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshResult:
    tenant_id: str
    interviewer_id: str
    status: str  # known | unknown
    reason: str = ""
    busy_blocks: int = 0


def outbound_policies(settings: SchedulerSettings) -> dict[str, OutboundPolicy]:
    """The outbound guard of each calendar kind."""
    base = OutboundPolicy.from_settings(settings, timeout_seconds=settings.calendar_http_timeout_seconds)
    feed = dataclasses.replace(base, max_response_bytes=settings.calendar_max_feed_bytes)
    return {
        "google": base.pinned(*GOOGLE_HOSTS),
        "graph": base.pinned(*GRAPH_HOSTS),
        "caldav": feed,
        "ics": feed,
    }


def parse_limits(settings: SchedulerSettings) -> ParseLimits:
    return ParseLimits(
        seconds=settings.calendar_parse_seconds,
        memory_bytes=settings.calendar_parse_memory_mib * 1024 * 1024,
        expansion=ExpansionLimits(
            max_occurrences_per_event=settings.calendar_max_occurrences_per_event,
            max_occurrences=settings.calendar_max_occurrences_per_feed,
            max_recurrence_steps=settings.calendar_max_recurrence_steps,
        ),
    )


def _source(
    kind: str,
    cfg: dict,
    rows: Sequence[InterviewerRow],
    client: httpx.AsyncClient,
    retry: RetryPolicy,
    parser: IcsParser,
) -> CalendarSource:
    if kind == "google":
        return GoogleFreeBusy(client, cfg["credential"], base_url=cfg["url"], retry=retry)
    if kind == "graph":
        return GraphSchedule(
            client, cfg["credential"], cfg.get("user") or rows[0].email, base_url=cfg["url"], retry=retry
        )
    if kind == "caldav":
        auth = (cfg["user"], cfg["credential"]) if cfg.get("user") else None
        return CalDavSource(client, cfg["url"], auth=auth, retry=retry, parser=parser)
    if kind == "ics":
        # one feed URL per interviewer, keyed by interviewer id
        return IcsFeedSource(client, {r.id: r.calendar["url"] for r in rows}, retry=retry, parser=parser)
    raise ValueError(f"calendar kind {kind!r}")


def _calendar_id(row: InterviewerRow) -> str:
    return row.id if row.calendar["kind"] == "ics" else row.calendar["calendar_id"]


def _group_key(row: InterviewerRow) -> tuple[str, ...]:
    c = row.calendar
    if c["kind"] == "ics":  # one feed per interviewer; one source reads them all
        return ("ics",)
    return (c["kind"], c.get("url", ""), c.get("credential", ""), c.get("user", ""))


async def read_calendars(
    rows: Sequence[tuple[str, InterviewerRow]], start: datetime, end: datetime, settings: SchedulerSettings
) -> dict[tuple[str, str], list[tuple[datetime, datetime]] | Unknown]:
    """(tenant, interviewer) -> busy or Unknown, reading each group of calendars with one source."""
    groups: dict[tuple[str, ...], list[tuple[str, InterviewerRow]]] = {}
    for tenant, row in rows:
        groups.setdefault((tenant, *_group_key(row)), []).append((tenant, row))
    out: dict[tuple[str, str], list[tuple[datetime, datetime]] | Unknown] = {}
    retry = RetryPolicy(attempts=settings.calendar_http_attempts, base_delay=0.2, max_delay=5.0)
    parser = IcsParser(parse_limits(settings))
    policies = outbound_policies(settings)
    kinds = {members[0][1].calendar["kind"] for members in groups.values()}
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            kind: await stack.enter_async_context(vendor_http.client(guard=policies[kind], timeout=10.0))
            for kind in kinds
            if kind in policies
        }

        async def one(members: list[tuple[str, InterviewerRow]]) -> None:
            kind = members[0][1].calendar["kind"]
            cal_ids = [_calendar_id(r) for _, r in members]
            try:
                client = clients.get(kind)
                if client is None:
                    raise ValueError(f"calendar kind {kind!r}")
                group = [r for _, r in members]
                source = _source(kind, members[0][1].calendar, group, client, retry, parser)
                got = await source.busy(cal_ids, start, end)
            except Exception as exc:  # noqa: BLE001 - any failure of a source means: unknown, never free
                log.warning("calendar source %s failed: %s", kind, type(exc).__name__)
                got = dict.fromkeys(cal_ids, Unknown(f"{kind}: {type(exc).__name__}"))
            for tenant, r in members:
                out[(tenant, r.id)] = got.get(_calendar_id(r), Unknown(f"{kind}: calendar missing"))

        await asyncio.gather(*(one(m) for m in groups.values()))
    return out


async def refresh_calendars(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str | None = None,
    ids: list[str] | None = None,
) -> list[RefreshResult]:
    """Read every external calendar (of one tenant, or of all tenants) and store busy blocks or status."""
    start = utc_now() - timedelta(days=1)
    end = start + timedelta(days=settings.calendar_horizon_days + 1)
    if tenant_id is None:
        async with system_tx(pool) as conn:
            rows = await interviewer_store.with_external_calendars(conn, None)
    else:
        async with tenant_tx(pool, tenant_id) as conn:
            rows = await interviewer_store.with_external_calendars(conn, tenant_id, ids or None)
    if not rows:
        return []
    box = credential_ring(settings)
    opened = []
    for tenant, row in rows:
        try:
            secret = box.open(row.calendar.get("credential", ""))
        except KeysUnavailable as exc:
            log.error("calendar of %s/%s: %s", tenant, row.id, exc)
            secret = ""  # the source then fails its auth: the interviewer becomes unknown, never free
        opened.append((tenant, dataclasses.replace(row, calendar={**row.calendar, "credential": secret})))
    rows = opened
    read = await read_calendars(rows, start, end, settings)
    results: list[RefreshResult] = []
    by_tenant: dict[str, list[InterviewerRow]] = {}
    for tenant, row in rows:
        by_tenant.setdefault(tenant, []).append(row)
    for tenant, members in by_tenant.items():
        async with tenant_tx(pool, tenant) as conn:
            for row in members:
                value = read[(tenant, row.id)]
                if isinstance(value, Unknown):
                    await interviewer_store.mark_unknown(conn, tenant, row.id, value.reason)
                    results.append(RefreshResult(tenant, row.id, "unknown", value.reason))
                else:
                    n = await interviewer_store.replace_busy(
                        conn, tenant, row.id, row.calendar["kind"], (start, end), list(value)
                    )
                    results.append(RefreshResult(tenant, row.id, "known", "", n))
    return results
