"""Scorecard versions and their ratings. A draft is version 1 in state 'draft' (drafts have no history);
submission flips it to 'submitted'; every amendment inserts the next version and leaves the others."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from interloop_common.erasure import is_erased

from interloop_scorecard.domain.scorecards import Amendment, Rating, Recommendation, Scorecard, ScorecardState
from interloop_scorecard.domain.templates import TemplateRef


@dataclass(frozen=True)
class StoredCard:
    """A scorecard version plus what the domain object does not carry."""

    card: Scorecard
    job_id: str
    round: str
    scores: dict[str, float]  # dimension -> ordinal, as stored
    created_at: datetime
    first_submitted_at: datetime | None


def _card(r: asyncpg.Record, ratings: list[asyncpg.Record]) -> Scorecard:
    amendment = None
    if r["amended_by"]:
        amendment = Amendment(
            by=r["amended_by"],
            at=r["created_at"],
            reason=r["amend_reason"] or "",
            previous_version=r["version"] - 1,
        )
    return Scorecard(
        scorecard_id=str(r["id"]),
        interview_id=r["booking_id"],
        candidate_id=r["candidate_id"],
        interviewer_id=r["interviewer_id"],
        template=TemplateRef(str(r["template_id"]), r["template_version"]),
        ratings=tuple(Rating(x["dimension"], x["label"] or int(x["score"]), x["evidence"]) for x in ratings),
        overall=Recommendation(r["recommendation"]) if r["recommendation"] else None,
        confidence=int(r["confidence"]) if r["confidence"] is not None else None,
        interview_ended_at=r["interview_ended_at"],
        submitted_at=r["submitted_at"],
        state=ScorecardState(r["status"]),
        version=r["version"],
        amendment=amendment,
    )


async def _load(conn: asyncpg.Connection, tenant_id: str, rows: list[asyncpg.Record]) -> list[StoredCard]:
    if not rows:
        return []
    keys = [(r["id"], r["version"]) for r in rows]
    rating_rows = await conn.fetch(
        """SELECT r.* FROM ratings r JOIN unnest($2::uuid[], $3::int[]) AS k(id, version)
             ON r.scorecard_id = k.id AND r.version = k.version
           WHERE r.tenant_id = $1 ORDER BY r.dimension""",
        tenant_id,
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    by_key: dict[tuple, list[asyncpg.Record]] = {}
    for x in rating_rows:
        by_key.setdefault((x["scorecard_id"], x["version"]), []).append(x)
    first = dict(
        await conn.fetch(
            """SELECT id, submitted_at FROM scorecards WHERE tenant_id = $1 AND id =
                 ANY($2::uuid[]) AND version = 1""",
            tenant_id,
            list({k[0] for k in keys}),
        )
    )
    out = []
    for r in rows:
        rs = by_key.get((r["id"], r["version"]), [])
        out.append(
            StoredCard(
                _card(r, rs),
                r["job_id"],
                r["round"],
                {x["dimension"]: x["score"] for x in rs},
                r["created_at"],
                first.get(r["id"]),
            )
        )
    return out


async def versions(conn: asyncpg.Connection, tenant_id: str, scorecard_id: str) -> list[StoredCard]:
    try:
        sid = uuid.UUID(scorecard_id)
    except ValueError:
        return []
    rows = await conn.fetch(
        "SELECT * FROM scorecards WHERE tenant_id = $1 AND id = $2 ORDER BY version", tenant_id, sid
    )
    return await _load(conn, tenant_id, rows)


async def latest(conn: asyncpg.Connection, tenant_id: str, scorecard_id: str) -> StoredCard | None:
    """The newest version, row-locked for the caller's transaction (submit and amend build on it)."""
    try:
        sid = uuid.UUID(scorecard_id)
    except ValueError:
        return None
    rows = await conn.fetch(
        """SELECT * FROM scorecards WHERE tenant_id = $1 AND id = $2 ORDER BY version DESC LIMIT 1
           FOR UPDATE""",
        tenant_id,
        sid,
    )
    found = await _load(conn, tenant_id, rows)
    return found[0] if found else None


async def for_interview(
    conn: asyncpg.Connection,
    tenant_id: str,
    booking_id: str,
    interviewer_id: str,
) -> StoredCard | None:
    """The newest version of (interview, interviewer)'s scorecard, row-locked like `latest`."""
    rows = await conn.fetch(
        """SELECT * FROM scorecards WHERE tenant_id = $1 AND booking_id = $2 AND interviewer_id = $3
           ORDER BY version DESC LIMIT 1 FOR UPDATE""",
        tenant_id,
        booking_id,
        interviewer_id,
    )
    found = await _load(conn, tenant_id, rows)
    return found[0] if found else None


