"""ATS -> HRIS at offer acceptance: consumes the service's own `ats.application.hired`, maps fields, writes
the hire once (claimed in `hris_syncs` before the call; an adapter with `idempotent_creates`, like Workday's
applicant id, makes even a crash-retry safe), reads it back and compares every field. The same hire seen
again is compared field by field with the last synced baseline: what only the ATS changed, on fields the ATS
owns, is written as an update (only those fields) and read back; what both sides changed is a conflict for a
human (stored + alert), never overwritten; what only the HRIS changed stands."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import asyncpg
from interloop.events.v1 import ats_pb2
from interloop_common import vendor_http as vendor_errors
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.outbox import stage, stage_alert
from interloop_common.retry import Permanent

from interloop_sync.domain.jsonable import plain
from interloop_sync.domain.mapping import (
    FieldMapping,
    FieldMappingError,
    SyncPlan,
    compare_read_back,
    plan_sync,
)
from interloop_sync.store import hris, mirror
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import SOURCE, metrics
from interloop_sync.usecases.connections import token_renewer
from interloop_sync.usecases.context import SyncContext
from interloop_sync.vendors import registry
from interloop_sync.vendors._http import reason
from interloop_sync.vendors.hris import HrisClient

log = logging.getLogger(__name__)
MAX_RATE_LIMIT_WAIT_S = 30.0


def hire_key(ats_connection_id: str, application_id: str) -> str:
    return f"hire:{ats_connection_id}:{application_id}"


async def vendor_failure(
    ctx: SyncContext, c: Connection, tenant_id: str, attempts: int, what: str, exc: Exception
) -> None:
    """Record a failed vendor call; when a retry cycle is exhausted alert the connection's owner, then
    let the error propagate (retry policy, dead letter). Retryable waits honour Retry-After. What is
    recorded and alerted is the fixed reason (code + HTTP status), never the vendor's answer."""
    direction = "outbound" if registry.kind(c.provider) == "ats" else "hris"
    exhausted = attempts % ctx.settings.consumer_max_attempts == 0
    async with tenant_tx(ctx.pool, tenant_id) as conn:
        await mirror.record_operation(conn, tenant_id, c.id, direction, what, "error", reason(exc))
        if exhausted or isinstance(exc, vendor_errors.Permanent):
            await stage_alert(
                conn,
                source=SOURCE,
                tenant_id=tenant_id,
                subject=f"connection/{c.id}",
                owner=c.owner,
                connection_id=c.id,
                summary=f"sync: {what} to {c.provider} failed after {attempts} attempt(s)",
                detail=f"{type(exc).__name__}: {reason(exc)}",
            )
    metrics.record(direction, what, "error")
    if isinstance(exc, vendor_errors.RateLimited):
        await asyncio.sleep(min(exc.retry_after_s, MAX_RATE_LIMIT_WAIT_S))
    # A vendor Permanent is a retry.Permanent: the caller re-raises it and it is never retried.


async def _source_document(
    ctx: SyncContext, ats: Connection, msg: ats_pb2.ApplicationHired
) -> dict[str, Any]:
    source = json.loads(msg.source_json or "{}")
    adapter = registry.adapter(ats.provider)
    if adapter is None or adapter.kind != "ats" or not adapter.hire_needs_fetch(source) or ctx.vault is None:
        return source
    # The hire webhook carried ids only (Lever): fetch the application (the mapping's source document).
    creds = ctx.cache.decrypt(ctx.vault, ats)
    if not adapter.has_api_access(creds):
        return source
    client = adapter.client(ctx.http(ats.provider), ats, creds, token_renewer(ctx, ats))
    return await client.fetch_application(msg.remote_application_id)


def _client(ctx: SyncContext, target: Connection) -> HrisClient:
    creds = ctx.cache.decrypt(ctx.vault, target)  # type: ignore[arg-type]
    return registry.hris(target.provider).client(ctx.http(target.provider), target, creds)


