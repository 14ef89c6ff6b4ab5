"""An ATS vendor integrating over the partner API, end to end on the real services, PostgreSQL and Kafka:
registered as a partner with a key of its own, granted access by a tenant admin over REST, it pushes a
candidate and a stage move; the candidate gets the scheduling email and books; the interviewers submit; a
recruiter decides — and the partner's open stream receives interview.scheduled, scorecard.submitted and
decision.recorded in that order. A reconnect from the stored position loses nothing and repeats nothing
acknowledged; a partner without a grant gets PERMISSION_DENIED for everything of that tenant; a revoked
grant ends its access."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import grpc
import httpx
import pytest
from interloop.common.v1 import common_pb2
from interloop.events.v1 import interview_pb2, scorecard_pb2
from interloop.partner.v1 import partner_pb2 as pb
from interloop.partner.v1 import partner_pb2_grpc
from interloop.sync.v1 import sync_pb2 as spb
from interloop_common.rpc import field_violations
from interloop_devstack.testing import Mailbox, eventually, operator_cli
from interloop_gateway.store import tenants as partners_store

pytestmark = pytest.mark.integration

# The vendor's example client, exercised here against the real stack.
_EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "partner" / "acme_sync.py"
_spec = importlib.util.spec_from_file_location("acme_sync", _EXAMPLE)
assert _spec is not None and _spec.loader is not None
acme_sync = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(acme_sync)

ALWAYS = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(1, 8)]
STAGE = "Onsite Interview"


_cli = operator_cli


async def _register(dsn: str, partner_id: str) -> str:
    """The operator registers the partner: its key is printed once and stored only as its hash."""
    done = await asyncio.to_thread(_cli, dsn, "partners", "register", partner_id, "--name", "Acme ATS")
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("ilp_")
    conn = await asyncpg.connect(dsn)
    try:
        stored = await conn.fetchval("SELECT key_hash FROM partner_keys WHERE partner_id = $1", partner_id)
    finally:
        await conn.close()
    assert stored == partners_store.hash_key(key) and key.encode() not in stored
    refused = await asyncio.to_thread(_cli, dsn, "partners", "register", "Bad Id!", "--name", "x")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    return key


class Follower:
    """A partner's stream consumer: keeps what it received and the position after each item."""

    def __init__(self, stub: partner_pb2_grpc.PartnerServiceStub, metadata: list[tuple[str, str]]) -> None:
        self.stub, self.metadata = stub, metadata
        self.events: list[pb.PartnerEvent] = []
        self.positions: list[str] = []  # the position stored after each event
        self.heartbeat_position = ""
        self._task: asyncio.Task[None] | None = None

    def start(self, position: str = "") -> asyncio.Event:
        ready = asyncio.Event()

        async def run() -> None:
            call = self.stub.SubscribeEvents(
                pb.SubscribeEventsRequest(position=position), metadata=self.metadata
            )
            async for item in call:
                if item.HasField("heartbeat"):
                    self.heartbeat_position = item.position
                    ready.set()
                else:
                    self.events.append(item.event)
                    self.positions.append(item.position)

        self._task = asyncio.create_task(run())
        return ready

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task

    def types(self) -> list[str]:
        return [e.type for e in self.events]


@pytest.fixture
async def admin(platform, tenant_key) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:  # type: ignore[no-untyped-def]
    tenant, key = tenant_key()
    async with httpx.AsyncClient(base_url=platform.base_url, headers={"Authorization": f"Bearer {key}"}) as c:
        yield tenant, c


