"""Retention with legal holds on the real services, PostgreSQL and Kafka: candidates whose applications all
closed longer ago than the tenant keeps them are erased in every service by a purge, unless a legal hold on
them, on a job they applied to or on the tenant keeps them (the purge report says which and why); a dry
run erases nothing; federal contractors keep two years whatever they set; an erasure request for a held
candidate is refused naming the hold; a released hold lets the next purge through."""

from __future__ import annotations

import uuid

import httpx
import pytest
from interloop_cli.demo import create_api_key
from interloop_devstack.testing import eventually

from .conftest import Tenant, stage_change

pytestmark = pytest.mark.integration


async def _closed(tenant: Tenant, candidate_id: str, days_ago: int) -> None:
    """Backdate when the candidate's application closed (as if rejected that long ago)."""
    done = await tenant.rows(
        "sync",
        "UPDATE applications SET rejected_at = now() - make_interval(days => $3), status = 'rejected'"
        " WHERE tenant_id = $1 AND candidate_remote_id = $2 RETURNING 1",
        tenant.id,
        candidate_id,
        days_ago,
    )
    assert done, candidate_id


async def _emails(tenant: Tenant, candidate_id: str) -> list[str]:
    found = await tenant.rows(
        "sync",
        "SELECT emails FROM candidates WHERE tenant_id = $1 AND remote_id = $2",
        tenant.id,
        candidate_id,
    )
    return [e for r in found for e in r["emails"]]


async def test_a_purge_erases_what_was_kept_long_enough_and_honours_legal_holds(tenant: Tenant) -> None:
    seeded = {}
    for name, n, job in (("a", 71, 3485), ("b", 72, 3485), ("c", 73, 9001), ("d", 74, 3485), ("e", 75, 3485)):
        body, candidate_id, email = stage_change(n, stage="Application Review", job_id=job)
        assert (await tenant.webhook(body)).status_code == 202
        seeded[name] = (candidate_id, email)

    async def mirrored() -> bool:
        for candidate_id, email in seeded.values():
            if await _emails(tenant, candidate_id) != [email]:
                return False
        return True

    await eventually(mirrored, what="every candidate in the mirror")
    for name in "abc":
        await _closed(tenant, seeded[name][0], 400)
    await _closed(tenant, seeded["d"][0], 10)  # e's application is still open

    dsn, base = tenant.platform.dsns["gateway"], tenant.platform.base_url
    key = await create_api_key(dsn, tenant_id=tenant.id, key=f"il_{tenant.id}_c", scopes=("compliance",))
    recruiter = await create_api_key(dsn, tenant_id=tenant.id, key=f"il_{tenant.id}_r", scopes=("recruiter",))
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as comp,
        httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {recruiter}"}) as rec,
    ):
        assert (await rec.post("/v1/privacy/retention/purges", json={})).status_code == 403
        default = (await comp.get("/v1/privacy/retention")).json()
        assert (default["keep_days"], default["effective_days"], default["is_default"]) == (365, 365, True)
        for bad in ({"keep_days": 0}, {"keep_days": "year"}):
            r = await comp.put("/v1/privacy/retention", json=bad)
            assert r.status_code == 400, r.text
        for bad in (
            {"scope": "galaxy", "reason": "x"},
            {"scope": "tenant", "subject": "someone", "reason": "x"},
            {"scope": "job", "reason": "x"},
            {"scope": "job", "subject": "9001", "reason": ""},
        ):
            r = await comp.post("/v1/privacy/legal-holds", json=bad)
            assert r.status_code == 400 and r.headers["content-type"].startswith(
                "application/problem+json"
            ), bad

        on_b = await comp.post(
            "/v1/privacy/legal-holds",
            json={"scope": "candidate", "subject": seeded["b"][0], "reason": "subject access dispute"},
        )
        assert on_b.status_code == 201, on_b.text
        on_job = await comp.post(
            "/v1/privacy/legal-holds",
            json={"scope": "job", "subject": "9001", "reason": "litigation 2026-17"},
        )
        assert on_job.status_code == 201, on_job.text

        # A federal contractor keeps two years, whatever it asks for: nothing is due at 400 days.
        fed = (
            await comp.put("/v1/privacy/retention", json={"keep_days": 365, "federal_contractor": True})
        ).json()
        assert (fed["effective_days"], fed["is_default"]) == (730, False)
        dry = (await comp.post("/v1/privacy/retention/purges", json={"dry_run": True})).json()
        assert (dry["keep_days"], dry["purged"], dry["held"]) == (730, [], [])

        assert (await comp.put("/v1/privacy/retention", json={"keep_days": 365})).json()[
            "effective_days"
        ] == 365
        dry = (await comp.post("/v1/privacy/retention/purges", json={"dry_run": True})).json()
        assert [p["candidate_id"] for p in dry["purged"]] == [seeded["a"][0]]
        assert dry["purged"][0]["erasure_id"] == ""
        held = {h["candidate_id"]: h["reasons"] for h in dry["held"]}
        assert held == {
            seeded["b"][0]: [f"candidate {seeded['b'][0]}: subject access dispute"],
            seeded["c"][0]: ["job 9001: litigation 2026-17"],
        }
        assert await _emails(tenant, seeded["a"][0]) == [seeded["a"][1]]  # a dry run erases nothing

        # The candidate under hold asks to be erased: kept, and told why.
        refused = await comp.post("/v1/privacy/erasures", json={"candidate_id": seeded["c"][0]})
        assert refused.status_code == 409, refused.text
        assert "litigation 2026-17" in refused.json()["detail"]

        purge = (await comp.post("/v1/privacy/retention/purges", json={})).json()
        assert [p["candidate_id"] for p in purge["purged"]] == [seeded["a"][0]]
        erasure = purge["purged"][0]["erasure_id"]

        async def completed() -> bool:
            got = (await comp.get(f"/v1/privacy/erasures/{erasure}")).json()
            return got["status"] == "completed" and got["requested_by"].startswith("api-key:")

        await eventually(completed, what="the purge's erasure in every service")
        assert await _emails(tenant, seeded["a"][0]) == []
        for name in "bcde":
            assert await _emails(tenant, seeded[name][0]) == [seeded[name][1]], name

        # Releasing the hold on b lets the next purge erase them; the job hold still keeps c.
        released = await comp.delete(f"/v1/privacy/legal-holds/{on_b.json()['id']}")
        assert released.status_code == 200 and released.json()["released_at"]
        assert (await comp.delete(f"/v1/privacy/legal-holds/{on_b.json()['id']}")).status_code == 404
        assert (await comp.delete(f"/v1/privacy/legal-holds/{uuid.uuid4()}")).status_code == 404
        active = (await comp.get("/v1/privacy/legal-holds")).json()["items"]
        assert [h["id"] for h in active] == [on_job.json()["id"]]
        every = (await comp.get("/v1/privacy/legal-holds", params={"include_released": "true"})).json()[
            "items"
        ]
        assert len(every) == 2
        again = (await comp.post("/v1/privacy/retention/purges", json={})).json()
        assert [p["candidate_id"] for p in again["purged"]] == [seeded["b"][0]]
        assert [h["candidate_id"] for h in again["held"]] == [seeded["c"][0]]

    # Every purge, dry or not, left its report.
    reports = await tenant.rows(
        "sync",
        "SELECT dry_run, keep_days FROM retention_purges WHERE tenant_id = $1 ORDER BY ran_at",
        tenant.id,
    )
    assert [tuple(r) for r in reports] == [(True, 730), (True, 365), (False, 365), (False, 365)]
