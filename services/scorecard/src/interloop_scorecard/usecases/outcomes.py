"""What happened to candidates after their interviews: hiring decisions (announced as
`decision.recorded`), HRIS outcomes (90-day retention, first performance rating) that feed predictive
validity, and self-reported demographics, which only a compliance caller may write or read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from interloop.events.v1 import scorecard_pb2 as epb
from interloop_common import outbox
from interloop_common.db import tenant_tx
from interloop_common.errors import FieldViolations, Forbidden, NotFound
from interloop_common.rpc import ts

from interloop_scorecard.store import outcomes as store
from interloop_scorecard.usecases import SOURCE

DECISIONS = ("advance", "hire", "reject")
COMPLIANCE = "compliance"


async def record_decision(
    pool: asyncpg.Pool,
    tenant_id: str,
    *,
    candidate_id: str,
    job_id: str,
    decision: str,
    decided_by: str,
    reason: str,
) -> asyncpg.Record:
    bad = [
        (name, "required")
        for name, value in (("candidate_id", candidate_id), ("job_id", job_id), ("decided_by", decided_by))
        if not value
    ]
    if decision not in DECISIONS:
        bad.append(("decision", f"must be one of {list(DECISIONS)}, got {decision!r}"))
    if bad:
        raise FieldViolations(bad)
    async with tenant_tx(pool, tenant_id) as conn:
        row = await store.record_decision(
            conn,
            tenant_id,
            candidate_id=candidate_id,
            job_id=job_id,
            decision=decision,
            decided_by=decided_by,
            reason=reason,
        )
        await outbox.stage(
            conn,
            type="decision.recorded",
            source=SOURCE,
            tenant_id=tenant_id,
            subject=f"candidate/{candidate_id}",
            payload=epb.DecisionRecorded(
                candidate_id=candidate_id,
                job_id=job_id,
                decision=decision,
                decided_by=decided_by,
                reason=reason,
                decided_at=ts(row["decided_at"]),
            ),
            key=f"{tenant_id}/{candidate_id}",
        )
    return row


@dataclass(frozen=True)
class DecisionPage:
    decisions: list[asyncpg.Record]
    next_after: str  # "decided_at/id" of the last decision shown; "" on the last page


def decision_after(row: Mapping[str, Any] | asyncpg.Record) -> str:
    """Where the next page starts: the (decided_at, id) of the last decision shown, as text."""
    return f"{row['decided_at'].isoformat()}/{row['id']}"


def parse_decision_after(after: str) -> tuple[datetime, int] | None:
    """The (decided_at, id) a page token names; None for the first page."""
    if not after:
        return None
    at, _, last_id = after.rpartition("/")
    try:
        when, n = datetime.fromisoformat(at), int(last_id)
        ok = when.tzinfo is not None and 0 < n < 2**63  # ids are bigserial
    except ValueError:
        ok = False
    if not ok:
        raise FieldViolations([("page.page_token", "not a token returned by a previous page")])
    return when, n


async def list_decisions(
    pool: asyncpg.Pool, tenant_id: str, *, candidate_id: str, job_id: str, after: str, limit: int
) -> DecisionPage:
    """A candidate's decisions, newest first (in one job when `job_id` is set); the servicer checked
    candidate_id. An erased candidate's decisions stay, their reasons blanked by the erasure."""
    start = parse_decision_after(after)
    async with tenant_tx(pool, tenant_id) as conn:
        rows = await store.list_decisions(
            conn, tenant_id, candidate_id=candidate_id, job_id=job_id, after=start, limit=limit + 1
        )
    nxt = decision_after(rows[limit - 1]) if len(rows) > limit else ""
    return DecisionPage(rows[:limit], nxt)


async def record_outcome(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    candidate_id: str,
    outcome: str,
    value: float,
    recorded_at: datetime,
    job_id: str,
    application_id: str,
) -> None:
    """An HRIS outcome, inside the inbox's tenant transaction."""
    await store.record_outcome(
        conn,
        tenant_id,
        candidate_id=candidate_id,
        outcome=outcome,
        value=value,
        recorded_at=recorded_at,
        job_id=job_id,
        application_id=application_id,
    )


# -- demographics (compliance scope only) -------------------------------------------------------------


def require_compliance(scopes: Iterable[str]) -> None:
    if COMPLIANCE not in set(scopes):
        raise Forbidden("demographic data and adverse impact need the 'compliance' scope")


def _check_attributes(attributes: dict[str, str]) -> None:
    bad = [
        (f"attributes.{k or '<empty>'}", "attribute names and values must be non-empty text")
        for k, v in attributes.items()
        if not k.strip() or not v.strip()
    ]
    if not attributes:
        bad.append(("attributes", 'give at least one attribute, e.g. {"sex": "female"}'))
    if bad:
        raise FieldViolations(bad)


async def put_demographics(
    pool: asyncpg.Pool,
    tenant_id: str,
    candidate_id: str,
    attributes: dict[str, str],
    *,
    scopes: Iterable[str],
) -> dict[str, str]:
    require_compliance(scopes)
    if not candidate_id:
        raise FieldViolations([("candidate_id", "required")])
    _check_attributes(attributes)
    async with tenant_tx(pool, tenant_id) as conn:
        await store.put_demographics(conn, tenant_id, candidate_id, attributes)
    return attributes


async def get_demographics(
    pool: asyncpg.Pool, tenant_id: str, candidate_id: str, *, scopes: Iterable[str]
) -> dict[str, str]:
    require_compliance(scopes)
    async with tenant_tx(pool, tenant_id) as conn:
        attrs = await store.get_demographics(conn, tenant_id, candidate_id)
    if attrs is None:
        raise NotFound(f"no demographic data for candidate {candidate_id!r}")
    return attrs
