"""The roles matrix on the session's platform: every tenant route in the route table is called with a key of
every scope (minimal, often invalid, requests: what matters is 403 or not), actors come from the key, and a
key of another tenant finds none of tenant A's interviews, scorecards or connections (404)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from interloop_devstack.testing import eventually
from interloop_gateway.app import create_app
from interloop_gateway.auth import allowed_scopes
from interloop_gateway.settings import GatewaySettings
from litestar.routes import HTTPRoute

pytestmark = pytest.mark.integration

ALWAYS = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(1, 8)]
JOB, ROUND = "job-roles", "onsite"


def tenant_routes() -> list[tuple[str, str, frozenset[str]]]:
    app = create_app(GatewaySettings(database_url="postgresql://unused/unused"))
    out = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for h in route.route_handlers:
            scopes = allowed_scopes(h)
            for method in h.http_methods:
                if scopes and method != "OPTIONS":
                    out.append((method, route.path, scopes))
    return sorted(out)


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: f"missing-{m.group(1).replace('_', '-')}", path)


def key_actor(key: str) -> str:
    """How a write by a key not bound to an interviewer is recorded: a fragment of the key's hash."""
    return f"api-key:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_every_route_answers_each_scope_as_the_matrix_says(platform, tenant_key) -> None:  # type: ignore[no-untyped-def]
    tenant, admin = tenant_key()
    keys = {"admin": admin}
    for scope in ("recruiter", "compliance", "partner"):
        keys[scope] = tenant_key(tenant, scopes=(scope,))[1]
    keys["interviewer"] = tenant_key(tenant, scopes=("interviewer",), interviewer_id="ivy")[1]
    routes = tenant_routes()
    assert len(routes) > 40
    wrong = []
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=90) as c:
        for method, path, allowed in routes:
            for scope, key in keys.items():
                body = {} if method in ("POST", "PUT") else None
                r = await c.request(method, concrete(path), json=body, headers=bearer(key))
                if scope in allowed:
                    ok = r.status_code != 403 and r.status_code < 500
                elif scope == "partner":  # a partner key opens the gRPC API only
                    ok = r.status_code == 403
                else:  # refused by the guard, naming the scopes that would do
                    ok = r.status_code == 403 and r.json().get("required_scopes") == sorted(allowed)
                    ok = ok and r.headers["content-type"].startswith("application/problem+json")
                if not ok:
                    wrong.append((method, path, scope, r.status_code, r.text[:160]))
    assert wrong == []


