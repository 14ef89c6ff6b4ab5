"""The erasure tombstone every service keeps (table `erased_candidates`, common migration 0003).

An erasure erases what a service holds, then leaves a tombstone in the same transaction; every writer and
sender of personal data checks it, so an event already on Kafka, an email already planned or a scheduling
request already under way writes and sends nothing about the person afterwards."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
from interloop.events.v1 import ats_pb2

from interloop_common.outbox import stage

CONTACT_HINTS = ("email", "name", "phone")


def erases_person(fields: Iterable[str], *, deleted: bool) -> bool:
    """Whether an erasure leaves nothing to write or send to: a deletion, an anonymisation of everything
    (no fields named) or of a way to reach or name them."""
    named = [f.lower() for f in fields]
    return deleted or not named or any(h in f for f in named for h in CONTACT_HINTS)


async def tombstone(conn: asyncpg.Connection, tenant_id: str, candidate_id: str, source: str) -> None:
    """Record the erasure (the first one counts; later ones change nothing)."""
    await conn.execute(
        """INSERT INTO erased_candidates (tenant_id, candidate_id, source) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING""",
        tenant_id,
        candidate_id,
        source,
    )


async def is_erased(conn: asyncpg.Connection, tenant_id: str, candidate_id: str) -> bool:
    if not candidate_id:
        return False
    return bool(
        await conn.fetchval(
            "SELECT true FROM erased_candidates WHERE tenant_id = $1 AND candidate_id = $2",
            tenant_id,
            candidate_id,
        )
    )


async def acknowledge(
    conn: asyncpg.Connection, tenant_id: str, candidate_id: str, erasure_id: str, *, service: str, source: str
) -> None:
    """Answer a tracked erasure request (one with an id): `service` erased and left its tombstone, in the
    caller's transaction. An erasure without an id (an ATS deletion) is not tracked: nothing to answer."""
    if not erasure_id:
        return
    await stage(
        conn,
        type="ats.candidate.erasure_acknowledged",
        source=source,
        tenant_id=tenant_id,
        subject=f"candidate/{candidate_id}",
        payload=ats_pb2.CandidateErasureAcknowledged(
            erasure_id=erasure_id, candidate_id=candidate_id, service=service
        ),
    )
