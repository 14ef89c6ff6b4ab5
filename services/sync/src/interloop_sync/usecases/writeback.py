"""Outbound write-back to the ATS: scorecard summaries as a Greenhouse note (On-Behalf-Of) or Lever feedback
(perform_as), interview status as a Greenhouse application custom field. Each write has an idempotency key
row, and the vendor-side marker makes even a crash-retry harmless. Shadow connections record what would have
been written and write nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
from interloop.events.v1 import interview_pb2, scorecard_pb2
from interloop_common import vendor_http as vendor_errors
from interloop_common.db import tenant_tx
from interloop_common.events import Event
from interloop_common.retry import Permanent

from interloop_sync.store import connections, hris, mirror
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import metrics
from interloop_sync.usecases.connections import lever_renewer
from interloop_sync.usecases.context import SyncContext
from interloop_sync.usecases.hris import vendor_failure
from interloop_sync.vendors.clients import greenhouse, lever

STATUS_FIELD = "interloop_interview_status"


async def scorecard_submitted(
    ctx: SyncContext, conn: asyncpg.Connection, tenant: str, msg: scorecard_pb2.ScorecardSubmitted
) -> None:
    """The scorecard's summary to every ATS record of its candidate (Greenhouse note, Lever feedback)."""
    body = (
        f"Interloop scorecard {msg.scorecard_id} (version {msg.version}) for interview {msg.booking_id}: "
        f"interviewer {msg.interviewer_id} recommends {msg.recommendation or 'no recommendation'}."
    )
    for rec in await hris.ats_records_of_candidate(conn, tenant, msg.candidate_id):
        c = await connections.get(conn, tenant, str(rec["connection_id"]))
        if c is None:
            continue
        key = f"scorecard:{msg.scorecard_id}:v{msg.version}:{c.id}"
        payload = {
            "candidate_id": rec["remote_id"],
            "application_id": rec["application_id"],
            "body": body,
            "interviewer_id": msg.interviewer_id,
            "recommendation": msg.recommendation,
        }
        kind = "note" if c.provider == "greenhouse" else "feedback"
        await _write(ctx, conn, tenant, c, key, kind, rec["remote_id"], payload)


async def interview_status(ctx: SyncContext, conn: asyncpg.Connection, tenant: str, event: Event) -> None:
    """The interview's status into the application's custom field (Greenhouse)."""
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
        if c is None or c.provider != "greenhouse":
            continue  # Lever has no application custom fields to write to
        key = f"interview:{booking}:{event.id}:{c.id}"
        payload = {
            "booking_id": booking,
            "application_id": application_id,
            "values": {STATUS_FIELD: status},
        }
        await _write(ctx, conn, tenant, c, key, "custom_fields", application_id, payload)


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
    existing = await hris.get_writeback(conn, tenant, key)
    if existing is not None and existing["status"] in ("written", "shadowed", "skipped"):
        await mirror.record_operation(conn, tenant, c.id, "outbound", kind, "duplicate", key)
        return
    if c.shadow:
        await hris.claim_writeback(conn, tenant, key, c.id, kind, target, payload, status="shadowed")
        await mirror.record_operation(conn, tenant, c.id, "outbound", kind, "shadowed", key)
        metrics.record("outbound", kind, "shadowed")
        return
    async with tenant_tx(ctx.pool, tenant) as side:
        attempts = await hris.claim_writeback(side, tenant, key, c.id, kind, target, payload)
    creds = ctx.vault.decrypt(c.credentials)  # type: ignore[union-attr]
    try:
        if kind == "note":
            result: Any = await greenhouse(ctx.http, c, creds).add_note(
                payload["candidate_id"],
                payload["body"],
                idempotency_key=key,
                user_id=c.settings.get("on_behalf_of"),
            )
            result = {"created": result.created}
        elif kind == "custom_fields":
            result = await greenhouse(ctx.http, c, creds).update_application_custom_fields(
                payload["application_id"], payload["values"]
            )
        else:
            if not payload.get("application_id") or "feedback_template_id" not in c.settings:
                await hris.finish_writeback(
                    conn, tenant, key, "skipped", {"reason": "no opportunity or template"}
                )
                return
            written = await lever(ctx.http, c, creds, lever_renewer(ctx, c)).submit_feedback(
                payload["application_id"],
                perform_as=c.settings.get("perform_as", ""),
                base_template_id=c.settings["feedback_template_id"],
                field_values=[{"id": c.settings.get("marker_field_id", "summary"), "value": payload["body"]}],
                idempotency_key=key,
                marker_field_id=c.settings.get("marker_field_id", "summary"),
            )
            result = {"created": written.created}
    except vendor_errors.VendorError as exc:
        await vendor_failure(ctx, c, tenant, attempts, kind, exc)
        raise
    except (KeyError, ValueError) as exc:
        raise Permanent(f"{kind} write-back to {c.provider}: {exc}") from exc
    await hris.finish_writeback(conn, tenant, key, "written", result)
    await mirror.record_operation(conn, tenant, c.id, "outbound", kind, "success", key)
    metrics.record("outbound", kind, "success")
