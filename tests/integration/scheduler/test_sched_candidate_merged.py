"""ats.candidate.merged on the scheduler (real PostgreSQL, Kafka and services): the merged candidate's links
and bookings become the survivor's, another candidate's stay, and a redelivery moves nothing more."""

from __future__ import annotations

import uuid

import pytest
from interloop.events.v1 import ats_pb2
from interloop_devstack.testing import eventually

from .conftest import ALWAYS, Tenant, open_link, publish_ats

pytestmark = pytest.mark.integration


async def test_a_merge_moves_the_merged_candidates_links_and_bookings_to_the_survivor(
    tenant: Tenant,
    platform,  # type: ignore[no-untyped-def]
) -> None:
    await tenant.put_interviewer("hm", working_hours=ALWAYS)
    merged, surviving, other = (f"{n}-{uuid.uuid4().hex[:6]}" for n in ("dup", "keep", "other"))
    link = await open_link(tenant, [{"interviewer_ids": ["hm"]}], candidate=merged, application_id="a-dup")
    slots = (await tenant.public.get(f"/v1/scheduling-links/{link['token']}/slots")).json()["slots"]
    ok = await tenant.public.post(
        f"/v1/scheduling-links/{link['token']}/confirm", json={"start": slots[0]["start"]}
    )
    assert ok.status_code == 200, ok.text
    await open_link(tenant, [{"interviewer_ids": ["hm"]}], candidate=other, application_id="a-other")

    event_id = str(uuid.uuid4())
    msg = ats_pb2.CandidatesMerged(
        provider="greenhouse", surviving_candidate_id=surviving, merged_candidate_id=merged
    )
    await publish_ats(platform, tenant.id, "ats.candidate.merged", msg, event_id)
    await publish_ats(platform, tenant.id, "ats.candidate.merged", msg, event_id)  # redelivered

    async def holdings() -> list:
        return await tenant.fetch(
            "SELECT 'link', candidate_id FROM scheduling_links WHERE tenant_id = $1"
            " UNION ALL SELECT 'booking', candidate_id FROM bookings WHERE tenant_id = $1 ORDER BY 1, 2",
            tenant.id,
        )

    async def moved() -> bool:
        return all(r[1] != merged for r in await holdings())

    await eventually(moved, what="the merged candidate re-keyed")
    assert sorted(tuple(r) for r in await holdings()) == sorted(
        [("booking", surviving), ("link", surviving), ("link", other)]
    )
    listed = await tenant.http.get("/v1/interviews", params={"candidate_id": surviving})
    assert listed.status_code == 200, listed.text
    assert [i["id"] for i in listed.json()["items"]] == [ok.json()["booking"]["id"]]
