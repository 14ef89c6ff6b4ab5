"""ATS webhooks through the gateway to the scheduler, on the session's four services (real PostgreSQL and
Kafka): a signed Lever ``candidateStageChange`` (ids only) is completed from the Lever API (the fake) and
opens a scheduling request for the posting with the candidate's email; a Lever refusal quarantines the
delivery and alerts the owner, with nothing applied; a Greenhouse body replayed under a new
``Greenhouse-Event-ID`` is a duplicate and applied once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import struct_pb2
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc
from interloop_devstack.testing import ServiceSet, eventually, rows, value
from interloop_fakes.ats import FakeLever, sign_greenhouse, sign_lever

from .conftest import FIXTURES, staged_alerts

pytestmark = pytest.mark.integration

LEVER_SIG = "lever-glue-signature-token"  # noqa: S105 - a test secret
GH_SECRET = "gh-replay-secret"  # noqa: S105 - a test secret
OWNER = "ats-owner@lever.test"
ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]


@dataclass
class Tenant:
    id: str
    http: httpx.AsyncClient  # the tenant's API key
    public: httpx.AsyncClient  # no key: the vendor
    platform: ServiceSet

    async def connect(self, provider: str, credentials: dict[str, str], **connection: Any) -> str:
        async with grpc.aio.insecure_channel(self.platform.target("sync")) as ch:
            created = await sync_pb2_grpc.SyncServiceStub(ch).CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=self.id,
                    credentials=credentials,
                    connection=pb.Connection(provider=provider, owner=OWNER, **connection),
                )
            )
        return created.connection.id

    async def panel(self, job_id: str, panel: tuple[str, ...] = ("hm", "p1")) -> None:
        for who in panel:
            r = await self.http.put(
                f"/v1/scheduling/interviewers/{who}",
                json={"email": f"{who}@lever.test", "time_zone": "UTC", "working_hours": ALWAYS},
            )
            assert r.status_code == 200, r.text
        r = await self.http.put(
            f"/v1/scheduling/job-panels/{job_id}",
            json={"panel": [{"interviewer_ids": [w]} for w in panel], "duration_minutes": 30},
        )
        assert r.status_code == 200, r.text

    async def rows(self, svc: str, sql: str, *args: Any) -> list[Any]:
        return await rows(self.platform.dsns[svc], sql, self.id, *args)


@pytest.fixture
async def tenant(platform: ServiceSet) -> AsyncIterator[Tenant]:
    from interloop_cli.demo import create_api_key

    tenant_id = f"lv-{uuid.uuid4().hex[:8]}"
    key = await create_api_key(
        platform.dsns["gateway"], tenant_id=tenant_id, key=f"il_{tenant_id}_key", scopes=("admin",)
    )
    async with (
        httpx.AsyncClient(
            base_url=platform.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http,
        httpx.AsyncClient(base_url=platform.base_url, timeout=30) as public,
    ):
        yield Tenant(tenant_id, http, public, platform)


@pytest.fixture
def lever() -> Iterator[FakeLever]:
    with FakeLever() as fake:
        yield fake


async def _lever_connection(t: Tenant, lever: FakeLever) -> str:
    return await t.connect(
        "lever",
        {"signature_token": LEVER_SIG, "api_key": lever.api_key},
        base_url=f"{lever.base_url}/v1",
        stage_policy=_policy("interview"),
    )


def _policy(*keywords: str) -> struct_pb2.Struct:
    policy = struct_pb2.Struct()
    policy.update({"keywords": list(keywords)})
    return policy


def _stage_change(opp: dict[str, Any], to_stage: str, from_stage: str = "lead-new") -> Any:
    """Lever's candidateStageChange as documented: ids only, signed over token + triggeredAt."""
    return sign_lever(
        "candidateStageChange",
        {
            "opportunityId": opp["id"],
            "candidateId": opp["id"],
            "contactId": opp["contact"],
            "toStageId": to_stage,
            "fromStageId": from_stage,
        },
        LEVER_SIG,
    )


