"""`interloop tenants create` issues a key that the gateway accepts; only its hash is stored."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import asyncpg
import httpx
import pytest

pytestmark = pytest.mark.integration


async def test_created_tenant_key_works_and_is_stored_hashed(platform) -> None:  # type: ignore[no-untyped-def]
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from interloop_cli.main import app; app()",
            "tenants",
            "create",
            "cli-made",
            "--name",
            "CLI Made",
            "--scope",
            "recruiter",
        ],
        env={**os.environ, "INTERLOOP_GATEWAY_DATABASE_URL": platform.dsns["gateway"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    assert key.startswith("il_") and len(key) > 30
    r = httpx.get(f"{platform.base_url}/v1/interviewers", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["items"] == []
    conn = await asyncpg.connect(platform.dsns["gateway"])
    try:
        row = await conn.fetchrow("SELECT key_hash, scopes FROM api_keys WHERE tenant_id = 'cli-made'")
    finally:
        await conn.close()
    assert bytes(row["key_hash"]) == hashlib.sha256(key.encode()).digest() and row["scopes"] == ["recruiter"]


async def test_interviewer_bound_key_cannot_claim_someone_else(platform) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "INTERLOOP_GATEWAY_DATABASE_URL": platform.dsns["gateway"]}
    cli = [sys.executable, "-c", "from interloop_cli.main import app; app()"]
    assert (
        subprocess.run(
            [*cli, "tenants", "create", "bound-co", "--name", "Bound"],
            env=env,
            capture_output=True,
            text=True,
        ).returncode
        == 0
    )
    out = subprocess.run(
        [*cli, "tenants", "issue-key", "bound-co", "--scope", "interviewer", "--interviewer", "ada"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    bad = subprocess.run(
        [*cli, "tenants", "issue-key", "nobody", "--scope", "admin"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no tenant" in bad.stderr

    h = {"Authorization": f"Bearer {key}", "X-Interviewer-Id": "grace"}
    r = httpx.get(f"{platform.base_url}/v1/scorecards", headers=h)
    assert r.status_code == 403 and "belongs to interviewer 'ada'" in r.json()["detail"]
