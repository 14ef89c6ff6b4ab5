"""Glue between the services, end to end, on the session's four services and mailbox (real PostgreSQL and
Kafka, a local SMTP server for sync's emails): a fresh tenant with an API key and a Greenhouse connection."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from interloop_devstack.testing import ServiceSet, eventually, rows
from interloop_fakes.ats import sign_greenhouse
from interloop_fakes.examples import EXAMPLES

FIXTURES = EXAMPLES / "greenhouse"
GH_SECRET = "glue-greenhouse-secret"  # noqa: S105 - a test secret
ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]


@dataclass
class Tenant:
    id: str
    key: str
    http: httpx.AsyncClient  # the tenant's API key
    public: httpx.AsyncClient  # no key: the candidate, the vendor
    platform: ServiceSet
    connection_id: str

    async def webhook(self, body: dict[str, Any]) -> httpx.Response:
        hook = sign_greenhouse(json.dumps(body).encode(), GH_SECRET)
        return await self.public.post(
            f"/webhooks/greenhouse/{self.connection_id}", content=hook.body, headers=hook.headers
        )

    async def rows(self, svc: str, sql: str, *args: Any) -> list[asyncpg.Record]:
        """`sql` on service `svc`'s database, as the system."""
        return await rows(self.platform.dsns[svc], sql, *args)


@pytest.fixture
async def tenant(platform: ServiceSet) -> AsyncIterator[Tenant]:
    from interloop_cli.demo import create_api_key

    tenant_id = f"glue-{uuid.uuid4().hex[:8]}"
    key = await create_api_key(
        platform.dsns["gateway"], tenant_id=tenant_id, key=f"il_{tenant_id}_key", scopes=("admin",)
    )
    async with (
        httpx.AsyncClient(
            base_url=platform.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http,
        httpx.AsyncClient(base_url=platform.base_url, timeout=30) as public,
    ):
        r = await http.post(
            "/v1/connections",
            json={
                "provider": "greenhouse",
                "owner": "ats-owner@glue.test",
                "name": "Greenhouse",
                "credentials": {"webhook_secret": GH_SECRET},
                "stage_policy": {"keywords": ["interview", "assessment"]},
            },
        )
        assert r.status_code == 201, r.text
        yield Tenant(tenant_id, key, http, public, platform, r.json()["id"])


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def stage_change(n: int, *, stage: str = "Assessment", job_id: int = 3485) -> tuple[dict[str, Any], str, str]:
    """The documented candidate_stage_change with fresh ids; returns (body, candidate id, email)."""
    body = fixture("f-gh-01-candidate_stage_change.json")
    app = body["payload"]["application"]
    app["id"] = 60_000_000 + n
    app["current_stage"]["id"] = 70_000 + n
    app["current_stage"]["name"] = stage
    app["jobs"][0]["id"] = job_id
    cand = app["candidate"]
    cand["id"] = 50_000_000 + n
    cand["first_name"], cand["last_name"] = f"Cand{n}", f"Glue{n}"
    email = f"cand{n}@glue.test"
    cand["email_addresses"] = [{"value": email, "type": "personal"}]
    return body, str(cand["id"]), email


async def held_interview_with_scorecard(
    t: Tenant, candidate_id: str, evidence: str, *, days_ago: int = 1, score: int = 4
) -> str:
    """A past interview of the candidate with "hm" (job 3485, round Assessment; the scorecard template for
    them must exist), completed, and hm's submitted scorecard with `evidence`; returns the interview id."""
    start = datetime.now(UTC) - timedelta(days=days_ago)
    r = await t.http.post(
        "/v1/interviews",
        json={
            "candidate_id": candidate_id,
            "interviewer_ids": ["hm"],
            "job_id": "3485",
            "round": "Assessment",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    interview = r.json()["id"]
    assert (await t.http.post(f"/v1/interviews/{interview}/complete")).status_code == 200

    async def due() -> bool:
        items = (await t.http.get("/v1/expected-scorecards", params={"interview_id": interview})).json()
        return any(i["status"] == "due" for i in items["items"])

    await eventually(due, what="the expected scorecard")
    card = await t.http.post(
        "/v1/scorecards",
        headers={"X-Interviewer-Id": "hm"},
        json={
            "interview_id": interview,
            "interviewer_id": "hm",
            "submit": True,
            "ratings": [{"dimension": "coding", "score": score, "evidence": evidence}],
            "recommendation": "yes",
        },
    )
    assert card.status_code == 201, card.text
    return interview


async def book_through_the_link(t: Tenant, mailbox: Any, email: str) -> dict[str, Any]:
    """The candidate opens the link their scheduling email carries and books the first slot, then gets the
    invite; returns the booking."""
    mails = await eventually(lambda: mailbox.to(email), what="the link email")
    token = mails[0].get_content().split("/schedule/", 1)[1].split()[0]
    slots = (await t.public.get(f"/v1/scheduling-links/{token}/slots", params={"tz": "UTC"})).json()
    ok = await t.public.post(
        f"/v1/scheduling-links/{token}/confirm", json={"start": slots["slots"][0]["start"]}
    )
    assert ok.status_code == 200, ok.text
    await eventually(lambda: len(mailbox.to(email)) >= 2, what="the interview invite")
    return ok.json()["booking"]