async def sync_hire(
    ctx: SyncContext, conn: asyncpg.Connection, tenant: str, msg: ats_pb2.ApplicationHired
) -> None:
    ats = await ctx.cache.connection(conn, tenant, msg.connection_id)
    if ats is None:
        raise Permanent(f"connection {msg.connection_id} no longer exists")
    target = await ctx.cache.hris_for(conn, ats, registry.providers("hris"))
    if target is None:
        await mirror.record_operation(conn, tenant, ats.id, "hris", "hire", "skipped", "no HRIS connection")
        return
    key = hire_key(ats.id, msg.remote_application_id)
    existing = await hris.get_sync(conn, tenant, key)
    try:
        mapping = FieldMapping.from_dict(target.field_mapping)
        mapped = mapping.apply(await _source_document(ctx, ats, msg), today=utc_now().date())
    except FieldMappingError as exc:
        # A data problem no retry can fix: a human completes the record in the ATS, then replays.
        async with tenant_tx(ctx.pool, tenant) as side:
            await hris.claim_sync(
                side, tenant, key, target.id, ats.id, msg.remote_application_id, {}, "failed"
            )
            await hris.update_sync(side, tenant, key, status="failed", last_error=str(exc))
            await mirror.record_operation(side, tenant, target.id, "hris", "map", "error", str(exc))
            await stage_alert(
                side,
                source=SOURCE,
                tenant_id=tenant,
                subject=f"connection/{target.id}",
                owner=target.owner,
                connection_id=target.id,
                summary=f"sync: hire of application {msg.remote_application_id} cannot be mapped",
                detail="; ".join(str(p) for p in exc.problems),
                candidate_id=msg.remote_candidate_id,
            )
        metrics.record("hris", "map", "error")
        return

    if (
        existing is not None
        and existing["status"] in ("verified", "mismatch", "conflict")
        and existing["remote_id"]
    ):
        await _update_existing(ctx, conn, tenant, target, mapping, mapped, existing, msg.remote_candidate_id)
        return
    if existing is not None and existing["status"] == "shadowed":
        return
    if target.shadow:
        await hris.claim_sync(
            conn, tenant, key, target.id, ats.id, msg.remote_application_id, plain(mapped), "shadowed"
        )
        await mirror.record_operation(conn, tenant, target.id, "hris", "hire", "shadowed", key)
        metrics.record("hris", "hire", "shadowed")
        return
    client = _client(ctx, target)
    vendor = registry.hris(target.provider)
    remote_id = existing["remote_id"] if existing is not None else None
    recording: asyncio.Future[None] | None = None
    if remote_id is None:
        if existing is not None and existing["status"] == "writing" and not vendor.idempotent_creates:
            # No idempotency key: an interrupted write may have landed. A human checks; never twice.
            await hris.update_sync(conn, tenant, key, status="ambiguous")
            await stage_alert(
                conn,
                source=SOURCE,
                tenant_id=tenant,
                subject=f"connection/{target.id}",
                owner=target.owner,
                connection_id=target.id,
                summary=f"sync: hire {msg.remote_application_id} may or may not be in {vendor.display_name}",
                detail=f"an earlier write was interrupted; check {vendor.display_name} before replaying "
                f"(key {key})",
            )
            return
        # The claim commits before the call, so a crash after the vendor accepted it is visible on retry.
        async with tenant_tx(ctx.pool, tenant) as side:
            attempts = await hris.claim_sync(
                side, tenant, key, target.id, ats.id, msg.remote_application_id, plain(mapped)
            )
        try:
            written = await client.create_hire(mapped, idempotency_key=key)
        except vendor_errors.VendorError as exc:
            async with tenant_tx(ctx.pool, tenant) as side:
                await hris.update_sync(side, tenant, key, last_error=reason(exc))
            await vendor_failure(ctx, target, tenant, attempts, "hire", exc)
            raise
        remote_id = written.remote_id
        metrics.HRIS_WRITES.labels(target.provider, "created" if written.created else "existing").inc()
        # The remote id commits on its own (a failed read-back must not lose it), alongside the read-back.
        recording = asyncio.ensure_future(_record_written(ctx, tenant, key, remote_id))
    try:
        read_back = await client.read_back(remote_id)
    except vendor_errors.VendorError as exc:
        attempts = (existing["attempts"] if existing is not None else 0) + 1
        await vendor_failure(ctx, target, tenant, attempts, "read_back", exc)
        raise
    finally:
        if recording is not None:
            await recording
    written_to = _Written(target, key, remote_id, msg.remote_application_id, msg.remote_candidate_id)
    if await written_to.verify(conn, tenant, mapped, read_back, baseline=plain(mapped), what="write"):
        await hris.update_sync(conn, tenant, key, status="verified", baseline=plain(mapped), last_error=None)
        await written_to.synced(conn, tenant, "hire", mapped)


@dataclass(frozen=True)
class _Written:
    """A record just written to the HRIS: its read-back verdict and its announcement."""

    target: Connection
    key: str
    remote_id: str
    application_id: str
    candidate_id: str = ""

    async def verify(
        self,
        conn: asyncpg.Connection,
        tenant: str,
        written: dict[str, Any],
        read_back: dict[str, Any],
        *,
        baseline: Any,
        what: str,
    ) -> bool:
        """True when every written field reads back as written; otherwise the record is marked, the
        owner alerted, and False."""
        mismatches = compare_read_back(written, read_back)
        if not mismatches:
            return True
        detail = "; ".join(
            f"{m.field}: wrote {plain(m.written)!r}, HRIS has {plain(m.read_back)!r}" for m in mismatches
        )
        await hris.update_sync(
            conn,
            tenant,
            self.key,
            status="mismatch",
            baseline=baseline,
            mismatches=[plain(m) for m in mismatches],
        )
        t = self.target
        await mirror.record_operation(conn, tenant, t.id, "hris", "read_back", "error", detail)
        await stage_alert(
            conn,
            source=SOURCE,
            tenant_id=tenant,
            subject=f"connection/{t.id}",
            owner=t.owner,
            connection_id=t.id,
            summary=f"sync: {t.provider} record {self.remote_id} differs from the {what} sent",
            detail=f"application {self.application_id} ({self.key}): {detail}",
            candidate_id=self.candidate_id,
        )
        metrics.record("hris", "read_back", "error")
        return False

    async def synced(self, conn: asyncpg.Connection, tenant: str, op: str, fields: dict[str, Any]) -> None:
        t = self.target
        await mirror.record_operation(
            conn, tenant, t.id, "hris", op, "success", f"{self.remote_id}: {sorted(fields)}"
        )
        metrics.record("hris", op, "success")
        await stage(
            conn,
            type="hris.employee.synced",
            source=SOURCE,
            tenant_id=tenant,
            subject=f"employee/{self.remote_id}",
            payload=ats_pb2.EmployeeSynced(
                hris_provider=t.provider,
                hris_connection_id=t.id,
                remote_employee_id=self.remote_id,
                remote_application_id=self.application_id,
                fields=sorted(fields),
            ),
        )


