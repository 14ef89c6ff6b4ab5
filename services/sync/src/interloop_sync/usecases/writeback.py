"""Outbound write-back to the ATS: scorecard summaries as the adapter's ``scorecard_writeback`` (a Greenhouse
note On-Behalf-Of, Lever feedback perform_as), interview status as its ``interview_status_writeback`` (a
Greenhouse application custom field; Lever has none). The consumers plan each write in the inbox transaction
(its idempotency key row in ``writebacks``, status pending, and an action for the automation worker), and
the worker writes it (``run_writeback``) with no transaction open during the ATS call; the vendor-side marker
makes even a crash-retry harmless. Shadow connections record what would have been written and write
nothing."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from interloop.events.v1 import interview_pb2, scorecard_pb2
from interloop_common import vendor_http as vendor_errors
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.events import Event
from interloop_common.retry import Permanent

from interloop_sync.store import automations as actions
from interloop_sync.store import connections, hris, mirror
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import metrics
from interloop_sync.usecases.connections import token_renewer
from interloop_sync.usecases.context import SyncContext
from interloop_sync.usecases.hris import vendor_failure
from interloop_sync.vendors import registry
from interloop_sync.vendors.ats import Skipped

STATUS_FIELD = "interloop_interview_status"
# The automation worker's action kind of a planned write-back (its context names the writebacks row).
WRITEBACK = actions.WRITEBACK


async def scorecard_submitted(
    ctx: SyncContext, conn: asyncpg.Connection, tenant: str, msg: scorecard_pb2.ScorecardSubmitted
) -> None:
    """The scorecard's summary to every ATS record of its candidate."""
    body = (
        f"Interloop scorecard {msg.scorecard_id} (version {msg.version}) for interview {msg.booking_id}: "
        f"interviewer {msg.interviewer_id} recommends {msg.recommendation or 'no recommendation'}."
    )
    for rec in await hris.ats_records_of_candidate(conn, tenant, msg.candidate_id):
        c = await connections.get(conn, tenant, str(rec["connection_id"]))
        adapter = registry.ats_api(c.provider) if c is not None else None
        if c is None or adapter is None:  # a partner's connection: no vendor API to write to
            continue
        key = f"scorecard:{msg.scorecard_id}:v{msg.version}:{c.id}"
        payload = {
            "candidate_id": rec["remote_id"],
            "application_id": rec["application_id"],
            "body": body,
            "interviewer_id": msg.interviewer_id,
            "recommendation": msg.recommendation,
        }
        kind = adapter.scorecard_writeback
        await _write(ctx, conn, tenant, c, key, kind, rec["remote_id"], payload)


async def interview_status(ctx: SyncContext, conn: asyncpg.Connection, tenant: str, event: Event) -> None:
    """The interview's status into the application's record, where the ATS has a place for it."""
    status = event.type.split(".", 1)[1]
    if event.type in ("interview.scheduled", "interview.rescheduled"):
        msg: Any = event.unpack(interview_pb2.InterviewScheduled)
        targets = (
            []
            if not msg.application_id
            else [r for r in await hris.ats_records_of_candidate(conn, tenant, msg.candidate_id)]
        )
        pairs = [(str(r["connection_id"]), msg.application_id) for r in targets]
        booking = msg.booking_id
    else:
        cls = interview_pb2.InterviewCancelled if status == "cancelled" else interview_pb2.InterviewCompleted
        msg = event.unpack(cls)
        booking = msg.booking_id
        found = await hris.booking_application(conn, tenant, booking)
        pairs = [(str(found["connection_id"]), found["target"])] if found else []
    for connection_id, application_id in pairs:
        c = await connections.get(conn, tenant, connection_id)
        adapter = registry.ats_api(c.provider) if c is not None else None
        kind = adapter.interview_status_writeback if adapter is not None else None
        if c is None or kind is None:
            continue
        key = f"interview:{booking}:{event.id}:{c.id}"
        payload = {
            "booking_id": booking,
            "application_id": application_id,
            "values": {STATUS_FIELD: status},
        }
        await _write(ctx, conn, tenant, c, key, kind, application_id, payload)


async def _write(
    ctx: SyncContext,
    conn: asyncpg.Connection,
    tenant: str,
    c: Connection,
    key: str,
    kind: str,
    target: str,
    payload: dict[str, Any],
) -> None:
    """In the inbox transaction: the write's row (pending) and the worker's action; no vendor call."""
    if await hris.get_writeback(conn, tenant, key) is not None:  # written, or planned already
        await mirror.record_operation(conn, tenant, c.id, "outbound", kind, "duplicate", key)
        return
    if c.shadow:
        await hris.claim_writeback(conn, tenant, key, c.id, kind, target, payload, status="shadowed")
        await mirror.record_operation(conn, tenant, c.id, "outbound", kind, "shadowed", key)
        metrics.record("outbound", kind, "shadowed")
        return
    # The row now, not when the worker gets to it: a later event of the booking finds its application here.
    await hris.claim_writeback(conn, tenant, key, c.id, kind, target, payload, status="pending", attempts=0)
    await actions.add_system_action(
        conn,
        tenant,
        key=f"{WRITEBACK}:{key}",
        rule_id="writeback",
        kind=WRITEBACK,
        # one ATS record's writes run in order (scheduled, then cancelled)
        context={"writeback": key, "order_key": f"{c.id}:{target}"},
        event_at=utc_now(),
        due_at=utc_now(),
        connection_id=c.id,
    )


async def run_writeback(ctx: SyncContext, tenant: str, key: str) -> None:
    """The worker's part: claim the row (a short transaction), write to the ATS (none open), record."""
    async with tenant_tx(ctx.pool, tenant) as conn:
        row = await hris.get_writeback(conn, tenant, key)
        if row is None or row["status"] in ("written", "shadowed", "skipped"):
            return
        c = await connections.get(conn, tenant, str(row["connection_id"]))
        if c is None:
            raise Permanent(f"connection {row['connection_id']} no longer exists")
        await hris.claim_writeback(conn, tenant, key, c.id, row["kind"], row["target"], {})
    kind, payload = row["kind"], json.loads(row["payload"])
    creds = ctx.require_vault().decrypt(c.credentials)
    try:
        client = registry.ats(c.provider).client(ctx.http(c.provider), c, creds, token_renewer(ctx, c))
        result = await client.write_back(kind, key, payload)
    except vendor_errors.VendorError as exc:
        await vendor_failure(ctx, c, tenant, kind, exc)
        raise
    except (KeyError, ValueError) as exc:
        raise Permanent(f"{kind} write-back to {c.provider}: {exc}") from exc
    async with tenant_tx(ctx.pool, tenant) as conn:
        if isinstance(result, Skipped):
            await hris.finish_writeback(conn, tenant, key, "skipped", {"reason": result.reason})
            return
        await hris.finish_writeback(conn, tenant, key, "written", result)
        await mirror.record_operation(conn, tenant, c.id, "outbound", kind, "success", key)
    metrics.record("outbound", kind, "success")
