"""Inbound webhooks through the real gateway route: every documented Greenhouse and Lever example payload is
accepted with a valid signature; forged, stale, replayed and malformed deliveries are rejected and store
nothing (a malformed body is only quarantined for inspection)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest
from interloop.events.v1 import ats_pb2, envelope_pb2
from interloop_devstack.testing import rows, value
from interloop_fakes.ats import sign_greenhouse

from .conftest import FIXTURES

pytestmark = pytest.mark.integration

GH_SECRET = "1uSUju2H6AohOE7OQVaxeLT3O8Uxxuas"
LEVER_TOKEN = "lever-signature-token"


def resign_lever(raw: bytes, token: str, *, triggered_ms: int | None = None) -> bytes:
    """A documented Lever example re-signed as Lever would send it now (the examples are from 2015)."""
    body = json.loads(raw)
    body["triggeredAt"] = triggered_ms if triggered_ms is not None else int(time.time() * 1000)
    body["signature"] = hmac.new(
        token.encode(), f"{body['token']}{body['triggeredAt']}".encode(), hashlib.sha256
    ).hexdigest()
    return json.dumps(body).encode()


@pytest.fixture
def connected(platform, tenant_key):  # type: ignore[no-untyped-def]
    tenant, key = tenant_key()
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=platform.base_url, headers=auth, timeout=20) as client:
        gh = client.post(
            "/v1/connections",
            json={
                "provider": "greenhouse",
                "owner": "ats-owner@acme.test",
                "name": "Greenhouse",
                "credentials": {"webhook_secret": GH_SECRET},
                "stage_policy": {"keywords": ["interview", "assessment"]},
            },
        )
        assert gh.status_code == 201, gh.text
        lv = client.post(
            "/v1/connections",
            json={
                "provider": "lever",
                "owner": "ats-owner@acme.test",
                "credentials": {"signature_token": LEVER_TOKEN},
            },
        )
        assert lv.status_code == 201, lv.text
        assert "credentials" not in gh.json() and GH_SECRET not in gh.text
        yield tenant, client, gh.json()["id"], lv.json()["id"]


async def _counts(dsn: str, tenant: str) -> dict[str, int]:
    return {
        t: await value(dsn, f"SELECT count(*) FROM {t} WHERE tenant_id = $1", tenant)
        for t in ("webhook_deliveries", "quarantine", "outbox", "candidates", "applications")
    }


async def test_every_documented_example_is_accepted_and_replays_are_duplicates(platform, connected) -> None:  # type: ignore[no-untyped-def]
    tenant, client, gh_id, lv_id = connected
    dsn = platform.dsns["sync"]
    gh_files = sorted((FIXTURES / "greenhouse").glob("f-gh-*.json"))
    assert len(gh_files) == 15
    sent = []
    for path in gh_files:
        hook = sign_greenhouse(path.read_bytes(), GH_SECRET)
        r = client.post(f"/webhooks/greenhouse/{gh_id}", content=hook.body, headers=hook.headers)
        assert r.status_code == 202, (path.name, r.text)
        assert r.json()["outcome"] == "accepted", path.name
        sent.append(hook)
    for name in ("f-lv-01-test_request.json", "f-lv-03-candidateStageChange.json"):
        body = resign_lever((FIXTURES / "lever" / name).read_bytes(), LEVER_TOKEN)
        r = client.post(
            f"/webhooks/lever/{lv_id}", content=body, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 202, (name, r.text)
        sent.append(body)

    before = await _counts(dsn, tenant)
    assert before["webhook_deliveries"] == 17 and before["quarantine"] == 0
    types = [
        r["event_type"] for r in await rows(dsn, "SELECT event_type FROM outbox WHERE tenant_id = $1", tenant)
    ]
    for expected in (
        "ats.application.stage_changed",
        "ats.application.hired",
        "ats.application.rejected",
        "ats.candidate.erased",
        "ats.candidate.merged",
    ):
        assert expected in types, (expected, types)
    # The stage change into "Assessment" is an interview stage under this connection's policy.
    env = envelope_pb2.Envelope.FromString(
        bytes(
            await value(
                dsn,
                "SELECT envelope FROM outbox WHERE tenant_id = $1 "
                "AND event_type = 'ats.application.stage_changed' "
                "AND key LIKE '%/265277'",
                tenant,
            )
        )
    )
    changed = ats_pb2.ApplicationStageChanged()
    env.payload.Unpack(changed)
    assert (
        changed.is_interview_stage
        and changed.to_stage == "Assessment"
        and changed.remote_application_id == "265277"
    )
    # Deletion erased local PII; anonymisation blanked what Greenhouse anonymised.
    erased = await rows(
        dsn, "SELECT emails, deleted, anonymised FROM candidates WHERE tenant_id = $1 AND anonymised", tenant
    )
    assert erased and all(r["anonymised"] for r in erased)
    assert any(r["deleted"] and r["emails"] == [] for r in erased)

    # Replays of every delivery: 202 duplicate, nothing stored twice, no event emitted again.
    for hook in sent[:15]:
        r = client.post(f"/webhooks/greenhouse/{gh_id}", content=hook.body, headers=hook.headers)
        assert r.status_code == 202 and r.json()["outcome"] == "duplicate"
    r = client.post(
        f"/webhooks/lever/{lv_id}", content=sent[-1], headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 202 and r.json()["outcome"] == "duplicate"
    assert await _counts(dsn, tenant) == before


async def test_forged_stale_and_malformed_deliveries_store_nothing(platform, connected) -> None:  # type: ignore[no-untyped-def]
    tenant, client, gh_id, lv_id = connected
    dsn = platform.dsns["sync"]
    before = await _counts(dsn, tenant)
    raw = (FIXTURES / "greenhouse" / "f-gh-01-candidate_stage_change.json").read_bytes()

    forged = sign_greenhouse(raw, "not-the-secret")
    r = client.post(f"/webhooks/greenhouse/{gh_id}", content=forged.body, headers=forged.headers)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json"), r.text
    tampered = sign_greenhouse(raw, GH_SECRET)
    r = client.post(
        f"/webhooks/greenhouse/{gh_id}",
        content=tampered.body.replace(b"265277", b"265278"),
        headers=tampered.headers,
    )
    assert r.status_code == 401
    unsigned = {k: v for k, v in tampered.headers.items() if k != "Signature"}
    assert client.post(f"/webhooks/greenhouse/{gh_id}", content=raw, headers=unsigned).status_code == 401
    lever_raw = (FIXTURES / "lever" / "f-lv-03-candidateStageChange.json").read_bytes()
    r = client.post(f"/webhooks/lever/{lv_id}", content=resign_lever(lever_raw, "wrong-token"))
    assert r.status_code == 401
    stale = resign_lever(lever_raw, LEVER_TOKEN, triggered_ms=int((time.time() - 3600) * 1000))
    r = client.post(f"/webhooks/lever/{lv_id}", content=stale)
    assert r.status_code == 401 and "stale" in r.json()["detail"]
    assert await _counts(dsn, tenant) == before, "a rejected delivery stored something"

    # Malformed but authentic (Greenhouse signs raw bytes) and Lever's documented invalid-JSON example:
    # 400, quarantined for inspection, nothing else stored.
    bad = sign_greenhouse(
        b'{"action": "candidate_stage_change", "payload": {"application": {"id": 1}}}', GH_SECRET
    )
    r = client.post(f"/webhooks/greenhouse/{gh_id}", content=bad.body, headers=bad.headers)
    assert r.status_code == 400 and "current_stage" in r.json()["detail"], r.text
    r = client.post(
        f"/webhooks/lever/{lv_id}",
        content=(FIXTURES / "lever" / "f-lv-02-candidateStageChange.malformed.txt").read_bytes(),
    )
    assert r.status_code == 400, r.text
    after = await _counts(dsn, tenant)
    assert after == {**before, "quarantine": before["quarantine"] + 2}
    reasons = [
        r["reason"] for r in await rows(dsn, "SELECT reason FROM quarantine WHERE tenant_id = $1", tenant)
    ]
    assert any("current_stage" in x for x in reasons) and any("unverifiable" in x for x in reasons)

    assert (
        client.post(
            "/webhooks/greenhouse/00000000-0000-0000-0000-000000000000", content=raw, headers=tampered.headers
        ).status_code
        == 404
    )


async def test_connection_rest_validates_and_funnel_reports(platform, connected) -> None:  # type: ignore[no-untyped-def]
    tenant, client, gh_id, _ = connected
    r = client.post("/v1/connections", json={"provider": "workday", "owner": "nobody", "credentials": {}})
    assert r.status_code == 400
    fields = {e["field"] for e in r.json()["errors"]}
    assert {
        "connection.owner",
        "credentials.username",
        "credentials.password",
        "connection.settings.tenant",
        "connection.base_url",
    } <= fields
    listed = client.get("/v1/connections").json()["items"]
    assert {c["id"] for c in listed} >= {gh_id}
    hook = sign_greenhouse((FIXTURES / "greenhouse" / "f-gh-02-hire_candidate.json").read_bytes(), GH_SECRET)
    assert (
        client.post(f"/webhooks/greenhouse/{gh_id}", content=hook.body, headers=hook.headers).status_code
        == 202
    )
    assert (
        client.post(f"/webhooks/greenhouse/{gh_id}", content=hook.body, headers=hook.headers).status_code
        == 202
    )
    funnel = client.get("/v1/funnel").json()
    assert funnel["hires"] == 1 and funnel["offers_accepted"] == 1 and funnel["offer_acceptance_rate"] == 1.0
    assert funnel["duplicate_rate"] == 0.5
    assert client.get("/v1/dead-letters").json()["items"] == []
