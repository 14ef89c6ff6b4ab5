"""HRIS outcomes, hiring decisions and (kept apart) candidate demographics, plus the joins that feed
predictive validity, adverse impact and the LL144 bias audit."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg


async def record_outcome(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    candidate_id: str,
    outcome: str,
    value: float,
    recorded_at: datetime,
    job_id: str = "",
    application_id: str = "",
) -> None:
    """Latest observation wins (per job when the job is known); an older event arriving late does not
    overwrite a newer one."""
    await conn.execute(
        """INSERT INTO outcomes (tenant_id, candidate_id, outcome, value, recorded_at, job_id, application_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (tenant_id, candidate_id, outcome, job_id) DO UPDATE
             SET value = EXCLUDED.value, recorded_at = EXCLUDED.recorded_at,
                 application_id = EXCLUDED.application_id
             WHERE outcomes.recorded_at <= EXCLUDED.recorded_at""",
        tenant_id,
        candidate_id,
        outcome,
        value,
        recorded_at,
        job_id,
        application_id,
    )


async def validity_rows(
    conn: asyncpg.Connection, tenant_id: str, job_id: str, outcome: str
) -> list[asyncpg.Record]:
    """Per (round, dimension, candidate with the outcome for this job): the mean ordinal over the newest
    versions of the submitted scorecards; dimension 'overall' is the recommendation (1..5)."""
    return await conn.fetch(
        """WITH cur AS (
             SELECT DISTINCT ON (id) id, version, round, candidate_id, recommendation, status
             FROM scorecards WHERE tenant_id = $1 AND job_id = $2 ORDER BY id, version DESC),
           scored AS (
             SELECT cur.round, r.dimension, cur.candidate_id, r.score
             FROM cur JOIN ratings r ON r.tenant_id = $1 AND r.scorecard_id = cur.id AND r.version
               = cur.version
             WHERE cur.status = 'submitted'
             UNION ALL
             SELECT cur.round, 'overall', cur.candidate_id,
                    array_position(ARRAY['definitely_not','no','mixed','yes','strong_yes'],
                      cur.recommendation)
             FROM cur WHERE cur.status = 'submitted' AND cur.recommendation <> '')
           SELECT s.round, s.dimension, s.candidate_id, avg(s.score)::float8 AS score, o.value
           FROM scored s JOIN LATERAL (
             -- the outcome recorded for this job, else one recorded without a job
             SELECT value FROM outcomes WHERE tenant_id = $1 AND candidate_id = s.candidate_id
               AND outcome = $3 AND job_id IN ($2, '')
             ORDER BY job_id = $2 DESC LIMIT 1) o ON true
           GROUP BY s.round, s.dimension, s.candidate_id, o.value
           ORDER BY s.round, s.dimension, s.candidate_id""",
        tenant_id,
        job_id,
        outcome,
    )


async def record_decision(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    candidate_id: str,
    job_id: str,
    decision: str,
    decided_by: str,
    reason: str,
) -> asyncpg.Record:
    return await conn.fetchrow(
        """INSERT INTO decisions (tenant_id, candidate_id, job_id, decision, decided_by, reason)
           VALUES ($1, $2, $3, $4, $5, CASE WHEN EXISTS (SELECT 1 FROM erased_candidates e
                   WHERE e.tenant_id = $1 AND e.candidate_id = $2) THEN '' ELSE $6 END)
           RETURNING *""",
        tenant_id,
        candidate_id,
        job_id,
        decision,
        decided_by,
        reason,
    )


async def list_decisions(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    candidate_id: str,
    job_id: str = "",
    after: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> list[asyncpg.Record]:
    """A candidate's decisions (in one job when `job_id` is set), newest first; `after` is the
    (decided_at, id) of the last row of the previous page, id breaking ties between equal timestamps."""
    at, last_id = after if after else (None, None)
    return await conn.fetch(
        """SELECT * FROM decisions
           WHERE tenant_id = $1 AND candidate_id = $2 AND ($3 = '' OR job_id = $3)
             AND ($4::timestamptz IS NULL OR (decided_at, id) < ($4, $5::bigint))
           ORDER BY decided_at DESC, id DESC LIMIT $6""",
        tenant_id,
        candidate_id,
        job_id,
        at,
        last_id,
        limit,
    )


async def put_demographics(
    conn: asyncpg.Connection, tenant_id: str, candidate_id: str, attributes: dict[str, str]
) -> None:
    await conn.execute(
        """INSERT INTO candidate_demographics (tenant_id, candidate_id, attributes) VALUES ($1, $2, $3::jsonb)
           ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET attributes = EXCLUDED.attributes,
             updated_at = now()""",
        tenant_id,
        candidate_id,
        json.dumps(attributes, sort_keys=True),
    )


async def merge_demographics(
    conn: asyncpg.Connection, tenant_id: str, candidate_id: str, attributes: dict[str, str]
) -> None:
    """The ATS's answers over what is stored (other attributes kept); nothing for an erased candidate."""
    await conn.execute(
        """INSERT INTO candidate_demographics (tenant_id, candidate_id, attributes)
           SELECT $1, $2, $3::jsonb
           WHERE NOT EXISTS (SELECT 1 FROM erased_candidates e WHERE e.tenant_id = $1 AND e.candidate_id = $2)
           ON CONFLICT (tenant_id, candidate_id) DO UPDATE
             SET attributes = candidate_demographics.attributes || EXCLUDED.attributes, updated_at = now()""",
        tenant_id,
        candidate_id,
        json.dumps(attributes, sort_keys=True),
    )


async def get_demographics(
    conn: asyncpg.Connection, tenant_id: str, candidate_id: str
) -> dict[str, str] | None:
    raw = await conn.fetchval(
        "SELECT attributes FROM candidate_demographics WHERE tenant_id = $1 AND candidate_id = $2",
        tenant_id,
        candidate_id,
    )
    return json.loads(raw) if raw else None


async def impact_rows(
    conn: asyncpg.Connection, tenant_id: str, job_id: str, round: str
) -> list[asyncpg.Record]:
    """Every candidate of the job with a decision or a submitted scorecard: latest decision, mean rating over
    the newest scorecard versions (in `round` if given), and demographics (NULL when never collected)."""
    return await conn.fetch(
        """WITH cur AS (
             SELECT DISTINCT ON (id) id, version, round, candidate_id, status
             FROM scorecards WHERE tenant_id = $1 AND job_id = $2 ORDER BY id, version DESC),
           scores AS (
             SELECT cur.candidate_id, avg(r.score)::float8 AS score
             FROM cur JOIN ratings r ON r.tenant_id = $1 AND r.scorecard_id = cur.id AND r.version
               = cur.version
             WHERE cur.status = 'submitted' AND ($3 = '' OR cur.round = $3)
             GROUP BY cur.candidate_id),
           dec AS (
             SELECT DISTINCT ON (candidate_id) candidate_id, decision
             FROM decisions WHERE tenant_id = $1 AND job_id = $2 ORDER BY candidate_id, decided_at
               DESC, id DESC),
           cands AS (SELECT candidate_id FROM scores UNION SELECT candidate_id FROM dec)
           SELECT c.candidate_id, s.score, d.decision, g.attributes
           FROM cands c LEFT JOIN scores s USING (candidate_id) LEFT JOIN dec d USING (candidate_id)
           LEFT JOIN candidate_demographics g ON g.tenant_id = $1 AND g.candidate_id = c.candidate_id
           ORDER BY c.candidate_id""",
        tenant_id,
        job_id,
        round,
    )


async def audit_decisions(
    conn: asyncpg.Connection, tenant_id: str, job_id: str, round: str, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """Per candidate in a job ('' = every job), the decision a bias audit of [start, end) counts, with their
    demographics (NULL when never collected): the latest decision recorded in the period; for one round, the
    first decision recorded after the candidate's interview in that round (its end, else the submission of
    its scorecard), kept when that decision falls in the period."""
    if round:
        return await conn.fetch(
            """WITH cur AS (
                 SELECT DISTINCT ON (id) id, candidate_id, status, interview_ended_at, submitted_at
                 FROM scorecards WHERE tenant_id = $1 AND job_id = $2 AND round = $3
                 ORDER BY id, version DESC),
               seen AS (
                 SELECT candidate_id, min(COALESCE(interview_ended_at, submitted_at)) AS at
                 FROM cur WHERE status = 'submitted' GROUP BY candidate_id),
               dec AS (
                 SELECT DISTINCT ON (d.candidate_id) d.candidate_id, d.decision, d.decided_at
                 FROM decisions d JOIN seen s ON s.candidate_id = d.candidate_id
                 WHERE d.tenant_id = $1 AND d.job_id = $2 AND d.decided_at >= s.at
                 ORDER BY d.candidate_id, d.decided_at, d.id)
               SELECT $2::text AS job_id, d.candidate_id, d.decision, d.decided_at, g.attributes
               FROM dec d LEFT JOIN candidate_demographics g ON g.tenant_id = $1 AND g.candidate_id =
                 d.candidate_id
               WHERE d.decided_at >= $4 AND d.decided_at < $5
               ORDER BY d.candidate_id""",
            tenant_id,
            job_id,
            round,
            start,
            end,
        )
    return await conn.fetch(
        """WITH dec AS (
             SELECT DISTINCT ON (job_id, candidate_id) job_id, candidate_id, decision, decided_at
             FROM decisions
             WHERE tenant_id = $1 AND ($2 = '' OR job_id = $2) AND decided_at >= $3 AND decided_at < $4
             ORDER BY job_id, candidate_id, decided_at DESC, id DESC)
           SELECT d.job_id, d.candidate_id, d.decision, d.decided_at, g.attributes
           FROM dec d LEFT JOIN candidate_demographics g ON g.tenant_id = $1 AND g.candidate_id =
             d.candidate_id
           ORDER BY d.job_id, d.candidate_id""",
        tenant_id,
        job_id,
        start,
        end,
    )


async def audit_scores(
    conn: asyncpg.Connection, tenant_id: str, job_id: str, round: str, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """Per candidate in a job ('' = every job) with submitted scorecards (newest versions, in `round` if
    given) submitted in [start, end): the mean rating, the first and last submission, and demographics."""
    return await conn.fetch(
        """WITH cur AS (
             SELECT DISTINCT ON (id) id, version, job_id, round, candidate_id, status, submitted_at
             FROM scorecards WHERE tenant_id = $1 AND ($2 = '' OR job_id = $2) ORDER BY id, version DESC),
           scored AS (
             SELECT cur.job_id, cur.candidate_id, avg(r.score)::float8 AS score,
                    min(cur.submitted_at) AS first_at, max(cur.submitted_at) AS last_at
             FROM cur JOIN ratings r ON r.tenant_id = $1 AND r.scorecard_id = cur.id AND r.version
               = cur.version
             WHERE cur.status = 'submitted' AND ($3 = '' OR cur.round = $3)
               AND cur.submitted_at >= $4 AND cur.submitted_at < $5
             GROUP BY cur.job_id, cur.candidate_id)
           SELECT s.job_id, s.candidate_id, s.score, s.first_at, s.last_at, g.attributes
           FROM scored s LEFT JOIN candidate_demographics g ON g.tenant_id = $1 AND g.candidate_id =
             s.candidate_id
           ORDER BY s.job_id, s.candidate_id""",
        tenant_id,
        job_id,
        round,
        start,
        end,
    )
