"""Post-hire outcomes (90-day retention, first performance rating) -> `hris.outcome.recorded` on the hris
topic, through the outbox in the transaction that records the observation; the scorecard service turns
them into predictive validity per job."""

from __future__ import annotations

import math
from datetime import datetime

import asyncpg
from interloop.events.v1 import ats_pb2
from interloop_common.db import tenant_tx
from interloop_common.events import new_event
from interloop_common.outbox import add_event
from interloop_common.rpc import ts

from interloop_sync.store import outcomes as store
from interloop_sync.usecases import SOURCE

RETAINED_90D = "retained_90d"
FIRST_RATING = "first_performance_rating"
KINDS = (RETAINED_90D, FIRST_RATING)


def problems(outcome: str, value: float) -> list[tuple[str, str]]:
    """Field violations of an outcome observation (empty when valid)."""
    out: list[tuple[str, str]] = []
    if outcome not in KINDS:
        out.append(("outcome", f"one of {', '.join(KINDS)}"))
    elif outcome == RETAINED_90D and value not in (0.0, 1.0):
        out.append(("value", "retained_90d is true (1) or false (0)"))
    if math.isnan(value) or math.isinf(value):
        out.append(("value", "a finite number"))
    return out


async def record_outcome(
    pool: asyncpg.Pool,
    tenant_id: str,
    *,
    candidate_id: str,
    job_id: str,
    application_id: str,
    outcome: str,
    value: float,
    recorded_at: datetime,
) -> tuple[str, bool]:
    """Store the observation and stage its event; the same observation again is a duplicate (no event)."""
    payload = ats_pb2.OutcomeRecorded(
        candidate_id=candidate_id,
        outcome=outcome,
        value=value,
        recorded_at=ts(recorded_at),
        job_id=job_id,
        application_id=application_id,
    )
    event = new_event(
        type="hris.outcome.recorded",
        source=SOURCE,
        tenant_id=tenant_id,
        subject=f"candidate/{candidate_id}",
        payload=payload,
    )
    async with tenant_tx(pool, tenant_id) as conn:
        event_id, duplicate = await store.record(
            conn,
            tenant_id,
            candidate_id=candidate_id,
            job_id=job_id,
            application_id=application_id,
            outcome=outcome,
            value=value,
            recorded_at=recorded_at,
            event_id=event.id,
        )
        if not duplicate:
            await add_event(conn, event, key=f"{tenant_id}/{candidate_id}")
    return event_id, duplicate
