"""Erasure on request (GDPR Art. 17, CCPA): `EraseCandidate` erases what sync holds and fans out.

In one transaction sync erases the candidate in every connection's mirror, what was sent and planned for
them and dead-lettered records naming them, leaves its tombstone, records the request with a step per
service (its own done) and stages `ats.candidate.erased` with the request's id. The scheduler and the
scorecard service erase theirs, leave their tombstones and answer `ats.candidate.erasure_acknowledged`;
the request completes when every step is done."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from interloop.events.v1 import ats_pb2
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.erasure import tombstone
from interloop_common.errors import Conflict, NotFound
from interloop_common.events import Event, MalformedEvent
from interloop_common.inbox import erase_dead_letters
from interloop_common.outbox import stage

from interloop_sync.domain.identity import contact_needles
from interloop_sync.store import automations as actions
from interloop_sync.store import erasures as store
from interloop_sync.store import mirror
from interloop_sync.store import retention as retention_store
from interloop_sync.usecases import SOURCE


async def request(
    pool: asyncpg.Pool,
    tenant_id: str,
    candidate_id: str,
    requested_by: str,
    reason: str,
    *,
    source: str = "api",
) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    """One erasure request: erased here and fanned out, in one transaction. A candidate a legal hold
    covers is not erased (FAILED_PRECONDITION naming the holds): the duty to keep the records wins."""
    async with tenant_tx(pool, tenant_id) as conn:
        holds = await retention_store.holds_on(conn, tenant_id, candidate_id)
        if holds:
            raise Conflict(
                f"candidate {candidate_id!r} is under legal hold ({'; '.join(holds)}): nothing was erased"
            )
        erasure_id = await store.create(conn, tenant_id, candidate_id, requested_by, reason)
        needles: list[str] = []
        holding = await store.connections_holding(conn, tenant_id, candidate_id)
        for cid in holding:
            held = await mirror.get_candidate(conn, tenant_id, cid, candidate_id)
            if held is not None:
                needles += contact_needles(held)
            await mirror.erase_candidate(conn, tenant_id, cid, candidate_id, None, deleted=True)
        await erase_dead_letters(conn, tenant_id, needles)
        await actions.redact_candidate(conn, tenant_id, candidate_id)
        await tombstone(conn, tenant_id, candidate_id, source)
        await store.step_done(conn, tenant_id, erasure_id, "sync", utc_now())
        for cid in holding:
            # Art. 19: each ATS that holds them is told too, by the automation worker (outside this
            # transaction, retried), and what became of it is the step's outcome
            await store.add_step(conn, tenant_id, erasure_id, ats_step(cid))
            await actions.add_system_action(
                conn,
                tenant_id,
                key=f"erasure:{erasure_id}:{cid}",
                rule_id="erasure",
                kind=FORWARD,
                connection_id=cid,
                # not `candidate_id`: the tombstone stops every action about them, except this one
                context={"erased_candidate": candidate_id, "erasure_id": str(erasure_id)},
                event_at=utc_now(),
                due_at=utc_now(),
            )
        await stage(
            conn,
            type="ats.candidate.erased",
            source=SOURCE,
            tenant_id=tenant_id,
            subject=f"candidate/{candidate_id}",
            payload=ats_pb2.CandidateErased(
                remote_candidate_id=candidate_id, deleted=True, erasure_id=str(erasure_id)
            ),
        )
        found = await store.get(conn, tenant_id, erasure_id)
    assert found is not None
    return found


FORWARD = "forward_erasure"


def ats_step(connection_id: str) -> str:
    return f"ats:{connection_id}"


async def forwarded(
    conn: asyncpg.Connection,
    tenant_id: str,
    context: dict[str, Any],
    connection_id: str,
    outcome: str,
    detail: str,
) -> None:
    """The outcome of forwarding an erasure to one ATS connection: its step is finished."""
    await store.step_done(
        conn,
        tenant_id,
        uuid.UUID(context["erasure_id"]),
        ats_step(connection_id),
        utc_now(),
        outcome=outcome,
        detail=detail,
    )


async def get(pool: asyncpg.Pool, tenant_id: str, erasure_id: uuid.UUID) -> tuple[asyncpg.Record, list]:
    async with tenant_tx(pool, tenant_id) as conn:
        found = await store.get(conn, tenant_id, erasure_id)
    if found is None:
        raise NotFound(f"erasure {erasure_id} not found")
    return found


async def acknowledged(conn: asyncpg.Connection, event: Event) -> None:
    """A service's acknowledgement: its step is done (the request completes with the last)."""
    msg = event.unpack(ats_pb2.CandidateErasureAcknowledged)
    try:
        erasure_id = uuid.UUID(msg.erasure_id)
    except ValueError:
        raise MalformedEvent(
            f"{event.type} {event.id}: erasure_id {msg.erasure_id!r} is not a uuid"
        ) from None
    if msg.service not in store.SERVICES:
        raise MalformedEvent(f"{event.type} {event.id}: unknown service {msg.service!r}")
    await store.step_done(conn, event.tenant_id, erasure_id, msg.service, event.time)