async def test_a_lever_stage_change_opens_a_scheduling_request_for_the_posting(
    tenant: Tenant, lever: FakeLever
) -> None:
    connection = await _lever_connection(tenant, lever)
    posting = lever.add_posting(text="Platform Engineer")
    onsite = lever.add_stage("On-site Interview")
    email = f"grace-{tenant.id}@lever.test"
    opp = lever.add_opportunity(
        updated_at=datetime.now(UTC),
        name="Grace Hopper",
        email=email,
        posting_id=posting["id"],
        stage_id=onsite,
    )
    await tenant.panel(posting["id"])
    hook = _stage_change(opp, onsite)
    lever.rate_limit_next(1, retry_after=0.2)  # Lever throttles the first fetch: waited out, not lost

    r = await tenant.public.post(f"/webhooks/lever/{connection}", content=hook.body, headers=hook.headers)
    assert r.status_code == 202 and r.json()["outcome"] == "accepted", r.text

    links = await eventually(
        lambda: tenant.rows(
            "scheduler",
            "SELECT application_id, job_id, candidate_email, candidate_name FROM scheduling_links"
            " WHERE tenant_id = $1",
        ),
        what="the scheduling request",
    )
    assert [tuple(x) for x in links] == [(opp["id"], posting["id"], email, "Grace Hopper")]
    assert await tenant.rows("scheduler", "SELECT reason FROM dead_letters WHERE tenant_id = $1") == []
    # the mirror holds the job, the source channel and the candidate's email
    (app,) = await tenant.rows(
        "sync", "SELECT job_ids, source FROM applications WHERE tenant_id = $1 AND remote_id = $2", opp["id"]
    )
    assert (list(app["job_ids"]), app["source"]) == ([posting["id"]], "linkedin")
    (cand,) = await tenant.rows(
        "sync", "SELECT emails FROM candidates WHERE tenant_id = $1 AND remote_id = $2", opp["contact"]
    )
    assert list(cand["emails"]) == [email]
    fetched = [q.path for q in lever.requests if q.path.startswith("/v1/")]
    assert fetched == [f"/v1/opportunities/{opp['id']}"] * 2 + [f"/v1/postings/{posting['id']}"]

    # The same delivery again: a duplicate, answered without asking Lever again.
    again = await tenant.public.post(f"/webhooks/lever/{connection}", content=hook.body, headers=hook.headers)
    assert again.status_code == 202 and again.json()["outcome"] == "duplicate"
    assert len([q for q in lever.requests if q.path.startswith("/v1/")]) == len(fetched)


async def test_a_lever_refusal_quarantines_the_delivery_and_alerts_the_owner(
    tenant: Tenant, lever: FakeLever
) -> None:
    connection = await _lever_connection(tenant, lever)
    onsite = lever.add_stage("On-site Interview")
    unknown = {"id": str(uuid.uuid4()), "contact": str(uuid.uuid4())}  # not in Lever: 404
    hook = _stage_change(unknown, onsite)

    r = await tenant.public.post(f"/webhooks/lever/{connection}", content=hook.body, headers=hook.headers)
    assert r.status_code == 400, r.text
    dsn = tenant.platform.dsns["sync"]
    assert await value(dsn, "SELECT count(*) FROM webhook_deliveries WHERE tenant_id = $1", tenant.id) == 0
    assert await value(dsn, "SELECT count(*) FROM applications WHERE tenant_id = $1", tenant.id) == 0
    stage_events = await tenant.rows(
        "sync",
        "SELECT 1 FROM outbox WHERE tenant_id = $1 AND event_type = 'ats.application.stage_changed'",
    )
    assert stage_events == []
    (reason,) = [
        x["reason"] for x in await tenant.rows("sync", "SELECT reason FROM quarantine WHERE tenant_id = $1")
    ]
    assert "HTTP 404" in reason
    (alert,) = await staged_alerts(dsn, tenant.id)
    assert alert.owner == OWNER and "HTTP 404" in alert.detail

    # Lever down beyond the retries: UNAVAILABLE (the vendor redelivers), nothing stored at all.
    lever.set_down(True)
    opp = lever.add_opportunity(updated_at=datetime.now(UTC), posting_id=lever.add_posting()["id"])
    down = _stage_change(opp, onsite)
    r = await tenant.public.post(f"/webhooks/lever/{connection}", content=down.body, headers=down.headers)
    assert r.status_code >= 500
    assert await value(dsn, "SELECT count(*) FROM webhook_deliveries WHERE tenant_id = $1", tenant.id) == 0
    assert await value(dsn, "SELECT count(*) FROM quarantine WHERE tenant_id = $1", tenant.id) == 1
    # ... and once Lever is back, its redelivery is applied.
    lever.set_down(False)
    r = await tenant.public.post(f"/webhooks/lever/{connection}", content=down.body, headers=down.headers)
    assert r.status_code == 202 and r.json()["outcome"] == "accepted", r.text


async def test_a_greenhouse_body_replayed_under_a_new_event_id_is_a_duplicate(tenant: Tenant) -> None:
    connection = await tenant.connect(
        "greenhouse",
        {"webhook_secret": GH_SECRET},
        stage_policy=_policy("interview", "assessment"),
    )
    raw = (FIXTURES / "greenhouse" / "f-gh-01-candidate_stage_change.json").read_bytes()
    first = sign_greenhouse(raw, GH_SECRET, event_id=str(uuid.uuid4()))
    replay = sign_greenhouse(raw, GH_SECRET, event_id=str(uuid.uuid4()))
    assert first.headers["Greenhouse-Event-ID"] != replay.headers["Greenhouse-Event-ID"]

    url = f"/webhooks/greenhouse/{connection}"
    r = await tenant.public.post(url, content=first.body, headers=first.headers)
    assert r.status_code == 202 and r.json()["outcome"] == "accepted", r.text
    again = await tenant.public.post(url, content=replay.body, headers=replay.headers)
    assert again.status_code == 202 and again.json()["outcome"] == "duplicate", again.text
    assert again.json()["delivery_id"] == r.json()["delivery_id"]

    dsn = tenant.platform.dsns["sync"]
    assert await value(dsn, "SELECT count(*) FROM webhook_deliveries WHERE tenant_id = $1", tenant.id) == 1
    changed = await tenant.rows(
        "sync",
        "SELECT 1 FROM outbox WHERE tenant_id = $1 AND event_type = 'ats.application.stage_changed'",
    )
    assert len(changed) == 1