async def list_latest(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    booking_id: str = "",
    candidate_id: str = "",
    after: str = "",
    limit: int = 50,
) -> list[StoredCard]:
    rows = await conn.fetch(
        """SELECT DISTINCT ON (id) * FROM scorecards
           WHERE tenant_id = $1 AND ($2 = '' OR booking_id = $2) AND ($3 = '' OR candidate_id = $3)
             AND ($4 = '' OR id::text > $4)
           ORDER BY id, version DESC LIMIT $5""",
        tenant_id,
        booking_id,
        candidate_id,
        after,
        limit,
    )
    return await _load(conn, tenant_id, rows)


async def candidate_cards(conn: asyncpg.Connection, tenant_id: str, candidate_id: str) -> list[Scorecard]:
    """The latest version of every scorecard on a candidate (what the blind rule looks at)."""
    return [s.card for s in await list_latest(conn, tenant_id, candidate_id=candidate_id, limit=10_000)]


async def write(
    conn: asyncpg.Connection,
    tenant_id: str,
    card: Scorecard,
    *,
    job_id: str,
    round: str,
    scores: dict[str, float],
    labels: dict[str, str],
    insert: bool,
) -> None:
    """Insert a version (new draft or amendment) or overwrite the draft row in place, with its ratings.
    For a candidate erased here the free text about them (evidence, amendment reason) is not stored."""
    sid = uuid.UUID(card.scorecard_id)
    erased = await is_erased(conn, tenant_id, card.candidate_id)
    args = (
        tenant_id,
        sid,
        card.version,
        card.interview_id,
        card.interviewer_id,
        card.candidate_id,
        job_id,
        round,
        card.overall.value if card.overall else "",
        card.confidence,
        card.state.value,
        card.submitted_at,
        card.amendment.by if card.amendment else None,
        ("" if erased else card.amendment.reason) if card.amendment else None,
        uuid.UUID(card.template.template_id),
        card.template.version,
        card.interview_ended_at,
    )
    if insert:
        await conn.execute(
            """INSERT INTO scorecards (tenant_id, id, version, booking_id, interviewer_id,
                 candidate_id, job_id,
                   round, recommendation, confidence, status, submitted_at, amended_by,
                     amend_reason, template_id,
                   template_version, interview_ended_at, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                       COALESCE($18, now()))""",
            *args,
            card.amendment.at if card.amendment else None,
        )
    else:
        await conn.execute(
            """UPDATE scorecards SET recommendation = $4, confidence = $5, status = $6, submitted_at = $7,
                   template_id = $8, template_version = $9, updated_at = now()
               WHERE tenant_id = $1 AND id = $2 AND version = $3 AND status = 'draft'""",
            tenant_id,
            sid,
            card.version,
            card.overall.value if card.overall else "",
            card.confidence,
            card.state.value,
            card.submitted_at,
            uuid.UUID(card.template.template_id),
            card.template.version,
        )
        await conn.execute(
            "DELETE FROM ratings WHERE tenant_id = $1 AND scorecard_id = $2 AND version = $3",
            tenant_id,
            sid,
            card.version,
        )
    await conn.executemany(
        """INSERT INTO ratings (tenant_id, scorecard_id, version, dimension, score, evidence, label)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [
            (
                tenant_id,
                sid,
                card.version,
                r.dimension,
                scores[r.dimension],
                "" if erased else r.evidence,
                labels.get(r.dimension, ""),
            )
            for r in card.ratings
            if r.dimension in scores
        ],
    )


async def latest_submitted_ratings(conn: asyncpg.Connection, tenant_id: str) -> list[asyncpg.Record]:
    """(job_id, round, dimension, candidate_id, interviewer_id, score) of the newest version of every
    submitted scorecard: the batch input a statistics rebuild starts from."""
    return await conn.fetch(
        """WITH cur AS (
             SELECT DISTINCT ON (id) id, version, job_id, round, candidate_id, interviewer_id, status
             FROM scorecards WHERE tenant_id = $1 ORDER BY id, version DESC)
           SELECT cur.job_id, cur.round, r.dimension, cur.candidate_id, cur.interviewer_id, r.score,
                  t.dimensions
           FROM cur JOIN ratings r ON r.tenant_id = $1 AND r.scorecard_id = cur.id AND r.version = cur.version
           JOIN scorecards s ON s.tenant_id = $1 AND s.id = cur.id AND s.version = cur.version
           LEFT JOIN templates t ON t.tenant_id = $1 AND t.id = s.template_id AND t.version =
             s.template_version
           WHERE cur.status = 'submitted'
           ORDER BY cur.job_id, cur.round, r.dimension, cur.candidate_id, cur.interviewer_id""",
        tenant_id,
    )
