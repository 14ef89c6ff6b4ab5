"""Reconciliation: polls each active ATS connection for records changed since its persisted cursor (Harvest
`last_activity_after` + page cursor, Lever `updated_at_start` + offset), so a missed webhook is caught up.
Cursors are saved after every page (a restart resumes mid-run); RateLimited waits its Retry-After under the
shared vendor-HTTP retry policy;
a refusal (401) is tried once and alerts the connection's owner."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from interloop_common.clock import utc_now
from interloop_common.db import system_tx, tenant_tx
from interloop_common.errors import Conflict, NotFound, Unavailable
from interloop_common.periodic import every
from interloop_common.vendor_http import Permanent, VendorError, with_retries

from interloop_sync.domain.model import StageChange
from interloop_sync.domain.normalise import InterviewStagePolicy
from interloop_sync.store import connections, cursors, mirror
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import alert_owner, metrics
from interloop_sync.usecases.connections import token_renewer
from interloop_sync.usecases.context import SyncContext
from interloop_sync.usecases.inbound import _Apply
from interloop_sync.vendors import registry
from interloop_sync.vendors._http import reason
from interloop_sync.vendors.ats import AtsAdapter, AtsClient

log = logging.getLogger(__name__)
RESOURCE = "applications"


@dataclass
class RunResult:
    fetched: int = 0
    upserted: int = 0
    cursor: str = ""


def loop(ctx: SyncContext, *, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> Awaitable[None]:
    """Every interval, each active ATS connection with API credentials (disabled without keys or interval);
    a failed round (the database away) is logged and retried later, never the end of the process."""
    interval = ctx.settings.reconcile_interval_seconds if ctx.vault is not None else 0
    return every(interval, "reconciliation", lambda: reconcile_all(ctx), first_delay=interval, sleep=sleep)


async def reconcile_all(ctx: SyncContext) -> None:
    vault = ctx.require_vault()
    async with system_tx(ctx.pool) as conn:
        work = await connections.all_of(conn, registry.providers("ats"))
    for c in work:
        if c.shadow or not registry.ats(c.provider).has_api_access(vault.decrypt(c.credentials)):
            continue
        try:
            await run(ctx, c)
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the others
            log.exception("reconciliation of connection %s failed", c.id)


async def _page(
    ctx: SyncContext, client: AtsClient, updated_after: datetime | None, cursor: str | None
) -> Any:
    """One page under the vendor-HTTP retry policy: transient failures and rate limits (Retry-After) are
    retried, a refusal (401, 403, 4xx) is tried once."""
    return await with_retries(
        lambda: client.changed_since(updated_after, cursor),
        attempts=ctx.settings.consumer_max_attempts,
        initial=ctx.settings.consumer_backoff_initial_seconds,
        maximum=ctx.settings.consumer_backoff_max_seconds,
    )


async def run_connection(ctx: SyncContext, tenant_id: str, connection_id: str) -> RunResult:
    """Reconcile one ATS connection of the tenant now (``RunReconciliation``); a vendor's refusal answers
    FAILED_PRECONDITION, an unreachable vendor UNAVAILABLE, with the fixed reason only."""
    async with tenant_tx(ctx.pool, tenant_id) as conn:
        c = await connections.get(conn, tenant_id, connection_id)
    if c is not None and registry.kind(c.provider) == registry.PARTNER:
        raise Conflict(f"connection {connection_id} is a partner's: its changes are pushed, none polled")
    if c is None or registry.kind(c.provider) != "ats":
        raise NotFound(f"no ATS connection {connection_id}")
    try:
        return await run(ctx, c)
    except Permanent as exc:
        raise Conflict(f"reconciliation refused: {reason(exc)}") from None
    except VendorError as exc:
        raise Unavailable(f"reconciliation could not reach the vendor: {reason(exc)}") from None


async def run(ctx: SyncContext, c: Connection) -> RunResult:
    creds = ctx.require_vault().decrypt(c.credentials)
    adapter = registry.ats(c.provider)
    client = adapter.client(ctx.http(c.provider), c, creds, token_renewer(ctx, c))
    result = RunResult()
    async with tenant_tx(ctx.pool, c.tenant_id) as conn:
        cursor, updated_after, started = await cursors.start_run(conn, c.tenant_id, c.id, RESOURCE, utc_now())
    policy_ = InterviewStagePolicy.from_config(c.stage_policy) if c.stage_policy else InterviewStagePolicy()
    try:
        while True:
            page = await _page(ctx, client, updated_after, cursor)
            async with tenant_tx(ctx.pool, c.tenant_id) as conn:
                for item in page.items:
                    result.fetched += 1
                    if await _apply(conn, c, adapter, item, policy_):
                        result.upserted += 1
                cursor = page.next_cursor
                await cursors.save_page(conn, c.tenant_id, c.id, RESOURCE, cursor)
            if not cursor:
                break
    except Exception as exc:
        why = reason(exc)  # a fixed code and the HTTP status: never text from the vendor's answer
        async with tenant_tx(ctx.pool, c.tenant_id) as conn:
            await cursors.record_error(conn, c.tenant_id, c.id, RESOURCE, why)
            await mirror.record_operation(conn, c.tenant_id, c.id, "reconcile", RESOURCE, "error", why)
            if isinstance(exc, Permanent):  # refused (bad credentials): retrying cannot help, a human can
                await alert_owner(
                    conn,
                    c,
                    f"sync: reconciliation of {c.provider} connection {c.id} refused",
                    f"{type(exc).__name__}: {why}",
                )
        metrics.record("reconcile", RESOURCE, "error")
        raise
    async with tenant_tx(ctx.pool, c.tenant_id) as conn:
        await cursors.finish_run(conn, c.tenant_id, c.id, RESOURCE, started)
        await mirror.record_operation(
            conn,
            c.tenant_id,
            c.id,
            "reconcile",
            RESOURCE,
            "success",
            f"fetched={result.fetched} upserted={result.upserted}",
        )
    metrics.record("reconcile", RESOURCE, "success")
    result.cursor = started.isoformat()
    return result


async def _apply(
    conn: asyncpg.Connection,
    c: Connection,
    adapter: AtsAdapter,
    item: dict[str, Any],
    policy: InterviewStagePolicy,
) -> bool:
    apply = _Apply(conn, c, {}, "reconcile", [])
    polled = adapter.polled(item, policy)
    app, stage = polled.application, polled.stage
    before, _ = await mirror.current_stage(conn, c.tenant_id, c.id, app.remote_id)
    await apply.application(app, polled.candidate, polled.jobs)
    if stage is not None and before != stage.remote_id:
        await apply.on_StageChange(
            StageChange(
                provider=c.provider,
                event_id=f"reconcile:{app.remote_id}:{stage.remote_id}",
                action="reconcile",
                application_id=app.remote_id,
                candidate_id=app.candidate_id,
                to_stage=stage,
                is_interview_stage=policy(stage),
            )
        )
        return True
    return before is None