async def test_a_partner_pushes_follows_and_is_cut_off_when_revoked(  # type: ignore[no-untyped-def]
    platform, admin, tenant_key, mailbox: Mailbox, tmp_path: Path
) -> None:
    tenant, rest = admin
    other_tenant, _ = tenant_key()
    partner_id = f"acme-{uuid.uuid4().hex[:8]}"
    key = await _register(platform.dsns["gateway"], partner_id)

    # The tenant admin sees the registered partner and grants it access.
    listed = await rest.get("/v1/partners")
    assert partner_id in {p["id"] for p in listed.json()["items"]}
    assert (await rest.put(f"/v1/partner-grants/{partner_id}", json={"scopes": ["read"]})).status_code == 200
    r = await rest.put(
        f"/v1/partner-grants/{partner_id}", json={"scopes": ["read", "push", "subscribe", "schedule"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["scopes"] == ["push", "read", "schedule", "subscribe"]
    grants = (await rest.get("/v1/partner-grants")).json()["items"]
    assert [(g["partner_id"], g["granted_by"].startswith("api-key:")) for g in grants] == [(partner_id, True)]
    bad = await rest.put(f"/v1/partner-grants/{partner_id}", json={"scopes": ["root"]})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert (
        await rest.put("/v1/partner-grants/nobody-registered", json={"scopes": ["read"]})
    ).status_code == 404

    for who in ("pia", "pat"):
        r = await rest.put(
            f"/v1/scheduling/interviewers/{who}",
            json={"email": f"{who}@acme.test", "time_zone": "UTC", "working_hours": ALWAYS},
        )
        assert r.status_code == 200, r.text
    job = f"job-{uuid.uuid4().hex[:6]}"
    panel = {"panel": [{"interviewer_ids": ["pia"]}, {"interviewer_ids": ["pat"]}], "duration_minutes": 45}
    assert (await rest.put(f"/v1/scheduling/job-panels/{job}", json=panel)).status_code == 200
    template = {
        "job_id": job,
        "round": STAGE,
        "created_by": "hm",
        "dimensions": [{"key": "coding", "name": "Coding", "scale": {"kind": "numeric", "min": 1, "max": 5}}],
    }
    assert (await rest.post("/v1/scorecard-templates", json=template)).status_code == 201

    as_partner = [("authorization", f"Bearer {key}"), ("x-tenant-id", tenant)]
    elsewhere = [("authorization", f"Bearer {key}"), ("x-tenant-id", other_tenant)]
    async with grpc.aio.insecure_channel(platform.target("gateway")) as ch:
        stub = partner_pb2_grpc.PartnerServiceStub(ch)
        info = await stub.GetPartnerInfo(pb.GetPartnerInfoRequest(), metadata=as_partner)
        assert (info.partner_id, info.tenant_id) == (partner_id, tenant)

        # Without a grant from the other tenant: nothing of it, whatever the call.
        for call in (
            stub.GetPartnerInfo(pb.GetPartnerInfoRequest(), metadata=elsewhere),
            stub.ListCandidateInterviews(
                pb.ListCandidateInterviewsRequest(candidate_id="c"), metadata=elsewhere
            ),
            stub.MoveStage(pb.MoveStageRequest(request_id="x"), metadata=elsewhere),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as refused_stream:
            async for _ in stub.SubscribeEvents(pb.SubscribeEventsRequest(), metadata=elsewhere):
                pass
        assert refused_stream.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as bad_position:
            async for _ in stub.SubscribeEvents(
                pb.SubscribeEventsRequest(position="nope"), metadata=as_partner
            ):
                pass
        assert bad_position.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert [f for f, _ in field_violations(bad_position.value)] == ["position"]

        # When could the job's panel meet? The scheduler's answer, through the partner door.
        window = common_pb2.TimeRange()
        window.start.FromDatetime(datetime.now(UTC))
        window.end.FromDatetime(datetime.now(UTC) + timedelta(days=7))
        free = await stub.FindPanelAvailability(
            pb.FindPanelAvailabilityRequest(job_id=job, window=window, limit=5), metadata=as_partner
        )
        assert len(free.slots) == 5 and all(sorted(s.interviewer_ids) == ["pat", "pia"] for s in free.slots)
        assert all((s.end.ToDatetime() - s.start.ToDatetime()) == timedelta(minutes=45) for s in free.slots)

        follower = Follower(stub, as_partner)
        await asyncio.wait_for(follower.start().wait(), 60)  # the first heartbeat: the stream is at "now"

        # Push the candidate, the application and the move into the interview stage.
        cand, app = f"cand-{uuid.uuid4().hex[:6]}", f"app-{uuid.uuid4().hex[:6]}"
        email = f"{cand}@mail.test"
        outcomes = await acme_sync.push_stage_move(
            stub,
            as_partner,
            candidate=cand,
            application=app,
            job=job,
            stage=STAGE,
            email=email,
            first_name="Pat",
            last_name="Push",
            interview_stage=True,
        )
        assert set(outcomes.values()) == {"INGEST_OUTCOME_ACCEPTED"}, outcomes
        move = pb.MoveStageRequest(
            request_id=f"{cand}-3",
            move=spb.PartnerStageMove(
                application_id=app, stage_id=STAGE, stage_name=STAGE, interview_stage=True
            ),
        )
        assert (await stub.MoveStage(move, metadata=as_partner)).outcome == spb.INGEST_OUTCOME_ACCEPTED
        again = await stub.MoveStage(move, metadata=as_partner)  # the vendor retries
        assert again.outcome == spb.INGEST_OUTCOME_DUPLICATE
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await stub.MoveStage(
                pb.MoveStageRequest(request_id="r-bad", move=spb.PartnerStageMove()), metadata=as_partner
            )
        assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert any("application_id" in f for f, _ in field_violations(invalid.value))

        # The candidate gets the scheduling email (once) and books.
        mails = await eventually(lambda: mailbox.to(email), what="the scheduling-link email", within=60)
        token = re.search(r"/schedule/(\S+)", mails[0].get_content())
        assert token, mails[0].get_content()
        public = httpx.AsyncClient(base_url=platform.base_url)
        async with public:
            slots = (
                await public.get(f"/v1/scheduling-links/{token.group(1)}/slots", params={"tz": "UTC"})
            ).json()
            booked = await public.post(
                f"/v1/scheduling-links/{token.group(1)}/confirm", json={"start": slots["slots"][0]["start"]}
            )
        assert booked.status_code == 200, booked.text
        booking = booked.json()["booking"]["id"]
        await eventually(
            lambda: "interview.scheduled" in follower.types(), what="interview.scheduled on the stream"
        )
        scheduled_at = follower.types().index("interview.scheduled")
        stored = follower.positions[scheduled_at]  # the client acknowledged up to here, then disconnects
        await follower.stop()
        scheduled = interview_pb2.InterviewScheduled()
        assert follower.events[scheduled_at].payload.Unpack(scheduled) and scheduled.booking_id == booking

        # Meanwhile: the recruiter also puts in an interview that already took place (scorecards need one that
        # ended), it completes, both interviewers submit, the recruiter decides.
        start = datetime.now(UTC) - timedelta(days=1)
        r = await rest.post(
            "/v1/interviews",
            json={
                "candidate_id": cand,
                "interviewer_ids": ["pia", "pat"],
                "job_id": job,
                "round": STAGE,
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=45)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        past = r.json()["id"]
        assert (await rest.post(f"/v1/interviews/{past}/complete")).status_code == 200

        async def due() -> bool:
            got = await rest.get("/v1/expected-scorecards", params={"interview_id": past})
            return sum(i["status"] == "due" for i in got.json()["items"]) == 2

        await eventually(due, what="both expected scorecards due")
        for who, score in (("pia", 4), ("pat", 5)):
            card = await rest.post(
                "/v1/scorecards",
                headers={"X-Interviewer-Id": who},
                json={
                    "interview_id": past,
                    "interviewer_id": who,
                    "submit": True,
                    "ratings": [{"dimension": "coding", "score": score, "evidence": "solid"}],
                    "recommendation": "yes",
                },
            )
            assert card.status_code == 201, card.text
        decided = await rest.post(
            "/v1/decisions", json={"candidate_id": cand, "job_id": job, "decision": "hire"}
        )
        assert decided.status_code in (200, 201), decided.text

        # The vendor's client (examples/partner) reconnects from the stored position: what followed, in order,
        # nothing acknowledged again.
        position_file = tmp_path / "position"
        position_file.write_text(stored)
        received: list[pb.PartnerEvent] = []
        last = await asyncio.wait_for(
            acme_sync.follow(
                stub,
                as_partner,
                position_file=position_file,
                until=lambda e: e.type == "decision.recorded",
                handle=received.append,
            ),
            90,
        )
        assert last.type == "decision.recorded" and position_file.read_text() != stored
        # (a fresh tenant: every event on its stream is about this candidate; reminders may interleave)
        seen = [e.type for e in received if e.type != "scorecard.overdue"]
        assert seen == [
            "interview.scheduled",
            "interview.completed",
            "scorecard.submitted",
            "scorecard.submitted",
            "decision.recorded",
        ]
        assert received[0].subject.endswith(past) and received[1].subject.endswith(past)
        assert follower.events[scheduled_at].id not in {e.id for e in received}
        decision = scorecard_pb2.DecisionRecorded()
        assert last.payload.Unpack(decision)
        assert decision.candidate_id == cand
        # ... and reads the hiring record back: the decision, then the two submitted scorecards.
        decisions = await stub.ListCandidateDecisions(
            pb.ListCandidateDecisionsRequest(candidate_id=cand), metadata=as_partner
        )
        assert [(d.decision, d.job_id, d.decided_at) for d in decisions.decisions] == [
            ("hire", job, decision.decided_at)
        ]
        other_job = await stub.ListCandidateDecisions(
            pb.ListCandidateDecisionsRequest(candidate_id=cand, job_id="another-job"), metadata=as_partner
        )
        assert list(other_job.decisions) == []
        cards = await stub.ListCandidateScorecards(
            pb.ListCandidateScorecardsRequest(candidate_id=cand), metadata=as_partner
        )
        assert sorted(c.interviewer_id for c in cards.scorecards) == ["pat", "pia"]
        # The tenant revokes the grant: the partner is cut off.
        assert (await rest.delete(f"/v1/partner-grants/{partner_id}")).status_code == 200
        assert (await rest.delete(f"/v1/partner-grants/{partner_id}")).status_code == 404
        with pytest.raises(grpc.aio.AioRpcError) as revoked:
            await stub.GetPartnerInfo(pb.GetPartnerInfoRequest(), metadata=as_partner)
        assert revoked.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # Every partner call and every admin change is in the tenant's hash-chained audit trail, and it verifies.
    conn = await asyncpg.connect(platform.dsns["gateway"])
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
            trail = await conn.fetch(
                "SELECT actor, action, target, door, status FROM audit_log WHERE tenant_id = $1 ORDER BY id",
                tenant,
            )
    finally:
        await conn.close()
    entries = [tuple(r) for r in trail]
    assert (
        f"partner:{partner_id}",
        "interloop.partner.v1.PartnerService/MoveStage",
        f"application/{app}",
        "partner-grpc",
        0,
    ) in entries
    assert any(
        a.startswith("PUT /v1/partner-grants/") and t == f"partner/{partner_id}" and d == "rest" and st == 200
        for _, a, t, d, st in entries
    )
    assert any(
        a.endswith("/MoveStage") and st == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        for _, a, _, _, st in entries
    )
    verified = await asyncio.to_thread(_cli, platform.dsns["gateway"], "audit", "verify", "--tenant", tenant)
    assert verified.returncode == 0 and "audit chain intact" in verified.stdout, (
        verified.stdout + verified.stderr
    )
