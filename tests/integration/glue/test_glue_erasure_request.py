"""An erasure a tenant's compliance officer asks for over REST (GDPR Art. 17): one request fans out from
sync to the scheduler and the scorecard service over Kafka, each erases, leaves its tombstone and
acknowledges, and the request completes when all have; another candidate is untouched; only admin and
compliance keys may ask, and only for their own tenant (real services, PostgreSQL and Kafka)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from interloop_cli.demo import create_api_key
from interloop_devstack.testing import Mailbox, eventually

from .conftest import Tenant, stage_change
from .test_glue_ats_events import _panel

pytestmark = pytest.mark.integration


async def test_an_erasure_request_reaches_every_service_and_completes(
    tenant: Tenant, mailbox: Mailbox
) -> None:
    await _panel(tenant, "3485")
    body, candidate_id, email = stage_change(51)
    other_body, other_id, other_email = stage_change(52)
    for b in (body, other_body):
        assert (await tenant.webhook(b)).status_code == 202
    await eventually(lambda: mailbox.to(email) and mailbox.to(other_email), what="both link emails")

    base = tenant.platform.base_url
    dsn = tenant.platform.dsns["gateway"]
    compliance = await create_api_key(
        dsn, tenant_id=tenant.id, key=f"il_{tenant.id}_c", scopes=("compliance",)
    )
    recruiter = await create_api_key(dsn, tenant_id=tenant.id, key=f"il_{tenant.id}_r", scopes=("recruiter",))
    stranger_tenant = f"glue-{uuid.uuid4().hex[:8]}"
    stranger = await create_api_key(dsn, tenant_id=stranger_tenant, key=f"il_{stranger_tenant}_a")

    def client(key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    async with client(compliance) as comp, client(recruiter) as rec, client(stranger) as other:
        refused = await rec.post("/v1/privacy/erasures", json={"candidate_id": candidate_id})
        assert refused.status_code == 403, refused.text
        bad = await comp.post("/v1/privacy/erasures", json={"candidate_id": ""})
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")

        asked = await comp.post(
            "/v1/privacy/erasures", json={"candidate_id": candidate_id, "reason": "candidate's request"}
        )
        assert asked.status_code == 202, asked.text
        erasure = asked.json()
        assert erasure["candidate_id"] == candidate_id and erasure["requested_by"].startswith("api-key:")
        # the three services, and the one ATS connection that held them (Art. 19)
        assert [s["service"] for s in erasure["steps"]] == [
            "sync",
            "scheduler",
            "scorecard",
            f"ats:{tenant.connection_id}",
        ]
        assert erasure["steps"][0]["status"] == "done"  # sync's part is in the request's own transaction

        async def completed() -> dict | None:
            got = (await comp.get(f"/v1/privacy/erasures/{erasure['id']}")).json()
            return got if got["status"] == "completed" else None

        done = await eventually(completed, what="every service's acknowledgement")
        assert all(s["status"] == "done" and s["done_at"] for s in done["steps"][:3])
        # a webhook-only connection cannot be told: recorded, with why, for a person to finish
        assert (
            done["steps"][3]["status"] == "not_supported" and "API credentials" in done["steps"][3]["detail"]
        )
        assert done["completed_at"] >= done["requested_at"]

        # Another tenant's key sees nothing of it; ids that are not ours or not ids are told apart.
        assert (await other.get(f"/v1/privacy/erasures/{erasure['id']}")).status_code == 404
        assert (await comp.get(f"/v1/privacy/erasures/{uuid.uuid4()}")).status_code == 404
        assert (await comp.get("/v1/privacy/erasures/not-an-id")).status_code == 400

    for svc in ("sync", "scheduler", "scorecard"):
        found = await tenant.rows(
            svc,
            "SELECT source FROM erased_candidates WHERE tenant_id = $1 AND candidate_id = $2",
            tenant.id,
            candidate_id,
        )
        assert [r[0] for r in found] == ["api"], svc
    mirror = await tenant.rows(
        "sync",
        "SELECT remote_id, emails, first_name, last_name, data::text AS data FROM candidates"
        " WHERE tenant_id = $1",
        tenant.id,
    )
    held = {r["remote_id"]: r for r in mirror}
    assert set(held) == {candidate_id, other_id}
    erased = held[candidate_id]
    assert (
        list(erased["emails"]) == [] and "Cand51" not in str(tuple(erased)) and "Glue51" not in erased["data"]
    )
    assert (list(held[other_id]["emails"]), held[other_id]["first_name"]) == ([other_email], "Cand52")
    links = await tenant.rows(
        "scheduler",
        "SELECT candidate_id, candidate_email, candidate_name FROM scheduling_links WHERE tenant_id = $1",
        tenant.id,
    )
    assert sorted(tuple(r) for r in links) == sorted(
        [(candidate_id, "", ""), (other_id, other_email, "Cand52 Glue52")]
    )
    sent = await tenant.rows(
        "sync",
        "SELECT recipient FROM communications WHERE tenant_id = $1 AND recipient <> ''",
        tenant.id,
    )
    assert email not in {r[0] for r in sent} and other_email in {r[0] for r in sent}
