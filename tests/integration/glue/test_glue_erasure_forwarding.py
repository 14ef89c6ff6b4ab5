"""An erasure requested in Interloop reaches the ATS that holds the candidate (GDPR Art. 19): through
Greenhouse Harvest's documented `PUT /v1/candidates/{id}/anonymize` (On-Behalf-Of, the documented field
list) to a local Harvest server; a connection that cannot be told (webhook-only, no API credentials) is
recorded as not supported, with why; the request completes with both outcomes shown (real services,
PostgreSQL, Kafka)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from interloop_devstack.testing import eventually
from interloop_fakes.ats import FakeGreenhouse, sign_greenhouse
from interloop_fakes.ats.greenhouse import ANONYMIZABLE

from .conftest import GH_SECRET, Tenant, stage_change

pytestmark = pytest.mark.integration


async def test_an_erasure_is_forwarded_to_the_ats_that_can_take_it(tenant: Tenant) -> None:
    with FakeGreenhouse(user_ids=("1001",)) as gh:
        held = gh.add_candidate(updated_at=datetime.now(UTC))
        gh_id = held["id"]
        r = await tenant.http.post(
            "/v1/connections",
            json={
                "provider": "greenhouse",
                "owner": "ats-owner@glue.test",
                "name": "Greenhouse (Harvest API)",
                "base_url": gh.base_url,
                "credentials": {"webhook_secret": GH_SECRET, "api_key": gh.api_key},
                "settings": {"on_behalf_of": "1001"},
            },
        )
        assert r.status_code == 201, r.text
        with_api = r.json()["id"]

        # The same person reaches both connections' mirrors (the webhook-only one and the API one).
        body, _, email = stage_change(81, stage="Application Review")
        body["payload"]["application"]["candidate"]["id"] = gh_id
        assert (await tenant.webhook(body)).status_code == 202
        hook = sign_greenhouse(json.dumps(body).encode(), GH_SECRET)
        sent = await tenant.public.post(
            f"/webhooks/greenhouse/{with_api}", content=hook.body, headers=hook.headers
        )
        assert sent.status_code == 202, sent.text
        candidate_id = str(gh_id)

        async def mirrored() -> bool:
            found = await tenant.rows(
                "sync",
                "SELECT 1 FROM candidates WHERE tenant_id = $1 AND remote_id = $2",
                tenant.id,
                candidate_id,
            )
            return len(found) == 2

        await eventually(mirrored, what="the candidate in both connections' mirrors")

        asked = await tenant.http.post("/v1/privacy/erasures", json={"candidate_id": candidate_id})
        assert asked.status_code == 202, asked.text
        erasure = asked.json()
        assert sorted(s["service"] for s in erasure["steps"]) == sorted(
            ["sync", "scheduler", "scorecard", f"ats:{with_api}", f"ats:{tenant.connection_id}"]
        )

        async def completed() -> dict | None:
            got = (await tenant.http.get(f"/v1/privacy/erasures/{erasure['id']}")).json()
            return got if got["status"] == "completed" else None

        done = await eventually(completed, what="every step, the ATS ones included")
        steps = {s["service"]: s for s in done["steps"]}
        assert steps[f"ats:{with_api}"]["status"] == "done" and steps[f"ats:{with_api}"]["detail"] == ""
        webhook_only = steps[f"ats:{tenant.connection_id}"]
        assert webhook_only["status"] == "not_supported"
        assert "no greenhouse API credentials" in webhook_only["detail"]

        # Harvest received the documented call, once, on behalf of the connection's user.
        calls = [q for q in gh.writes if q.path == f"/v1/candidates/{gh_id}/anonymize"]
        assert len(calls) == 1 and calls[0].method == "PUT"
        assert calls[0].headers.get("on-behalf-of") == "1001"
        assert set(gh.anonymized[gh_id][0]) == ANONYMIZABLE
        assert gh.candidates[gh_id]["first_name"] == "Anonymized"
        assert gh.candidates[gh_id]["email_addresses"] == []
        assert email not in json.dumps(gh.candidates[gh_id])
