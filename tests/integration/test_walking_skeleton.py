"""The walking skeleton through real components: REST on the gateway -> gRPC to the scheduler -> booking
row + outbox row in its PostgreSQL -> Kafka -> consumed by the scorecard service (inbox) -> visible
through REST."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from interloop_devstack.testing import eventually

pytestmark = pytest.mark.integration


async def test_rest_grpc_postgres_kafka_inbox_rest(platform, tenant_key) -> None:  # type: ignore[no-untyped-def]
    tenant, key = tenant_key()
    h = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=platform.base_url, headers=h, timeout=10) as c:
        for who, zone in (("ada", "Europe/London"), ("grace", "America/New_York")):
            r = await c.post(
                "/v1/interviewers", json={"id": who, "email": f"{who}@x.test", "time_zone": zone}
            )
            assert r.status_code == 200, r.text
        r = await c.post(
            "/v1/interviews",
            json={
                "candidate_id": "cand-1",
                "interviewer_ids": ["ada", "grace"],
                "job_id": "job-1",
                "round": "onsite",
                "start": "2026-12-01T15:00:00Z",
                "end": "2026-12-01T16:00:00Z",
            },
        )
        assert r.status_code == 201, r.text
        booking = r.json()
        assert booking["status"] == "scheduled" and booking["interviewer_ids"] == ["ada", "grace"]

    # The booking and its outbox row committed together in the scheduler's own database.
    conn = await asyncpg.connect(platform.dsns["scheduler"])
    try:
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", tenant)
        assert (
            await conn.fetchval("SELECT count(*) FROM bookings WHERE id = $1", uuid.UUID(booking["id"])) == 1
        )
        outbox = await conn.fetch(
            "SELECT event_type, published_at FROM outbox WHERE tenant_id = $1 ORDER BY seq", tenant
        )
        assert [r["event_type"] for r in outbox] == ["interview.scheduled"]
    finally:
        await conn.close()

    # ... was relayed to Kafka, consumed by the scorecard service, and shows through REST.
    with httpx.Client(base_url=platform.base_url, headers=h, timeout=10) as c:

        def expected():  # type: ignore[no-untyped-def]
            items = c.get(f"/v1/interviews/{booking['id']}/expected-scorecards").json()["items"]
            return items if len(items) == 2 else None

        items = await eventually(expected, what="the scorecard service to consume interview.scheduled")
        assert sorted(i["interviewer_id"] for i in items) == ["ada", "grace"]
        assert all(i["status"] == "expected" and i["due_at"] == "2026-12-02T16:00:00Z" for i in items)
        assert c.get("/v1/activity").json() == {"interviews_seen": 1, "scorecards_submitted": 0}

        # Completing the interview flows the same way and turns the expected scorecards into due ones.
        assert c.post(f"/v1/interviews/{booking['id']}/complete").status_code == 200
        await eventually(
            lambda: all(
                i["status"] == "due"
                for i in c.get(f"/v1/interviews/{booking['id']}/expected-scorecards").json()["items"]
            ),
            what="the expected scorecards to turn due",
        )


async def test_tenants_never_see_each_other(platform, tenant_key) -> None:  # type: ignore[no-untyped-def]
    (t1, k1), (_, k2) = tenant_key(), tenant_key()
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=10) as c:
        r = await c.post(
            "/v1/interviewers",
            headers={"Authorization": f"Bearer {k1}"},
            json={"id": "solo", "email": "solo@x.test", "time_zone": "UTC"},
        )
        assert r.status_code == 200
        other = await c.get("/v1/interviewers", headers={"Authorization": f"Bearer {k2}"})
        assert other.json()["items"] == []
        mine = await c.get("/v1/interviewers", headers={"Authorization": f"Bearer {k1}"})
        assert [i["id"] for i in mine.json()["items"]] == ["solo"]

    # Row-level security is the backstop: even a query without a tenant filter sees only its tenant.
    conn = await asyncpg.connect(platform.dsns["scheduler"])
    try:
        await conn.execute("SELECT set_config('app.tenant_id', 'someone-else', false)")
        assert await conn.fetchval("SELECT count(*) FROM interviewers") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "INSERT INTO interviewers (tenant_id, id, email, time_zone) VALUES ($1, 'x', 'x@x', 'UTC')",
                t1,
            )
    finally:
        await conn.close()


async def test_problem_json_and_idempotency(platform, tenant_key) -> None:  # type: ignore[no-untyped-def]
    _, key = tenant_key()
    async with httpx.AsyncClient(
        base_url=platform.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ) as c:
        bad = await c.post("/v1/interviewers", json={"id": "x", "email": "nope", "time_zone": "Mars/Base"})
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")
        fields = {e["field"] for e in bad.json()["errors"]}
        assert fields == {"interviewer.email", "interviewer.time_zone"}

        missing = await c.post("/v1/interviews", json={"candidate_id": "c"})
        assert missing.status_code == 400 and missing.headers["content-type"].startswith(
            "application/problem+json"
        )

        await c.post("/v1/interviewers", json={"id": "ida", "email": "ida@x.test", "time_zone": "UTC"})
        body = {
            "candidate_id": "c",
            "interviewer_ids": ["ida"],
            "start": "2026-12-03T10:00:00Z",
            "end": "2026-12-03T11:00:00Z",
        }
        first = await c.post("/v1/interviews", json=body, headers={"Idempotency-Key": "k-1"})
        again = await c.post("/v1/interviews", json=body, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"] and again.headers.get("idempotent-replayed") == "true"
        other = await c.post(
            "/v1/interviews", json={**body, "candidate_id": "d"}, headers={"Idempotency-Key": "k-1"}
        )
        assert other.status_code == 422

        # A second booking of the same interviewer over the same hour is a conflict, not a double booking.
        clash = await c.post("/v1/interviews", json={**body, "candidate_id": "e"})
        assert clash.status_code == 409 and "already booked" in clash.json()["detail"]

        lst = await c.get("/v1/interviews")
        assert len(lst.json()["items"]) == 1

    async with httpx.AsyncClient(base_url=platform.base_url, timeout=10) as c:
        assert (
            await c.get("/v1/interviews", headers={"Authorization": "Bearer il_forged"})
        ).status_code == 401
        openapi = await c.get("/openapi/openapi.json")
        assert openapi.status_code == 200 and "/v1/interviews" in openapi.json()["paths"]


async def test_each_service_exposes_prometheus_metrics(platform, tenant_key) -> None:  # type: ignore[no-untyped-def]
    _, key = tenant_key()
    async with httpx.AsyncClient(base_url=platform.base_url, headers={"Authorization": f"Bearer {key}"}) as c:
        await c.post("/v1/interviewers", json={"id": "m", "email": "m@x.test", "time_zone": "UTC"})
        r = await c.post(
            "/v1/interviews",
            json={
                "candidate_id": "c",
                "interviewer_ids": ["m"],
                "start": "2027-03-01T10:00:00Z",
                "end": "2027-03-01T11:00:00Z",
            },
        )
        assert r.status_code == 201

    def published() -> float:
        text = httpx.get(f"http://127.0.0.1:{platform.ports.metrics['scheduler']}/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith('interloop_events_published_total{service="scheduler"}')
        )

    await eventually(lambda: published() >= 1, what="the scheduler to report a published event")
    for svc in ("scorecard", "sync", "gateway"):
        text = httpx.get(f"http://127.0.0.1:{platform.ports.metrics[svc]}/metrics").text
        assert "interloop_ready" in text or "python_info" in text