async def test_actors_come_from_the_key_and_other_tenants_find_nothing(platform, tenant_key) -> None:  # type: ignore[no-untyped-def]
    tenant, admin = tenant_key()
    _, recruiter = tenant_key(tenant, scopes=("recruiter",))
    _, ivy = tenant_key(tenant, scopes=("interviewer",), interviewer_id="ivy")
    _, stranger = tenant_key()  # an admin key of tenant B
    async with (
        httpx.AsyncClient(base_url=platform.base_url, headers=bearer(admin), timeout=60) as a,
        httpx.AsyncClient(base_url=platform.base_url, headers=bearer(ivy), timeout=60) as iv,
        httpx.AsyncClient(base_url=platform.base_url, headers=bearer(stranger), timeout=60) as b,
    ):
        conn = await a.post(
            "/v1/connections",
            json={
                "provider": "greenhouse",
                "owner": "ats-owner@roles.test",
                "name": "Greenhouse",
                "credentials": {"webhook_secret": "roles-secret"},
            },
        )
        assert conn.status_code == 201, conn.text
        connection = conn.json()["id"]
        for who in ("ivy", "pat"):
            r = await a.put(
                f"/v1/scheduling/interviewers/{who}",
                json={"email": f"{who}@roles.test", "time_zone": "UTC", "working_hours": ALWAYS},
            )
            assert r.status_code == 200, r.text
        template = {
            "job_id": JOB,
            "round": ROUND,
            "created_by": "someone-else",
            "dimensions": [
                {"key": "coding", "name": "Coding", "scale": {"kind": "numeric", "min": 1, "max": 5}}
            ],
        }
        made = await a.post("/v1/scorecard-templates", json=template)
        assert made.status_code == 201, made.text
        assert made.json()["created_by"] == key_actor(admin)
        start = datetime.now(UTC) - timedelta(days=1)
        r = await a.post(
            "/v1/interviews",
            json={
                "candidate_id": "cand-roles",
                "interviewer_ids": ["ivy", "pat"],
                "job_id": JOB,
                "round": ROUND,
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        interview = r.json()["id"]
        assert (await a.post(f"/v1/interviews/{interview}/complete")).status_code == 200

        async def due() -> bool:  # the scorecard service learns of the interview over Kafka
            got = await a.get("/v1/expected-scorecards", params={"interview_id": interview})
            return sum(i["status"] == "due" for i in got.json()["items"]) == 2

        await eventually(due, what="both expected scorecards due")

        # an interviewer sees only their own owed scorecards
        mine = await iv.get("/v1/expected-scorecards")
        assert mine.status_code == 200 and {i["interviewer_id"] for i in mine.json()["items"]} == {"ivy"}
        assert (await iv.get("/v1/expected-scorecards", params={"interviewer_id": "pat"})).status_code == 403
        under = await iv.get(f"/v1/interviews/{interview}/expected-scorecards")
        assert under.status_code == 200 and {i["interviewer_id"] for i in under.json()["items"]} == {"ivy"}

        # ... writes only as themselves
        draft = {"interview_id": interview, "ratings": [{"dimension": "coding", "score": 4}]}
        as_pat = await iv.post("/v1/scorecards", json={**draft, "interviewer_id": "pat"})
        assert as_pat.status_code == 403, as_pat.text
        own = await iv.post("/v1/scorecards", json={**draft, "interviewer_id": "ivy"})
        assert own.status_code == 201, own.text
        card = own.json()["id"]
        assert own.json()["interviewer_id"] == "ivy"
        pats = await a.post(
            "/v1/scorecards", headers={"X-Interviewer-Id": "pat"}, json={**draft, "interviewer_id": "pat"}
        )
        assert pats.status_code == 201, pats.text
        # pat's card is pat's: ivy cannot submit or amend it
        refused = await iv.post(f"/v1/scorecards/{pats.json()['id']}/submit", json={})
        assert refused.status_code in (403, 404), refused.text
        # ... and never reads statistics
        stats = await iv.get("/v1/scorecard-statistics/dimensions", params={"job_id": JOB, "round": ROUND})
        assert stats.status_code == 403

        # a decision is recorded under the recruiter's key, whatever the body says
        decided = await a.post(
            "/v1/decisions",
            headers=bearer(recruiter),
            json={"candidate_id": "cand-roles", "job_id": JOB, "decision": "advance", "decided_by": "ceo"},
        )
        assert decided.status_code == 201, decided.text
        assert decided.json()["decided_by"] == key_actor(recruiter)
        by_ivy = await iv.post(
            "/v1/decisions", json={"candidate_id": "cand-roles", "job_id": JOB, "decision": "hire"}
        )
        assert by_ivy.status_code == 403

        # tenant A sees its own resources ...
        assert (await a.get(f"/v1/connections/{connection}")).status_code == 200
        assert (await a.get(f"/v1/scorecards/{card}")).status_code == 200
        # ... tenant B's admin key finds none of them
        for method, path in (
            ("GET", f"/v1/connections/{connection}"),
            ("POST", f"/v1/connections/{connection}/reconcile"),
            ("GET", f"/v1/scorecards/{card}"),
            ("POST", f"/v1/scorecards/{card}/submit"),
            ("POST", f"/v1/interviews/{interview}/complete"),
            ("POST", f"/v1/interviews/{interview}/cancel"),
            ("POST", f"/v1/scheduling/bookings/{interview}/cancel"),
        ):
            r = await b.request(method, path, json={} if method == "POST" else None)
            assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
        listed = await b.get("/v1/interviews", params={"candidate_id": "cand-roles"})
        assert listed.status_code == 200 and listed.json()["items"] == []
        # tenant A's interview is untouched by B's attempts
        still = await a.get("/v1/interviews", params={"candidate_id": "cand-roles"})
        assert [i["status"] for i in still.json()["items"]] == ["completed"]
