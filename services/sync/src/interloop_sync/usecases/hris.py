"""ATS -> HRIS at offer acceptance. The consumer of the service's own `ats.application.hired` plans the hire
as an action in the inbox transaction (no vendor call there); the automation worker runs it (``run_hire``)
with no connection held while the HRIS (or the ATS, for a Lever hire's application) answers, each database
step a short transaction of its own. It maps fields, writes the hire once (claimed in `hris_syncs` before
the call; an adapter with `idempotent_creates`, like Workday's applicant id, makes even a crash-retry safe),
reads it back and compares every field. The same hire seen again is compared field by field with the last
synced baseline: what only the ATS changed, on fields the ATS owns, is written as an update (only those
fields) and read back; what both sides changed is a conflict for a human (stored + alert), never
overwritten; what only the HRIS changed stands."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from google.protobuf import json_format
from interloop.events.v1 import ats_pb2
from interloop_common import vendor_http as vendor_errors
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.outbox import stage
from interloop_common.retry import Permanent

from interloop_sync.domain.jsonable import plain
from interloop_sync.domain.mapping import (
    FieldMapping,
    FieldMappingError,
    SyncPlan,
    compare_read_back,
    plan_sync,
)
from interloop_sync.store import automations as actions
from interloop_sync.store import hris, mirror
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import SOURCE, alert_owner, metrics
from interloop_sync.usecases.connections import token_renewer
from interloop_sync.usecases.context import SyncContext
from interloop_sync.vendors import registry
from interloop_sync.vendors._http import reason
from interloop_sync.vendors.hris import HrisClient

log = logging.getLogger(__name__)
# The automation worker's action kind of a planned hire; its context field ``hire`` (the event's payload) is
# dropped once the action is finished.
HIRE = actions.HIRE
HIRE_FIELD = "hire"


def hire_key(ats_connection_id: str, application_id: str) -> str:
    return f"hire:{ats_connection_id}:{application_id}"


async def vendor_failure(ctx: SyncContext, c: Connection, tenant_id: str, what: str, exc: Exception) -> None:
    """Record a failed vendor call (the fixed reason: code + HTTP status, never the vendor's answer) in a
    short transaction of its own, then let the error propagate: the worker retries it after a backoff (a
    Retry-After is honoured by the due time, not by a sleep), and alerts the owner."""
    direction = "outbound" if registry.kind(c.provider) == "ats" else "hris"
    async with tenant_tx(ctx.pool, tenant_id) as conn:
        await mirror.record_operation(conn, tenant_id, c.id, direction, what, "error", reason(exc))
    metrics.record(direction, what, "error")


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


async def plan_hire(
    ctx: SyncContext,
    conn: asyncpg.Connection,
    tenant: str,
    event_id: str,
    event_at: datetime,
    msg: ats_pb2.ApplicationHired,
) -> None:
    """In the inbox transaction: the hire becomes an action of the HRIS connection (one per event), which
    the worker claims, commits, and writes with no transaction open. Nothing here waits on a vendor."""
    ats = await ctx.cache.connection(conn, tenant, msg.connection_id)
    if ats is None:
        raise Permanent(f"connection {msg.connection_id} no longer exists")
    target = await ctx.cache.hris_for(conn, ats, registry.providers("hris"))
    if target is None:
        await mirror.record_operation(conn, tenant, ats.id, "hris", "hire", "skipped", "no HRIS connection")
        return
    await actions.add_system_action(
        conn,
        tenant,
        key=f"{HIRE}:{event_id}",
        rule_id="hris",
        kind=HIRE,
        context={
            HIRE_FIELD: json_format.MessageToDict(msg, preserving_proto_field_name=True),
            # one application's hires run in order (a re-sent hire compares with what the first wrote)
            "order_key": hire_key(ats.id, msg.remote_application_id),
        },
        event_at=event_at,
        due_at=utc_now(),
        connection_id=target.id,
    )


async def run_hire(ctx: SyncContext, tenant: str, context: dict[str, Any]) -> None:
    """The worker's part: claim (a short transaction), call the HRIS (none open), record (another)."""
    msg = json_format.ParseDict(context[HIRE_FIELD], ats_pb2.ApplicationHired(), ignore_unknown_fields=True)
    async with tenant_tx(ctx.pool, tenant) as conn:
        ats = await ctx.cache.connection(conn, tenant, msg.connection_id)
        target = await ctx.cache.hris_for(conn, ats, registry.providers("hris")) if ats else None
        key = hire_key(msg.connection_id, msg.remote_application_id)
        existing = await hris.get_sync(conn, tenant, key)
    if ats is None:
        raise Permanent(f"connection {msg.connection_id} no longer exists")
    if target is None:
        async with tenant_tx(ctx.pool, tenant) as conn:
            await mirror.record_operation(
                conn, tenant, ats.id, "hris", "hire", "skipped", "no HRIS connection"
            )
        return
    try:
        mapping = FieldMapping.from_dict(target.field_mapping)
        mapped = mapping.apply(await _source_document(ctx, ats, msg), today=utc_now().date())
    except FieldMappingError as exc:
        # A data problem no retry can fix: a human completes the record in the ATS, then replays.
        async with tenant_tx(ctx.pool, tenant) as conn:
            await hris.claim_sync(
                conn, tenant, key, target.id, ats.id, msg.remote_application_id, {}, "failed"
            )
            await hris.update_sync(conn, tenant, key, status="failed", last_error=str(exc))
            await mirror.record_operation(conn, tenant, target.id, "hris", "map", "error", str(exc))
            await alert_owner(
                conn,
                target,
                f"sync: hire of application {msg.remote_application_id} cannot be mapped",
                "; ".join(str(p) for p in exc.problems),
                candidate_id=msg.remote_candidate_id,
            )
        metrics.record("hris", "map", "error")
        return

    if (
        existing is not None
        and existing["status"] in ("verified", "mismatch", "conflict")
        and existing["remote_id"]
    ):
        await _update_existing(ctx, tenant, target, mapping, mapped, existing, msg.remote_candidate_id)
        return
    if existing is not None and existing["status"] == "shadowed":
        return
    if target.shadow:
        async with tenant_tx(ctx.pool, tenant) as conn:
            await hris.claim_sync(
                conn, tenant, key, target.id, ats.id, msg.remote_application_id, plain(mapped), "shadowed"
            )
            await mirror.record_operation(conn, tenant, target.id, "hris", "hire", "shadowed", key)
        metrics.record("hris", "hire", "shadowed")
        return
    client = _client(ctx, target)
    vendor = registry.hris(target.provider)
    remote_id = existing["remote_id"] if existing is not None else None
    if remote_id is None:
        if existing is not None and existing["status"] == "writing" and not vendor.idempotent_creates:
            # No idempotency key: an interrupted write may have landed. A human checks; never twice.
            async with tenant_tx(ctx.pool, tenant) as conn:
                await hris.update_sync(conn, tenant, key, status="ambiguous")
                await alert_owner(
                    conn,
                    target,
                    f"sync: hire {msg.remote_application_id} may or may not be in {vendor.display_name}",
                    f"an earlier write was interrupted; check {vendor.display_name} before "
                    f"replaying (key {key})",
                )
            return
        # The claim commits before the call, so a crash after the vendor accepted it is visible on retry.
        async with tenant_tx(ctx.pool, tenant) as conn:
            await hris.claim_sync(
                conn, tenant, key, target.id, ats.id, msg.remote_application_id, plain(mapped)
            )
        try:
            written = await client.create_hire(mapped, idempotency_key=key)
        except vendor_errors.VendorError as exc:
            async with tenant_tx(ctx.pool, tenant) as conn:
                await hris.update_sync(conn, tenant, key, last_error=reason(exc))
            await vendor_failure(ctx, target, tenant, "hire", exc)
            raise
        remote_id = written.remote_id
        metrics.HRIS_WRITES.labels(target.provider, "created" if written.created else "existing").inc()
        # The remote id commits on its own: a failed read-back must not lose it.
        async with tenant_tx(ctx.pool, tenant) as conn:
            await hris.update_sync(conn, tenant, key, status="written", remote_id=remote_id)
    try:
        read_back = await client.read_back(remote_id)
    except vendor_errors.VendorError as exc:
        await vendor_failure(ctx, target, tenant, "read_back", exc)
        raise
    written_to = _Written(target, key, remote_id, msg.remote_application_id, msg.remote_candidate_id)
    async with tenant_tx(ctx.pool, tenant) as conn:
        if await written_to.verify(conn, tenant, mapped, read_back, baseline=plain(mapped), what="write"):
            await hris.update_sync(
                conn, tenant, key, status="verified", baseline=plain(mapped), last_error=None
            )
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
        await alert_owner(
            conn,
            t,
            f"sync: {t.provider} record {self.remote_id} differs from the {what} sent",
            f"application {self.application_id} ({self.key}): {detail}",
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


async def _update_existing(
    ctx: SyncContext,
    tenant: str,
    target: Connection,
    mapping: FieldMapping,
    mapped: dict[str, Any],
    existing: asyncpg.Record,
    candidate_id: str = "",
) -> None:
    """A hire seen again for a record already in the HRIS: per-field source of truth against the baseline.
    The HRIS is read, then the plan recorded, then the writes made and read back, each call with no
    transaction open."""
    key, remote_id = existing["idempotency_key"], existing["remote_id"]
    client = _client(ctx, target)
    try:
        current = await client.read_back(remote_id)
    except vendor_errors.VendorError as exc:
        await vendor_failure(ctx, target, tenant, "read_back", exc)
        raise
    baseline = json.loads(existing["baseline"]) if existing["baseline"] else None
    plan = plan_sync(mapped, mapping.owners, current, baseline)
    async with tenant_tx(ctx.pool, tenant) as conn:
        await _record_plan(conn, tenant, target, key, remote_id, plan, candidate_id)
    if not plan.writes or target.shadow:
        return
    try:
        await client.update(remote_id, plan.writes)
        after = await client.read_back(remote_id)
    except vendor_errors.VendorError as exc:
        async with tenant_tx(ctx.pool, tenant) as conn:
            await hris.record_failure(conn, tenant, key, reason(exc))
        await vendor_failure(ctx, target, tenant, "update", exc)
        raise
    metrics.HRIS_WRITES.labels(target.provider, "updated").inc()
    new_baseline = plain(plan.baseline_after(baseline, current))
    written_to = _Written(target, key, remote_id, existing["application_id"], candidate_id)
    async with tenant_tx(ctx.pool, tenant) as conn:
        if await written_to.verify(
            conn, tenant, dict(plan.writes), after, baseline=new_baseline, what="update"
        ):
            status = "conflict" if plan.conflicts else "verified"
            await hris.update_sync(conn, tenant, key, status=status, baseline=new_baseline, last_error=None)
            await written_to.synced(conn, tenant, "update", dict(plan.writes))


async def _record_plan(
    conn: asyncpg.Connection,
    tenant: str,
    target: Connection,
    key: str,
    remote_id: str,
    plan: SyncPlan,
    candidate_id: str,
) -> None:
    """What the comparison found: conflicts for a human (stored + alert, nothing overwritten), a shadow
    connection's would-be writes, or a duplicate."""
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
        await alert_owner(
            conn,
            target,
            f"sync: conflicting changes to {target.provider} record {remote_id}",
            f"{key}: {detail}; nothing was overwritten",
            candidate_id=candidate_id,
        )
        metrics.record("hris", "update", "error")
    if plan.writes and target.shadow:
        await mirror.record_operation(
            conn, tenant, target.id, "hris", "update", "shadowed", f"{key}: {sorted(plan.writes)}"
        )
    if not plan.conflicts and not plan.writes:
        await mirror.record_operation(conn, tenant, target.id, "hris", "hire", "duplicate", key)
        metrics.record("hris", "hire", "duplicate")
