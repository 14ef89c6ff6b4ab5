"""Demographics for the bias audit from the ATS instead of by hand: a compliance officer imports a Greenhouse
connection's EEOC self-identification (Harvest v1 `GET /v1/eeoc`, a local Harvest server speaking the
documented shape); each candidate the mirror holds gets the answers they gave as `sex` and `race` (declined
questions left out, what compliance stored kept), a candidate the mirror does not hold or that was erased
gets nothing; only compliance may run it, and only on a Greenhouse connection with API credentials."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from interloop_cli.demo import create_api_key
from interloop_devstack.testing import eventually
from interloop_fakes.ats import FakeGreenhouse, sign_greenhouse

from .conftest import GH_SECRET, Tenant, stage_change

pytestmark = pytest.mark.integration


async def test_eeoc_answers_reach_the_bias_audits_demographics(tenant: Tenant) -> None:
    dsn, base = tenant.platform.dsns["gateway"], tenant.platform.base_url
    key = await create_api_key(dsn, tenant_id=tenant.id, key=f"il_{tenant.id}_c", scopes=("compliance",))
    with FakeGreenhouse(user_ids=("1001",)) as gh:
        r = await tenant.http.post(
            "/v1/connections",
            json={
                "provider": "greenhouse",
                "owner": "ats-owner@glue.test",
                "base_url": gh.base_url,
                "credentials": {"webhook_secret": GH_SECRET, "api_key": gh.api_key},
            },
        )
        assert r.status_code == 201, r.text
        connection = r.json()["id"]
        ids = {}
        for name, n in (("ada", 101), ("bo", 102), ("dee", 104), ("eve", 105)):
            ids[name] = gh.add_candidate(updated_at=datetime.now(UTC))["id"]
            body, _, _ = stage_change(n, stage="Application Review")
            body["payload"]["application"]["candidate"]["id"] = ids[name]
            hook = sign_greenhouse(json.dumps(body).encode(), GH_SECRET)
            sent = await tenant.public.post(
                f"/webhooks/greenhouse/{connection}", content=hook.body, headers=hook.headers
            )
            assert sent.status_code == 202, sent.text

        async def mirrored() -> bool:
            found = await tenant.rows(
                "sync", "SELECT count(*) FROM candidates WHERE tenant_id = $1 AND connection_id::text = $2",
                tenant.id, connection,
            )  # fmt: skip
            return found[0][0] == 4

        await eventually(mirrored, what="the four candidates in the mirror")
        gh.add_eeoc(ids["ada"], 1, race=2, gender=2)
        gh.add_eeoc(ids["bo"], 2, race=8, gender=3)  # declined both
        gh.add_eeoc(999_999, 3, race=5, gender=1)  # not a candidate this tenant holds
        gh.add_eeoc(ids["dee"], 4, race=8, gender=1)  # declined race only
        gh.add_eeoc(ids["eve"], 5, race=3, gender=2)

        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}) as comp:
            # what compliance already stored for dee stays; eve asks to be erased before the import
            stored = await comp.put(
                f"/v1/compliance/candidates/{ids['dee']}/demographics",
                json={"attributes": {"disability": "no"}},
            )
            assert stored.status_code == 200, stored.text
            erased = await comp.post("/v1/privacy/erasures", json={"candidate_id": str(ids["eve"])})
            assert erased.status_code == 202, erased.text

            async def eve_erased() -> bool:
                got = await comp.get(f"/v1/privacy/erasures/{erased.json()['id']}")
                return got.json()["status"] == "completed"

            await eventually(eve_erased, what="eve's erasure")

            # admin may not (demographics stay with compliance); a webhook-only connection cannot be read
            refused = await tenant.http.post(
                "/v1/compliance/demographics-imports", json={"connection_id": connection}
            )
            assert refused.status_code == 403
            cannot = await comp.post(
                "/v1/compliance/demographics-imports", json={"connection_id": tenant.connection_id}
            )
            assert cannot.status_code == 409 and "API credentials" in cannot.json()["detail"]

            done = await comp.post("/v1/compliance/demographics-imports", json={"connection_id": connection})
            assert done.status_code == 200, done.text
            assert done.json() == {"received": 5, "reported": 2, "unknown_candidates": 2, "declined": 1}
            assert [q.path for q in gh.requests if q.path == "/v1/eeoc"] == ["/v1/eeoc"]

            async def demographics(name: str) -> dict:
                got = await comp.get(f"/v1/compliance/candidates/{ids[name]}/demographics")
                return got.json()["attributes"] if got.status_code == 200 else {}

            assert await eventually(lambda: demographics("ada"), what="ada's demographics") == {
                "race": "Asian",
                "sex": "female",
            }
            assert await eventually(lambda: _has(demographics("dee"), "sex"), what="dee's") == {
                "disability": "no",
                "sex": "male",
            }
            assert await demographics("bo") == {}
            assert await demographics("eve") == {}
    # sync keeps no copy of the answers
    held = await tenant.rows("sync", "SELECT data::text FROM candidates WHERE tenant_id = $1", tenant.id)
    assert not any("Asian" in r[0] for r in held)


async def _has(pending, key: str) -> dict | None:  # type: ignore[no-untyped-def]
    got = await pending
    return got if key in got else None
