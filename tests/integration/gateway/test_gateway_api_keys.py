"""A tenant admin manages its API keys over REST, on the real gateway and PostgreSQL: issues one (shown once,
stored as a hash), sees it listed without the secret, rotates it (the old one works through its grace
period, or stops at once with none), revokes it (it stops at once on this gateway); cannot mint compliance
or partner access, cannot revoke the key it is calling with, cannot reach another tenant's keys; a
recruiter cannot manage keys at all; the operator lists and revokes from the CLI; every change is in the
audit trail."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from interloop_devstack.testing import operator_cli

pytestmark = pytest.mark.integration


_cli = operator_cli


async def test_keys_are_issued_listed_rotated_and_revoked(platform, tenant_key) -> None:  # type: ignore[no-untyped-def]
    tenant, admin_key = tenant_key()
    other_tenant, other_key = tenant_key()

    def client(key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=platform.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    async with client(admin_key) as admin, client(other_key) as other:
        made = await admin.post("/v1/api-keys", json={"scopes": ["recruiter"], "name": "ATS sync job"})
        assert made.status_code == 201, made.text
        secret, details = made.json()["key"], made.json()["details"]
        assert (
            secret.startswith("il_") and details["status"] == "active" and details["scopes"] == ["recruiter"]
        )
        key_id = details["id"]

        for bad in (
            {"scopes": ["compliance"]},
            {"scopes": ["partner"]},
            {"scopes": []},
            {"scopes": ["admin"], "interviewer_id": "pia"},
        ):
            r = await admin.post("/v1/api-keys", json=bad)
            assert r.status_code == 400 and r.headers["content-type"].startswith(
                "application/problem+json"
            ), bad

        async with client(secret) as recruiter:
            assert (await recruiter.get("/v1/interviews", params={"candidate_id": "c"})).status_code == 200
            assert (await recruiter.get("/v1/api-keys")).status_code == 403  # recruiters do not manage keys

            listed = (await admin.get("/v1/api-keys")).json()["items"]
            assert key_id in {k["id"] for k in listed}
            assert secret not in str(listed)
            assert (await other.get("/v1/api-keys")).json()["items"][0]["id"] != key_id
            assert (await other.delete(f"/v1/api-keys/{key_id}")).status_code == 404  # not theirs

            # Rotate with a grace period: both work until it ends.
            rotated = await admin.post(f"/v1/api-keys/{key_id}/rotate", json={"grace_hours": 1})
            assert rotated.status_code == 201, rotated.text
            new_secret, new_id = rotated.json()["key"], rotated.json()["details"]["id"]
            assert new_id != key_id and rotated.json()["details"]["scopes"] == ["recruiter"]
            async with client(new_secret) as renewed:
                assert (await renewed.get("/v1/interviews", params={"candidate_id": "c"})).status_code == 200
                assert (
                    await recruiter.get("/v1/interviews", params={"candidate_id": "c"})
                ).status_code == 200
                statuses = {k["id"]: k["status"] for k in (await admin.get("/v1/api-keys")).json()["items"]}
                assert (statuses[key_id], statuses[new_id]) == ("expiring", "active")

                # Revoke the new one: it stops at once on this gateway.
                revoked = await admin.delete(f"/v1/api-keys/{new_id}")
                assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
                assert revoked.json()["revoked_by"].startswith("api-key:")
                assert (await renewed.get("/v1/interviews", params={"candidate_id": "c"})).status_code == 401
                assert (await admin.delete(f"/v1/api-keys/{new_id}")).status_code == 404

            # Rotate the old one with no grace: it stops now.
            again = await admin.post(f"/v1/api-keys/{key_id}/rotate", json={"grace_hours": 0})
            assert again.status_code == 201, again.text
            assert (await recruiter.get("/v1/interviews", params={"candidate_id": "c"})).status_code == 401

        # The admin cannot lock itself out with its own key.
        own = next(
            k["id"] for k in (await admin.get("/v1/api-keys")).json()["items"] if "admin" in k["scopes"]
        )
        assert (await admin.delete(f"/v1/api-keys/{own}")).status_code == 409
        assert (await admin.delete("/v1/api-keys/not-an-id")).status_code == 404

    # The operator's view and revocation, from the CLI (one line on failure, exit 2).
    dsn = platform.dsns["gateway"]
    listed = await asyncio.to_thread(_cli, dsn, "tenants", "list-keys", tenant)
    assert listed.returncode == 0 and key_id in listed.stdout and "expired" in listed.stdout, listed.stderr
    last = (await asyncio.to_thread(_cli, dsn, "tenants", "list-keys", tenant)).stdout.splitlines()
    active = [line.split()[0] for line in last if line.endswith("active") and "recruiter" in line]
    assert active, last
    done = await asyncio.to_thread(_cli, dsn, "tenants", "revoke-key", tenant, active[0])
    assert done.returncode == 0, done.stderr
    refused = await asyncio.to_thread(_cli, dsn, "tenants", "revoke-key", tenant, active[0])
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1

    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
            trail = await conn.fetch(
                "SELECT action, target, status FROM audit_log WHERE tenant_id = $1 ORDER BY id", tenant
            )
    finally:
        await conn.close()
    actions = [(r["action"], r["status"]) for r in trail]
    assert ("POST /v1/api-keys", 201) in actions
    assert ("DELETE /v1/api-keys/{key_id}", 200) in actions
    assert ("tenants.revoke-key", 0) in actions
    assert other_tenant not in str(trail)
