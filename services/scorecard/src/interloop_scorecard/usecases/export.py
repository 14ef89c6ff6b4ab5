"""Access requests: everything the scorecard service holds about one candidate, in the tenant's
transaction: scorecards (every version) with their ratings and evidence, expected scorecards, decisions,
outcomes and self-reported demographics."""

from __future__ import annotations

from typing import Any

import asyncpg
from interloop_common.db import tenant_tx
from interloop_common.export import gather

QUERIES = {
    "scorecards": """SELECT * FROM scorecards WHERE tenant_id = $1 AND candidate_id = $2
        ORDER BY created_at, version""",
    "ratings": """SELECT r.* FROM ratings r JOIN scorecards s
        ON s.tenant_id = r.tenant_id AND s.id = r.scorecard_id AND s.version = r.version
        WHERE r.tenant_id = $1 AND s.candidate_id = $2 ORDER BY r.scorecard_id, r.version, r.dimension""",
    "expected_scorecards": "SELECT * FROM expected_scorecards WHERE tenant_id = $1 AND candidate_id = $2",
    "decisions": "SELECT * FROM decisions WHERE tenant_id = $1 AND candidate_id = $2 ORDER BY decided_at",
    "outcomes": "SELECT * FROM outcomes WHERE tenant_id = $1 AND candidate_id = $2",
    "candidate_demographics": """SELECT * FROM candidate_demographics
        WHERE tenant_id = $1 AND candidate_id = $2""",
    "erased_candidates": "SELECT * FROM erased_candidates WHERE tenant_id = $1 AND candidate_id = $2",
}


async def export(pool: asyncpg.Pool, tenant_id: str, candidate_id: str) -> dict[str, list[dict[str, Any]]]:
    async with tenant_tx(pool, tenant_id) as conn:
        return await gather(conn, tenant_id, candidate_id, QUERIES)
