"""Reconciliation: polls each active ATS connection for records changed since its persisted cursor (Harvest
`last_activity_after` + page cursor, Lever `updated_at_start` + offset), so a missed webhook is caught up.
Cursors are saved after every page (a restart resumes mid-run); RateLimited waits its Retry-After under the
shared vendor-HTTP retry policy; a refusal (401) is tried once and alerts the connection's owner.

Each connection is reconciled on its own: one that fails (a credential no key opens, a vendor refusing) is
recorded on its cursor row and alerted to its owner (once per new cause, not every round) while the others
go on. Each round has a budget per connection (pages and seconds): a run that needs more stops with its
page cursor stored and resumes from it next round; a vendor answering with the cursor it was asked for, or
a run past ``reconcile_max_run_pages`` in all, is cut off (the run starts over from its watermark) and
alerted instead of paging forever. No transaction is open while the vendor answers."""

from __future__ import annotations

import asyncio
import logging
import time
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

from interloop_sync.domain.credentials import CredentialError
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
    # False when the round's budget ran out first: the page cursor is stored and the next round resumes.
    complete: bool = True


@dataclass(frozen=True)
class Budget:
    """What one round may spend on one connection: pages read, and seconds on ``clock`` (monotonic)."""

    pages: int
    seconds: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def of(cls, ctx: SyncContext, clock: Callable[[], float] = time.monotonic) -> Budget:
        s = ctx.settings
        return cls(s.reconcile_page_budget, s.reconcile_time_budget_seconds, clock)


class RunCutOff(Exception):
    """The vendor's paging does not end (the same cursor again, or more pages than a run may read)."""


def loop(ctx: SyncContext, *, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> Awaitable[None]:
    """Every interval, each active ATS connection with API credentials (disabled without keys or interval);
    a failed round (the database away) is logged and retried later, never the end of the process."""
    interval = ctx.settings.reconcile_interval_seconds if ctx.vault is not None else 0
    return every(interval, "reconciliation", lambda: reconcile_all(ctx), first_delay=interval, sleep=sleep)


async def reconcile_all(ctx: SyncContext, clock: Callable[[], float] = time.monotonic) -> int:
    """One round over every active ATS connection with API credentials, each within its budget and on its
    own (run records and alerts a failure, and the others go on); how many failed."""
    ctx.require_vault()
    async with system_tx(ctx.pool) as conn:
        work = await connections.all_of(conn, registry.providers("ats"))
    failed = 0
    for c in work:
        if c.shadow:
            continue
        try:
            await run(ctx, c, budget=Budget.of(ctx, clock), polled_only=True)
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the others
            failed += 1
            log.exception("reconciliation of connection %s failed", c.id)
    return failed


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
        return await run(ctx, c, budget=Budget.of(ctx))
    except Permanent as exc:
        raise Conflict(f"reconciliation refused: {reason(exc)}") from None
    except VendorError as exc:
        raise Unavailable(f"reconciliation could not reach the vendor: {reason(exc)}") from None


async def run(
    ctx: SyncContext, c: Connection, *, budget: Budget | None = None, polled_only: bool = False
) -> RunResult:
    """Reconcile ``c`` within ``budget`` (none: to the end). ``polled_only`` skips a connection without API
    credentials (the background loop's choice) instead of failing. Any failure is recorded (and alerted
    when a human must act and it is new), then raised."""
    result = RunResult()
    try:
        creds = ctx.require_vault().decrypt(c.credentials)
        adapter = registry.ats(c.provider)
        if polled_only and not adapter.has_api_access(creds):
            return result
        client = adapter.client(ctx.http(c.provider), c, creds, token_renewer(ctx, c))
        async with tenant_tx(ctx.pool, c.tenant_id) as conn:
            cursor, updated_after, started = await cursors.start_run(
                conn, c.tenant_id, c.id, RESOURCE, utc_now()
            )
        policy_ = (
            InterviewStagePolicy.from_config(c.stage_policy) if c.stage_policy else InterviewStagePolicy()
        )
        pages, deadline = 0, budget.clock() + budget.seconds if budget else 0.0
        while True:
            if budget is not None and pages > 0 and (pages >= budget.pages or budget.clock() >= deadline):
                result.complete = False
                break
            page = await _page(ctx, client, updated_after, cursor)
            pages += 1
            if page.next_cursor and page.next_cursor == cursor:
                raise RunCutOff(f"{c.provider}: the next page's cursor is the one just read")
            async with tenant_tx(ctx.pool, c.tenant_id) as conn:
                for item in page.items:
                    result.fetched += 1
                    if await _apply(conn, c, adapter, item, policy_):
                        result.upserted += 1
                cursor = page.next_cursor
                read = await cursors.save_page(conn, c.tenant_id, c.id, RESOURCE, cursor)
            if cursor and read >= ctx.settings.reconcile_max_run_pages:
                raise RunCutOff(f"{c.provider}: more than {read} pages in one run")
            if not cursor:
                break
    except Exception as exc:
        await _failed(ctx, c, exc)
        raise
    # Finished: the next run asks for what changed since this one started. Out of budget: it resumes here.
    outcome = "success" if result.complete else "partial"
    async with tenant_tx(ctx.pool, c.tenant_id) as conn:
        if result.complete:
            await cursors.finish_run(conn, c.tenant_id, c.id, RESOURCE, started)
        await mirror.record_operation(
            conn,
            c.tenant_id,
            c.id,
            "reconcile",
            RESOURCE,
            outcome,
            f"fetched={result.fetched} upserted={result.upserted}"
            + ("" if result.complete else "; resumes next round"),
        )
    metrics.record("reconcile", RESOURCE, outcome)
    result.cursor = started.isoformat() if result.complete else cursor or ""
    return result


async def _failed(ctx: SyncContext, c: Connection, exc: Exception) -> None:
    """Record the failure on the connection's cursor row and in its operations; alert the owner when a
    human must act (a refusal, a credential no key opens, paging that does not end) and the cause is new."""
    why = reason(exc) if isinstance(exc, VendorError) else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, CredentialError):
        why = f"{type(exc).__name__}: {exc}"  # says which setting, never the token
    human = isinstance(exc, (Permanent, CredentialError, RunCutOff))
    async with tenant_tx(ctx.pool, c.tenant_id) as conn:
        new = await cursors.record_error(
            conn, c.tenant_id, c.id, RESOURCE, why, abandon_run=isinstance(exc, RunCutOff)
        )
        await mirror.record_operation(conn, c.tenant_id, c.id, "reconcile", RESOURCE, "error", why)
        if human and new:
            what = "refused" if isinstance(exc, Permanent) else "failed"
            await alert_owner(
                conn,
                c,
                f"sync: reconciliation of {c.provider} connection {c.id} {what}",
                f"{type(exc).__name__}: {why}" if isinstance(exc, Permanent) else why,
            )
    metrics.record("reconcile", RESOURCE, "error")


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
