"""Erasing a candidate's personal data (GDPR Art. 17/19) while keeping their ratings, under the opaque
candidate id, for the statistics."""

from __future__ import annotations

import asyncpg


async def erase_candidate(
    conn: asyncpg.Connection, tenant_id: str, candidate_id: str, *, demographics: bool
) -> dict[str, int]:
    """Blank the free text written about the candidate (rating evidence, amendment reasons, decision
    reasons) and, when asked, delete their self-reported demographics. Scores, recommendations and
    decisions stay. Returns how many rows each step touched."""
    evidence = await conn.execute(
        """UPDATE ratings r SET evidence = '' FROM scorecards s
           WHERE s.tenant_id = $1 AND s.candidate_id = $2 AND r.tenant_id = $1 AND r.scorecard_id = s.id
             AND r.version = s.version AND r.evidence <> ''""",
        tenant_id,
        candidate_id,
    )
    reasons = await conn.execute(
        """UPDATE scorecards SET amend_reason = '' WHERE tenant_id = $1 AND candidate_id = $2
             AND amend_reason IS NOT NULL AND amend_reason <> ''""",
        tenant_id,
        candidate_id,
    )
    decisions = await conn.execute(
        """UPDATE decisions SET reason = '' WHERE tenant_id = $1 AND candidate_id = $2 AND reason <> ''""",
        tenant_id,
        candidate_id,
    )
    removed = "DELETE 0"
    if demographics:
        removed = await conn.execute(
            "DELETE FROM candidate_demographics WHERE tenant_id = $1 AND candidate_id = $2",
            tenant_id,
            candidate_id,
        )
    return {
        "evidence": _count(evidence),
        "amend_reasons": _count(reasons),
        "decision_reasons": _count(decisions),
        "demographics": _count(removed),
    }


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])