async def _write_update(
    ctx: SyncContext,
    conn: asyncpg.Connection,
    tenant: str,
    target: Connection,
    existing: asyncpg.Record,
    plan: SyncPlan,
    current: dict[str, Any],
    baseline: dict[str, Any] | None,
    candidate_id: str = "",
) -> None:
    """Write the ATS-owned fields that only the ATS changed (conflicted ones stay with the human), read
    the record back, compare what was written, and move the baseline on."""
    key, remote_id = existing["idempotency_key"], existing["remote_id"]
    client = _client(ctx, target)
    try:
        await client.update(remote_id, plan.writes)
        after = await client.read_back(remote_id)
    except vendor_errors.VendorError as exc:
        async with tenant_tx(ctx.pool, tenant) as side:  # counted even though the handler rolls back
            attempts = await hris.record_failure(side, tenant, key, reason(exc))
        await vendor_failure(ctx, target, tenant, attempts, "update", exc)
        raise
    metrics.HRIS_WRITES.labels(target.provider, "updated").inc()
    new_baseline = plain(plan.baseline_after(baseline, current))
    written_to = _Written(target, key, remote_id, existing["application_id"], candidate_id)
    if await written_to.verify(conn, tenant, dict(plan.writes), after, baseline=new_baseline, what="update"):
        status = "conflict" if plan.conflicts else "verified"
        await hris.update_sync(conn, tenant, key, status=status, baseline=new_baseline, last_error=None)
        await written_to.synced(conn, tenant, "update", dict(plan.writes))


async def _record_written(ctx: SyncContext, tenant: str, key: str, remote_id: str) -> None:
    async with tenant_tx(ctx.pool, tenant) as side:
        await hris.update_sync(side, tenant, key, status="written", remote_id=remote_id)


async def _update_existing(
    ctx: SyncContext,
    conn: asyncpg.Connection,
    tenant: str,
    target: Connection,
    mapping: FieldMapping,
    mapped: dict[str, Any],
    existing: asyncpg.Record,
    candidate_id: str = "",
) -> None:
    """A hire seen again for a record already in the HRIS: per-field source of truth against the baseline."""
    key = existing["idempotency_key"]
    current = await _client(ctx, target).read_back(existing["remote_id"])
    baseline = json.loads(existing["baseline"]) if existing["baseline"] else None
    plan = plan_sync(mapped, mapping.owners, current, baseline)
    for c in plan.conflicts:
        await hris.add_conflict(conn, tenant, key, c.field, c.baseline, c.ats_value, c.hris_value)
    if plan.conflicts:
        await hris.update_sync(conn, tenant, key, status="conflict")
        detail = "; ".join(
            f"{c.field}: ATS {plain(c.ats_value)!r} vs HRIS {plain(c.hris_value)!r} "
            f"(last synced {plain(c.baseline)!r})"
            for c in plan.conflicts
        )
        await mirror.record_operation(conn, tenant, target.id, "hris", "update", "error", detail)
        await stage_alert(
            conn,
            source=SOURCE,
            tenant_id=tenant,
            subject=f"connection/{target.id}",
            owner=target.owner,
            connection_id=target.id,
            summary=f"sync: conflicting changes to {target.provider} record {existing['remote_id']}",
            detail=f"{key}: {detail}; nothing was overwritten",
            candidate_id=candidate_id,
        )
        metrics.record("hris", "update", "error")
    if plan.writes and target.shadow:
        await mirror.record_operation(
            conn, tenant, target.id, "hris", "update", "shadowed", f"{key}: {sorted(plan.writes)}"
        )
    elif plan.writes:
        await _write_update(ctx, conn, tenant, target, existing, plan, current, baseline, candidate_id)
    if not plan.conflicts and not plan.writes:
        await mirror.record_operation(conn, tenant, target.id, "hris", "hire", "duplicate", key)
        metrics.record("hris", "hire", "duplicate")
