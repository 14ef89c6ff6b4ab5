"""The bias-audit report through the gateway: demographics and decisions recorded over REST, the report as
JSON and as a printable page for a compliance key only, bad ranges refused as problem+json."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

pytestmark = pytest.mark.integration

# 10 women (4 selected), 10 men (8 selected): the women's impact ratio is 0.4 / 0.8 = 0.5, below four-fifths.
PEOPLE = [("female", i < 4) for i in range(10)] + [("male", i < 8) for i in range(10)]


async def test_the_bias_audit_report_as_json_and_page(platform, tenant_key) -> None:  # type: ignore[no-untyped-def]
    tenant, admin = tenant_key()
    _, compliance = tenant_key(tenant, scopes=("compliance",))
    job = f"job-{uuid.uuid4().hex[:6]}"
    async with (
        httpx.AsyncClient(base_url=platform.base_url, headers={"Authorization": f"Bearer {admin}"}) as rest,
        httpx.AsyncClient(
            base_url=platform.base_url, headers={"Authorization": f"Bearer {compliance}"}
        ) as audit,
    ):
        for n, (sex, selected) in enumerate(PEOPLE):
            cand = f"c{n}"
            r = await audit.put(
                f"/v1/compliance/candidates/{cand}/demographics",
                json={"attributes": {"sex": sex, "race": "asian" if n % 2 else "white"}},
            )
            assert r.status_code == 200, r.text
            decision = "advance" if selected else "reject"
            r = await rest.post(
                "/v1/decisions", json={"candidate_id": cand, "job_id": job, "decision": decision}
            )
            assert r.status_code in (200, 201), r.text
        today = datetime.now(UTC).date()
        params = {
            "scope": "job",
            "job_id": job,
            "from": (today - timedelta(days=1)).isoformat(),
            "to": today.isoformat(),
        }

        r = await audit.get("/v1/compliance/bias-audit", params=params)
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["scope"], report["job_id"], report["selection"]) == ("job", job, "advanced_or_hired")
        rates = report["selection_rates"]
        assert rates["total"] == 20
        by_sex = {c["category"]: c for c in rates["sex"]["categories"]}
        assert (by_sex["female"]["selected"], by_sex["female"]["total"]) == (4, 10)
        assert by_sex["male"]["reference"] and by_sex["female"]["impact_ratio"] == pytest.approx(0.5)
        assert by_sex["female"]["below_four_fifths"] and not by_sex["male"]["below_four_fifths"]
        assert rates["intersection"]["dimension"] == "sex x race"
        assert rates["first_at"][:10] == today.isoformat() == rates["last_at"][:10]

        page = await audit.get("/v1/compliance/bias-audit/report.html", params=params)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f"job {job}" in page.text and "below four-fifths" in page.text and "sex x race" in page.text

        # demographics are for compliance alone: not even an admin reads the report
        assert (await rest.get("/v1/compliance/bias-audit", params=params)).status_code == 403
        for bad in (
            {**params, "from": "2026-13-01"},
            {**params, "job_id": ""},
            {**params, "to": "2000-01-01"},
        ):
            refused = await audit.get("/v1/compliance/bias-audit", params=bad)
            assert refused.status_code == 400, (bad, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json")
