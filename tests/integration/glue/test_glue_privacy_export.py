"""A candidate's rights end to end on the real services, PostgreSQL, Kafka and SMTP: a candidate seeded
across every service (Greenhouse stage change, the scheduling email, a booking, a scorecard with evidence, a
decision, self-reported demographics) is exported — every record present, from every service, as JSON and
as a readable page — then erased on request; the next export holds their scores and decisions under the
opaque id and nothing that names or reaches them, and another candidate is untouched."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from interloop_cli.demo import create_api_key
from interloop_devstack.testing import Mailbox, eventually

from .conftest import Tenant, book_through_the_link, held_interview_with_scorecard, stage_change
from .test_glue_ats_events import _panel

pytestmark = pytest.mark.integration

TEMPLATE = {
    "job_id": "3485",
    "round": "Assessment",
    "created_by": "hm",
    "dimensions": [{"key": "coding", "name": "Coding", "scale": {"kind": "numeric", "min": 1, "max": 5}}],
}


async def _seed(tenant: Tenant, mailbox: Mailbox, n: int) -> tuple[str, str]:
    """A candidate in every service; returns (candidate id, email)."""
    body, candidate_id, email = stage_change(n)
    assert (await tenant.webhook(body)).status_code == 202
    await book_through_the_link(tenant, mailbox, email)
    await held_interview_with_scorecard(tenant, candidate_id, f"Cand{n} Glue{n} wrote a parser", days_ago=n)
    decided = await tenant.http.post(
        "/v1/decisions",
        json={"candidate_id": candidate_id, "job_id": "3485", "decision": "hire", "reason": f"Cand{n} shone"},
    )
    assert decided.status_code in (200, 201), decided.text
    return candidate_id, email


async def test_export_then_erase_then_export(tenant: Tenant, mailbox: Mailbox) -> None:
    await _panel(tenant, "3485")
    assert (await tenant.http.post("/v1/scorecard-templates", json=TEMPLATE)).status_code == 201
    candidate_id, email = await _seed(tenant, mailbox, 61)
    other_id, other_email = await _seed(tenant, mailbox, 62)

    dsn, base = tenant.platform.dsns["gateway"], tenant.platform.base_url
    compliance = await create_api_key(
        dsn, tenant_id=tenant.id, key=f"il_{tenant.id}_c", scopes=("compliance",)
    )
    stranger_tenant = f"glue-{uuid.uuid4().hex[:8]}"
    stranger = await create_api_key(
        dsn, tenant_id=stranger_tenant, key=f"il_{stranger_tenant}_c", scopes=("compliance",)
    )

    def client(key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    async with client(compliance) as comp, client(stranger) as other:
        r = await comp.put(
            f"/v1/compliance/candidates/{candidate_id}/demographics", json={"attributes": {"sex": "female"}}
        )
        assert r.status_code == 200, r.text
        # Demographics stay with compliance: an admin key may not export.
        refused = await tenant.http.post("/v1/privacy/exports", json={"candidate_id": candidate_id})
        assert refused.status_code == 403, refused.text
        bad = await comp.post("/v1/privacy/exports", json={"candidate_id": ""})
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")

        made = await comp.post("/v1/privacy/exports", json={"candidate_id": candidate_id})
        assert made.status_code == 201, made.text
        export = made.json()
        assert export["status"] == "completed" and export["due_by"] > export["requested_at"]
        counts = export["counts"]
        for svc, table, least in (
            ("sync", "candidates", 1),
            ("sync", "applications", 1),
            ("sync", "communications", 2),
            ("sync", "automation_actions", 2),
            ("scheduler", "scheduling_links", 1),
            ("scheduler", "bookings", 2),
            ("scorecard", "scorecards", 1),
            ("scorecard", "ratings", 1),
            ("scorecard", "decisions", 1),
            ("scorecard", "candidate_demographics", 1),
            ("gateway", "audit_log", 1),
        ):
            assert counts[svc][table] >= least, (svc, table, counts[svc])

        bundle = (await comp.get(f"/v1/privacy/exports/{export['id']}/bundle")).json()
        assert bundle["candidate_id"] == candidate_id
        held = bundle["services"]
        assert email in held["sync"]["candidates"][0]["emails"]
        # what was sent to them, and to the panel about them
        assert email in {c["recipient"] for c in held["sync"]["communications"]}
        assert held["scorecard"]["ratings"][0]["evidence"] == "Cand61 Glue61 wrote a parser"
        assert held["scorecard"]["decisions"][0]["reason"] == "Cand61 shone"
        assert held["scorecard"]["candidate_demographics"][0]["attributes"] == {"sex": "female"}
        text = json.dumps(bundle)
        assert other_email not in text and other_id not in text  # only this candidate
        assert not any("hash" in k or "token" in k for k in _keys(bundle))  # credentials withheld
        # the scheduling and manage links were sent (the bodies say so), their tokens are not handed out
        assert "/schedule/[withheld]" in text
        assert re.findall(r"/schedule/(?!\[withheld\])\S+", text) == []
        page = await comp.get(f"/v1/privacy/exports/{export['id']}/summary.html")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert (
            email in page.text and "Cand61 Glue61 wrote a parser" in page.text and "<script" not in page.text
        )
        assert (await comp.get(f"/v1/privacy/exports/{export['id']}")).json()["id"] == export["id"]
        # Another tenant's compliance officer gets nothing of it.
        for path in ("", "/bundle", "/summary.html"):
            assert (await other.get(f"/v1/privacy/exports/{export['id']}{path}")).status_code == 404

        # The candidate asks to be erased.
        asked = await comp.post("/v1/privacy/erasures", json={"candidate_id": candidate_id})
        assert asked.status_code == 202, asked.text

        async def completed() -> bool:
            got = await comp.get(f"/v1/privacy/erasures/{asked.json()['id']}")
            return got.json()["status"] == "completed"

        await eventually(completed, what="the erasure in every service")
        after = (await comp.post("/v1/privacy/exports", json={"candidate_id": candidate_id})).json()
        again = (await comp.get(f"/v1/privacy/exports/{after['id']}/bundle")).json()
        text = json.dumps(again)
        for needle in (email, "Cand61", "Glue61"):
            assert needle not in text, (needle, _where(again, needle))
        assert [r["score"] for r in again["services"]["scorecard"]["ratings"]] == [4.0]
        assert [d["decision"] for d in again["services"]["scorecard"]["decisions"]] == ["hire"]
        assert again["services"]["scorecard"]["candidate_demographics"] == []
        assert again["services"]["sync"]["erased_candidates"][0]["source"] == "api"

        # The other candidate is untouched; they asked by email (any case, as they wrote it).
        kept = (await comp.post("/v1/privacy/exports", json={"email": other_email.upper()})).json()
        assert kept["candidate_id"] == other_id
        nobody = await comp.post("/v1/privacy/exports", json={"email": "nobody@glue.test"})
        assert nobody.status_code == 404
        gone = await comp.post("/v1/privacy/exports", json={"email": email})  # erased: not found by email
        assert gone.status_code == 404
        both = await comp.post("/v1/privacy/exports", json={"email": other_email, "candidate_id": other_id})
        assert both.status_code == 400 and both.headers["content-type"].startswith("application/problem+json")
        theirs = (await comp.get(f"/v1/privacy/exports/{kept['id']}/bundle")).json()
        assert other_email in theirs["services"]["sync"]["candidates"][0]["emails"]
        assert theirs["services"]["scorecard"]["ratings"][0]["evidence"] == "Cand62 Glue62 wrote a parser"

    # Every export and the erasure are in the tenant's audit trail, about the candidate.
    trail = await tenant.rows(
        "gateway",
        "SELECT action, target FROM audit_log WHERE tenant_id = $1 AND target = $2 ORDER BY id",
        tenant.id,
        f"candidate/{candidate_id}",
    )
    actions = [r["action"] for r in trail]
    assert "POST /v1/privacy/exports" in actions and "POST /v1/privacy/erasures" in actions
    assert "GET /v1/privacy/exports/{export_id}/bundle" in actions


def _keys(value: object) -> list[str]:
    if isinstance(value, dict):
        return [k for k, v in value.items() for k in (k, *_keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


def _where(value: object, needle: str, path: str = "") -> list[str]:
    """The paths in a bundle whose value contains `needle` (what an erasure left behind)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _where(v, needle, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _where(v, needle, f"{path}[{i}]")]
    return [path] if needle in str(value) else []
