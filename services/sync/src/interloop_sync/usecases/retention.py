"""Retention with legal holds: a candidate every one of whose applications closed longer ago than the
tenant's policy keeps them (one year after the decision by default, two for federal contractors) is erased
through the same fan-out as an erasure request, unless a legal hold covers them (on them, a job they
applied to, or the tenant); each purge, and each dry run, leaves a report of what it erased and what it
kept and why. Sync runs it on a schedule (one replica at a time) and on request."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from interloop_common.clock import utc_now
from interloop_common.db import system_tx, tenant_tx
from interloop_common.periodic import every

from interloop_sync.store import retention as store
from interloop_sync.usecases import erasures
from interloop_sync.usecases.context import SyncContext

log = logging.getLogger(__name__)
LOCK = 0x1E7E_4710  # one scheduled purge at a time across replicas (pg_try_advisory_lock)


async def run_purge(
    pool: asyncpg.Pool, tenant_id: str, *, by: str, dry_run: bool, now: datetime | None = None
) -> tuple[asyncpg.Record, list[dict[str, Any]], list[dict[str, Any]]]:
    """(the stored report, who was erased, who was kept and why)."""
    now = now or utc_now()
    async with tenant_tx(pool, tenant_id) as conn:
        days = store.keep_days(await store.policy(conn, tenant_id))
        plan = [
            (r["candidate_id"], r["closed_at"], await store.holds_on(conn, tenant_id, r["candidate_id"]))
            for r in await store.due(conn, tenant_id, now - timedelta(days=days))
        ]
    purged: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for candidate_id, closed_at, reasons in plan:
        entry = {"candidate_id": candidate_id, "closed_at": closed_at.isoformat()}
        if reasons:
            held.append({**entry, "reasons": reasons})
            continue
        if not dry_run:
            row, _ = await erasures.request(
                pool,
                tenant_id,
                candidate_id,
                by,
                f"retention: every application closed more than {days} days ago",
                source="retention",
            )
            entry["erasure_id"] = str(row["id"])
        purged.append(entry)
    async with tenant_tx(pool, tenant_id) as conn:
        report = await store.record_purge(
            conn, tenant_id, by=by, dry_run=dry_run, days=days, purged=purged, held=held
        )
    return report, purged, held


async def purge_all(ctx: SyncContext) -> int:
    """Every tenant's purge, by one replica at a time; returns how many candidates were erased."""
    async with ctx.pool.acquire() as lock:
        if not await store.try_lock(lock, LOCK):
            return 0  # another replica is purging
        try:
            async with system_tx(ctx.pool) as conn:
                tenants = await store.tenants_with_applications(conn)
            erased = 0
            for tenant_id in tenants:
                _, purged, _ = await run_purge(ctx.pool, tenant_id, by="retention-schedule", dry_run=False)
                if purged:
                    log.info("retention purged %d candidates of tenant %s", len(purged), tenant_id)
                erased += len(purged)
            return erased
        finally:
            await store.unlock(lock, LOCK)


def loop(ctx: SyncContext) -> Awaitable[None]:
    """The scheduled purge (INTERLOOP_SYNC_RETENTION_INTERVAL_SECONDS; 0 turns it off)."""
    return every(
        ctx.settings.retention_interval_seconds,
        "retention",
        lambda: purge_all(ctx),
        first_delay=min(ctx.settings.retention_interval_seconds, 60.0),
    )
