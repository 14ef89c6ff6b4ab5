"""The gRPC partner API an ATS vendor calls, through the gateway's partner port to the real backends:
key and scope checks, a scheduling request opened from the job's default panel (the candidate books
through its URL), and the candidate's interviews and scorecards read back. Backend refusals reach the
vendor unchanged (INVALID_ARGUMENT with field violations, NOT_FOUND)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2
from interloop.partner.v1 import partner_pb2 as pb
from interloop.partner.v1 import partner_pb2_grpc
from interloop_devstack.testing import eventually

pytestmark = pytest.mark.integration

ALWAYS = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(1, 8)]
TEMPLATE = {
    "job_id": "job-partner",
    "round": "onsite",
    "created_by": "hm",
    "dimensions": [{"key": "coding", "name": "Coding", "scale": {"kind": "numeric", "min": 1, "max": 5}}],
}


def _violations(err: grpc.aio.AioRpcError) -> list[str]:
    raw = dict(err.trailing_metadata() or ()).get("grpc-status-details-bin")
    if raw is None:
        return []
    status = status_pb2.Status.FromString(raw)
    out = []
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            out += [v.field for v in bad.field_violations]
    return out


async def test_partner_api_end_to_end(platform, tenant_key) -> None:  # type: ignore[no-untyped-def]
    tenant, admin = tenant_key()
    _, partner = tenant_key(tenant, scopes=("partner",))
    _, compliance = tenant_key(tenant, scopes=("compliance",))
    rest = httpx.AsyncClient(base_url=platform.base_url, headers={"Authorization": f"Bearer {admin}"})
    async with rest, grpc.aio.insecure_channel(platform.target("gateway")) as ch:
        stub = partner_pb2_grpc.PartnerServiceStub(ch)
        as_vendor = [("authorization", f"Bearer {partner}"), ("x-partner-id", "acme-ats")]

        # Who may call.
        for metadata, code in (
            ([], grpc.StatusCode.UNAUTHENTICATED),
            ([("authorization", "Bearer il_nope")], grpc.StatusCode.UNAUTHENTICATED),
            ([("authorization", f"Bearer {compliance}")], grpc.StatusCode.PERMISSION_DENIED),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.GetPartnerInfo(pb.GetPartnerInfoRequest(), metadata=metadata)
            assert refused.value.code() == code
        info = await stub.GetPartnerInfo(pb.GetPartnerInfoRequest(), metadata=as_vendor)
        # a tenant key acting for itself: every grant scope; `x-partner-id` is not believed
        assert (info.api_version, info.partner_id, info.tenant_id, list(info.scopes)) == (
            "interloop.partner.v1",
            "",
            tenant,
            ["read", "schedule", "push", "subscribe"],
        )

        # Bad input and backend refusals come back as they are.
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await stub.RequestScheduling(
                pb.RequestSchedulingRequest(job_id="job-partner"), metadata=as_vendor
            )
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and _violations(bad.value) == [
            "candidate_id"
        ]
        with pytest.raises(grpc.aio.AioRpcError) as no_panel:
            await stub.RequestScheduling(
                pb.RequestSchedulingRequest(candidate_id="c-9", job_id="job-without-panel"),
                metadata=as_vendor,
            )
        assert (
            no_panel.value.code() == grpc.StatusCode.NOT_FOUND and "default panel" in no_panel.value.details()
        )

        # The tenant set the job's default panel; the vendor opens a request from it.
        for who in ("pia", "pat"):
            r = await rest.put(
                f"/v1/scheduling/interviewers/{who}",
                json={"email": f"{who}@acme.test", "time_zone": "UTC", "working_hours": ALWAYS},
            )
            assert r.status_code == 200, r.text
        panel = {"panel": [{"interviewer_ids": ["pia", "pat"], "k": 1}], "duration_minutes": 45}
        assert (await rest.put("/v1/scheduling/job-panels/job-partner", json=panel)).status_code == 200
        opened = await stub.RequestScheduling(
            pb.RequestSchedulingRequest(
                candidate_id="cand-p",
                application_id="app-p",
                job_id="job-partner",
                round="onsite",
                candidate_email="cand-p@mail.test",
                candidate_name="Cand P",
            ),
            metadata=as_vendor,
        )
        assert opened.link_id and "/schedule/" in opened.url
        token = opened.url.rsplit("/", 1)[1]
        slots = (await rest.get(f"/v1/scheduling-links/{token}/slots", params={"tz": "UTC"})).json()
        assert slots["duration_minutes"] == 45 and slots["slots"]
        # the scheduler's own field violations pass through the partner port
        bad_email = pb.RequestSchedulingRequest(
            candidate_id="c-8", job_id="job-partner", candidate_email="nope"
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused_email:
            await stub.RequestScheduling(bad_email, metadata=as_vendor)
        assert refused_email.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert _violations(refused_email.value) == ["candidate_email"]
        booked = await rest.post(
            f"/v1/scheduling-links/{token}/confirm", json={"start": slots["slots"][0]["start"]}
        )
        assert booked.status_code == 200, booked.text

        # A past interview of the same candidate, scored.
        assert (await rest.post("/v1/scorecard-templates", json=TEMPLATE)).status_code == 201
        start = datetime.now(UTC) - timedelta(days=1)
        r = await rest.post(
            "/v1/interviews",
            json={
                "candidate_id": "cand-p",
                "interviewer_ids": ["pia", "pat"],
                "job_id": "job-partner",
                "round": "onsite",
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
            },
        )
        past = r.json()["id"]
        assert (await rest.post(f"/v1/interviews/{past}/complete")).status_code == 200

        async def due() -> bool:  # the scorecard service learns of the interview over Kafka
            got = await rest.get("/v1/expected-scorecards", params={"interview_id": past})
            return sum(i["status"] == "due" for i in got.json()["items"]) == 2

        await eventually(due, what="both expected scorecards due at the scorecard service")
        card = await rest.post(
            "/v1/scorecards",
            headers={"X-Interviewer-Id": "pia"},
            json={
                "interview_id": past,
                "interviewer_id": "pia",
                "submit": True,
                "ratings": [{"dimension": "coding", "score": 5, "evidence": "clean parser"}],
                "recommendation": "strong_yes",
            },
        )
        assert card.status_code == 201, card.text
        draft = await rest.post(
            "/v1/scorecards",
            headers={"X-Interviewer-Id": "pat"},
            json={
                "interview_id": past,
                "interviewer_id": "pat",
                "submit": False,
                "ratings": [{"dimension": "coding", "score": 2}],
            },
        )
        assert draft.status_code == 201, draft.text

        interviews = await stub.ListCandidateInterviews(
            pb.ListCandidateInterviewsRequest(candidate_id="cand-p"), metadata=as_vendor
        )
        assert {(i.id, i.status) for i in interviews.interviews} == {
            (booked.json()["booking"]["id"], "scheduled"),
            (past, "completed"),
        }
        scorecards = await stub.ListCandidateScorecards(
            pb.ListCandidateScorecardsRequest(candidate_id="cand-p"), metadata=as_vendor
        )
        (sc,) = scorecards.scorecards  # pat's draft is pat's own, not the hiring record's
        assert sc.recommendation == "strong_yes" and sc.interviewer_id == "pia" and sc.status == "submitted"
        # The vendor's key opens the partner API only, not the tenant's REST API.
        as_partner = await rest.get("/v1/interviews", headers={"Authorization": f"Bearer {partner}"})
        assert as_partner.status_code == 403, as_partner.text
        # Another tenant's key sees none of it.
        _, stranger = tenant_key(scopes=("partner",))
        other = await stub.ListCandidateInterviews(
            pb.ListCandidateInterviewsRequest(candidate_id="cand-p"),
            metadata=[("authorization", f"Bearer {stranger}")],
        )
        assert list(other.interviews) == []
