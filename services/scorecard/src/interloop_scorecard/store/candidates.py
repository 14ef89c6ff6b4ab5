"""A candidate's records across the scorecard tables, by the ATS's candidate id."""

from __future__ import annotations

import asyncpg


async def rekey_candidate(
    conn: asyncpg.Connection, tenant_id: str, merged_id: str, surviving_id: str
) -> dict[str, int]:
    """Move the merged candidate's rows to the survivor. Where both hold the same outcome (per job) or both
    answered the demographics questions, the survivor's stand and the merged one's fill only the gaps."""
    moved: dict[str, int] = {}
    for table in ("expected_scorecards", "scorecards", "decisions"):
        status = await conn.execute(
            f"UPDATE {table} SET candidate_id = $3 WHERE tenant_id = $1 AND candidate_id = $2",  # noqa: S608 - ours
            tenant_id,
            merged_id,
            surviving_id,
        )
        moved[table] = int(status.split()[-1])
    status = await conn.execute(
        """UPDATE outcomes o SET candidate_id = $3
           WHERE o.tenant_id = $1 AND o.candidate_id = $2
             AND NOT EXISTS (SELECT 1 FROM outcomes s WHERE s.tenant_id = $1 AND s.candidate_id = $3
                             AND s.outcome = o.outcome AND s.job_id = o.job_id)""",
        tenant_id,
        merged_id,
        surviving_id,
    )
    moved["outcomes"] = int(status.split()[-1])
    await conn.execute(
        "DELETE FROM outcomes WHERE tenant_id = $1 AND candidate_id = $2", tenant_id, merged_id
    )
    status = await conn.execute(
        """INSERT INTO candidate_demographics (tenant_id, candidate_id, attributes)
           SELECT tenant_id, $3, attributes FROM candidate_demographics
           WHERE tenant_id = $1 AND candidate_id = $2
           ON CONFLICT (tenant_id, candidate_id) DO UPDATE
               SET attributes = EXCLUDED.attributes || candidate_demographics.attributes,
                   updated_at = now()""",
        tenant_id,
        merged_id,
        surviving_id,
    )
    moved["candidate_demographics"] = int(status.split()[-1])
    await conn.execute(
        "DELETE FROM candidate_demographics WHERE tenant_id = $1 AND candidate_id = $2", tenant_id, merged_id
    )
    return moved
