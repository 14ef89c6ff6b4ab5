"""A candidate merge in the ATS reaches the scorecard service (ats.candidate.merged, its inbox handler, real
PostgreSQL with the service's migrations): the merged candidate's owed and submitted scorecards, decisions,
outcomes and demographics become the survivor's; where both hold the same outcome or answered the same
question, the survivor's stand; another candidate's rows stay; a redelivery moves nothing more."""

from __future__ import annotations

import json
import uuid

import pytest
from interloop.events.v1 import ats_pb2
from interloop_common import db
from interloop_common.events import new_event
from interloop_scorecard.events.consumers import erasure_handlers

pytestmark = pytest.mark.integration

T = "merge-tenant"


async def test_a_merge_moves_every_record_of_the_merged_candidate_to_the_survivor(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = infra.database(f"scorecard_merge_{uuid.uuid4().hex[:8]}")
    db.migrate(dsn, "interloop_scorecard")
    pool = await db.create_pool(dsn, min_size=1, max_size=2)
    try:
        async with db.tenant_tx(pool, T) as conn:
            for booking, candidate in (("b-old", "c-old"), ("b-new", "c-new"), ("b-other", "c-other")):
                await conn.execute(
                    "INSERT INTO expected_scorecards (tenant_id, booking_id, interviewer_id, candidate_id)"
                    " VALUES ($1, $2, 'i1', $3)",
                    T,
                    booking,
                    candidate,
                )
            await conn.execute(
                "INSERT INTO scorecards (tenant_id, id, version, booking_id, interviewer_id, candidate_id,"
                " status) VALUES ($1, $2, 1, 'b-old', 'i1', 'c-old', 'submitted')",
                T,
                uuid.uuid4(),
            )
            await conn.execute(
                "INSERT INTO decisions (tenant_id, candidate_id, job_id, decision, decided_by)"
                " VALUES ($1, 'c-old', 'j1', 'advance', 'hm@acme.test')",
                T,
            )
            for candidate, outcome, value in (
                ("c-old", "retained_90d", 1.0),
                ("c-old", "performance", 2.0),  # the survivor has its own: it stands
                ("c-new", "performance", 4.0),
            ):
                await conn.execute(
                    "INSERT INTO outcomes (tenant_id, candidate_id, outcome, value, recorded_at)"
                    " VALUES ($1, $2, $3, $4, now())",
                    T,
                    candidate,
                    outcome,
                    value,
                )
            for candidate, attributes in (
                ("c-old", {"sex": "female", "race": "asian"}),
                ("c-new", {"sex": "declined"}),
            ):
                await conn.execute(
                    "INSERT INTO candidate_demographics (tenant_id, candidate_id, attributes)"
                    " VALUES ($1, $2, $3::jsonb)",
                    T,
                    candidate,
                    json.dumps(attributes),
                )

        merged = new_event(
            type="ats.candidate.merged",
            source="//interloop/sync",
            tenant_id=T,
            subject="candidate/c-new",
            payload=ats_pb2.CandidatesMerged(
                provider="greenhouse", surviving_candidate_id="c-new", merged_candidate_id="c-old"
            ),
        )
        handler = erasure_handlers()["ats.candidate.merged"]
        for _ in range(2):  # delivered twice
            async with db.tenant_tx(pool, T) as conn:
                await handler(conn, merged)

        async with db.tenant_tx(pool, T) as conn:

            async def candidates(sql: str) -> list:
                return [tuple(r) for r in await conn.fetch(sql, T)]

            assert await candidates(
                "SELECT booking_id, candidate_id FROM expected_scorecards WHERE tenant_id = $1 ORDER BY 1"
            ) == [("b-new", "c-new"), ("b-old", "c-new"), ("b-other", "c-other")]
            assert await candidates("SELECT candidate_id FROM scorecards WHERE tenant_id = $1") == [
                ("c-new",)
            ]
            assert await candidates("SELECT candidate_id FROM decisions WHERE tenant_id = $1") == [("c-new",)]
            assert await candidates(
                "SELECT candidate_id, outcome, value FROM outcomes WHERE tenant_id = $1 ORDER BY 2"
            ) == [("c-new", "performance", 4.0), ("c-new", "retained_90d", 1.0)]
            demographics = await conn.fetch(
                "SELECT candidate_id, attributes FROM candidate_demographics WHERE tenant_id = $1", T
            )
            assert [(r["candidate_id"], json.loads(r["attributes"])) for r in demographics] == [
                ("c-new", {"sex": "declined", "race": "asian"})
            ]
    finally:
        await pool.close()
