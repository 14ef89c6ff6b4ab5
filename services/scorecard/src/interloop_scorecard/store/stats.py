"""Persisted accumulator state per (tenant, job, round, dimension), locked row by row for updates."""

from __future__ import annotations

import json

import asyncpg

from interloop_scorecard.domain.stats.state import DimensionState

Key = tuple[str, str, str]  # job_id, round, dimension


async def lock(conn: asyncpg.Connection, tenant_id: str, keys: list[Key]) -> dict[Key, DimensionState]:
    """Load (creating empty) states for `keys`, row-locked until the transaction ends.

    Keys are locked in sorted order so concurrent submissions cannot deadlock."""
    out: dict[Key, DimensionState] = {}
    for job, rnd, dim in sorted(set(keys)):
        await conn.execute(
            """INSERT INTO dimension_stats (tenant_id, job_id, round, dimension, state) VALUES ($1,
                 $2, $3, $4, $5::jsonb)
               ON CONFLICT DO NOTHING""",
            tenant_id,
            job,
            rnd,
            dim,
            json.dumps(DimensionState().to_state()),
        )
        raw = await conn.fetchval(
            """SELECT state FROM dimension_stats WHERE tenant_id = $1 AND job_id = $2 AND round =
                 $3 AND dimension = $4
               FOR UPDATE""",
            tenant_id,
            job,
            rnd,
            dim,
        )
        out[(job, rnd, dim)] = DimensionState.from_state(json.loads(raw))
    return out


async def save(conn: asyncpg.Connection, tenant_id: str, states: dict[Key, DimensionState]) -> None:
    await conn.executemany(
        """UPDATE dimension_stats SET state = $5::jsonb, n_ratings = $6, updated_at = now()
           WHERE tenant_id = $1 AND job_id = $2 AND round = $3 AND dimension = $4""",
        [(tenant_id, j, r, d, json.dumps(s.to_state()), s.n_ratings) for (j, r, d), s in states.items()],
    )


async def get(conn: asyncpg.Connection, tenant_id: str, key: Key) -> DimensionState | None:
    raw = await conn.fetchval(
        """SELECT state FROM dimension_stats
           WHERE tenant_id = $1 AND job_id = $2 AND round = $3 AND dimension = $4""",
        tenant_id,
        *key,
    )
    return DimensionState.from_state(json.loads(raw)) if raw else None


async def for_round(
    conn: asyncpg.Connection, tenant_id: str, job_id: str, round: str
) -> dict[str, DimensionState]:
    rows = await conn.fetch(
        """SELECT dimension, state FROM dimension_stats WHERE tenant_id = $1 AND job_id = $2 AND round = $3
             AND n_ratings > 0 ORDER BY dimension""",
        tenant_id,
        job_id,
        round,
    )
    return {r["dimension"]: DimensionState.from_state(json.loads(r["state"])) for r in rows}


async def keys(conn: asyncpg.Connection, tenant_id: str, job_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT job_id, round, dimension, n_ratings, updated_at FROM dimension_stats
           WHERE tenant_id = $1 AND ($2 = '' OR job_id = $2) AND n_ratings > 0 ORDER BY job_id,
             round, dimension""",
        tenant_id,
        job_id,
    )


async def all_states(conn: asyncpg.Connection, tenant_id: str) -> dict[Key, DimensionState]:
    rows = await conn.fetch(
        "SELECT job_id, round, dimension, state FROM dimension_stats WHERE tenant_id = $1 FOR UPDATE",
        tenant_id,
    )
    return {
        (r["job_id"], r["round"], r["dimension"]): DimensionState.from_state(json.loads(r["state"]))
        for r in rows
    }
