"""A backend down takes out only its own routes (issue 14, "a backend down while the gateway keeps serving
other routes"): with its scorecard service stopped, a gateway pod stays ready (/readyz 200, the scorecard
reported down), the scorecard routes answer 503 problem+json naming the backend with Retry-After — a
state-changing one included, whose Idempotency-Key stays free — while the scheduler routes, the candidate's
link page and the signed webhook door keep working; when the scorecard serves again, so do its routes.

A gateway pod and a scorecard of its own (so stopping it disturbs no other test), in front of the session's
scheduler and sync, on the session's real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from interloop_cli.demo import create_api_key
from interloop_devstack.testing import eventually
from interloop_fakes.ats import sign_greenhouse
from interloop_fakes.examples import EXAMPLES

from .conftest import GatewayPod

pytestmark = pytest.mark.integration

SECRET = "backend-down-secret"  # noqa: S105 - a test secret
ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]


def template(round_: str) -> dict:
    return {
        "job_id": "3485",
        "round": round_,
        "dimensions": [{"key": "coding", "name": "Coding", "scale": {"kind": "numeric", "min": 1, "max": 5}}],
    }


def assert_scorecard_down(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) > 0
    body = r.json()
    assert body["backend"] == "scorecard" and body["grpc_status"] == "UNAVAILABLE", body
    assert "scorecard" in body["detail"] and body["type"].endswith("/backend-unavailable"), body


async def test_a_stopped_backend_takes_out_only_its_routes(gateway_pod: GatewayPod) -> None:
    pod = gateway_pod("scorecard", backend_health_seconds="0.3")  # the session's scheduler and sync
    await asyncio.to_thread(pod.start, "scorecard")
    await asyncio.to_thread(pod.start, "gateway")
    try:
        tenant = f"down-{uuid.uuid4().hex[:8]}"
        key = await create_api_key(
            pod.dsns["gateway"], tenant_id=tenant, key=f"il_{tenant}", scopes=("admin",)
        )
        async with (
            httpx.AsyncClient(
                base_url=pod.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as api,
            httpx.AsyncClient(base_url=pod.base_url, timeout=30) as public,
        ):
            connection = await api.post(
                "/v1/connections",
                json={
                    "provider": "greenhouse",
                    "owner": "ats-owner@down.test",
                    "name": "Greenhouse",
                    "credentials": {"webhook_secret": SECRET},
                },
            )
            assert connection.status_code == 201, connection.text
            ann = await api.put(
                "/v1/scheduling/interviewers/ann",
                json={"email": "ann@down.test", "time_zone": "UTC", "working_hours": ALWAYS},
            )
            assert ann.status_code == 200, ann.text
            made = await api.post("/v1/scorecard-templates", json=template("Onsite"))
            assert made.status_code == 201, made.text

            await asyncio.to_thread(pod.procs["scorecard"].stop)

            async def reported_down() -> httpx.Response | None:
                r = await public.get("/readyz")
                assert r.status_code == 200, r.text  # the pod stays in the Service throughout
                return r if r.json()["backends"]["scorecard"] != "SERVING" else None

            ready = (await eventually(reported_down, what="/readyz reporting the scorecard down")).json()
            assert ready["status"] == "ready" and ready["checks"] == {"database": "SERVING"}, ready
            assert ready["backends"]["scheduler"] == ready["backends"]["sync"] == "SERVING", ready
            health = await public.get("/healthz/backends")
            assert health.status_code == 503 and health.json()["detail"] == "scorecard down", health.text
            assert health.json()["backends"]["scheduler"] == "SERVING", health.text

            # the scorecard's routes: 503 naming it, a read and a write alike
            assert_scorecard_down(await api.get("/v1/scorecard-templates"))
            retried = {"Idempotency-Key": f"tpl-{uuid.uuid4().hex}"}
            assert_scorecard_down(
                await api.post("/v1/scorecard-templates", json=template("Final"), headers=retried)
            )

            # the scheduler's routes, the candidate's page and the webhook door: as usual
            assert (await api.get("/v1/interviews")).status_code == 200
            link = await api.post(
                "/v1/scheduling/links",
                json={
                    "candidate_id": "cand-1",
                    "panel": [{"interviewer_ids": ["ann"], "k": 1}],
                    "duration_minutes": 30,
                    "candidate_email": "cand-1@down.test",
                    "candidate_name": "Cand One",
                },
            )
            assert link.status_code == 201, link.text
            token = link.json()["token"]
            page = await public.get(f"/schedule/{token}")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            slots = await public.get(f"/v1/scheduling-links/{token}/slots", params={"tz": "UTC"})
            assert slots.status_code == 200 and slots.json()["slots"], slots.text
            held = await public.post(
                f"/v1/scheduling-links/{token}/holds", json={"start": slots.json()["slots"][0]["start"]}
            )
            assert held.status_code == 201, held.text
            body = json.loads((EXAMPLES / "greenhouse" / "f-gh-01-candidate_stage_change.json").read_text())
            body["payload"]["application"]["id"] = int(uuid.uuid4().int % 10**9)
            body["payload"]["application"]["current_stage"]["name"] = "Application Review"
            hook = sign_greenhouse(json.dumps(body).encode(), SECRET)
            delivered = await public.post(
                f"/webhooks/greenhouse/{connection.json()['id']}", content=hook.body, headers=hook.headers
            )
            assert delivered.status_code == 202 and delivered.json()["outcome"] == "accepted", delivered.text

            # the scorecard serves again: so do its routes, and the refused write's key was never taken
            await asyncio.to_thread(pod.start, "scorecard")

            async def back() -> httpx.Response | None:
                r = await api.get("/v1/scorecard-templates")
                return r if r.status_code == 200 else None

            listed = (await eventually(back, within=60, what="the scorecard routes back")).json()
            assert [t["id"] for t in listed["items"]] == [made.json()["id"]]
            again = await api.post("/v1/scorecard-templates", json=template("Final"), headers=retried)
            assert again.status_code == 201 and "idempotent-replayed" not in again.headers, again.text

            async def reported_up() -> bool:
                r = await public.get("/readyz")
                return r.status_code == 200 and r.json()["backends"]["scorecard"] == "SERVING"

            await eventually(reported_up, what="/readyz reporting the scorecard SERVING")
            assert (await public.get("/healthz/backends")).status_code == 200
    finally:
        await asyncio.to_thread(pod.stop)
