"""ATS facts that sync announces, consumed by the scheduler and the scorecard service: an automation's
`open_scheduling_request` opens one request for the job's default panel; a candidate deleted in the ATS has
their PII erased in the scheduler and the scorecard databases (ratings stay for statistics)."""

from __future__ import annotations

import asyncio

import grpc
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from interloop.events.v1 import ats_pb2
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc
from interloop_common.events import encode, new_event
from interloop_devstack.testing import Mailbox, eventually

from .conftest import ALWAYS, Tenant, fixture, held_interview_with_scorecard, stage_change

pytestmark = pytest.mark.integration


async def _panel(t: Tenant, job_id: str, panel: tuple[str, ...] = ("hm", "p1")) -> None:
    for who in panel:
        r = await t.http.put(
            f"/v1/scheduling/interviewers/{who}",
            json={"email": f"{who}@glue.test", "time_zone": "UTC", "working_hours": ALWAYS},
        )
        assert r.status_code == 200, r.text
    r = await t.http.put(
        f"/v1/scheduling/job-panels/{job_id}",
        json={"panel": [{"interviewer_ids": [w]} for w in panel], "duration_minutes": 30},
    )
    assert r.status_code == 200, r.text


async def test_automation_open_scheduling_request_opens_one_request(tenant: Tenant, mailbox: Mailbox) -> None:
    await _panel(tenant, "4100")
    async with grpc.aio.insecure_channel(tenant.platform.target("sync")) as ch:
        await sync_pb2_grpc.SyncServiceStub(ch).CreateAutomationRule(
            pb.CreateAutomationRuleRequest(
                tenant_id=tenant.id,
                rule=pb.AutomationRule(
                    id="phone-screen",
                    dsl='on stage_change if to_stage.name == "Phone" do open_scheduling_request',
                ),
            )
        )
    # "Phone" is no interview stage by the connection's policy: only the automation asks for a request.
    body, candidate_id, email = stage_change(2, stage="Phone", job_id=4100)
    assert (await tenant.webhook(body)).status_code == 202
    # The same move sent again as a new delivery (a resend differs in its body: the same signed body again is
    # a replay, answered as a duplicate): the rule fires again (new event), the scheduler does not open a
    # second request for the same application and round.
    body["payload"]["application"]["url"] += "&resent=1"
    assert (await tenant.webhook(body)).status_code == 202

    links = await eventually(
        lambda: tenant.rows(
            "scheduler",
            "SELECT candidate_id, application_id, job_id, round, candidate_email, candidate_name"
            " FROM scheduling_links WHERE tenant_id = $1",
            tenant.id,
        ),
        what="the scheduling request",
    )
    assert [tuple(r) for r in links] == [
        (candidate_id, str(body["payload"]["application"]["id"]), "4100", "Phone", email, "Cand2 Glue2")
    ]
    await eventually(
        lambda: tenant.rows(
            "sync",
            "SELECT 1 FROM automation_actions WHERE tenant_id = $1 AND kind = 'open_scheduling_request'"
            " AND status = 'done' HAVING count(*) = 2",
            tenant.id,
        ),
        what="both automation actions",
    )
    # ... and the request it opened reaches the candidate as one email
    await eventually(lambda: mailbox.to(email), what="the link email")
    await asyncio.sleep(1.5)
    assert len(mailbox.to(email)) == 1
    assert (
        len(await tenant.rows("scheduler", "SELECT id FROM scheduling_links WHERE tenant_id = $1", tenant.id))
        == 1
    )


TEMPLATE = {
    "job_id": "3485",
    "round": "Assessment",
    "created_by": "hiring-manager",
    "dimensions": [{"key": "coding", "name": "Coding", "scale": {"kind": "numeric", "min": 1, "max": 5}}],
}


async def test_candidate_deleted_in_the_ats_is_erased_in_scheduler_and_scorecard(
    tenant: Tenant, mailbox: Mailbox
) -> None:
    from interloop_cli.demo import create_api_key

    await _panel(tenant, "3485")
    body, candidate_id, email = stage_change(3)
    assert (await tenant.webhook(body)).status_code == 202
    mails = await eventually(lambda: mailbox.to(email), what="the link email")
    token = mails[0].get_content().split("/schedule/", 1)[1].split()[0]

    # the candidate books through their link: a booking with their name and email
    slots = (await tenant.public.get(f"/v1/scheduling-links/{token}/slots", params={"tz": "UTC"})).json()
    ok = await tenant.public.post(
        f"/v1/scheduling-links/{token}/confirm", json={"start": slots["slots"][0]["start"]}
    )
    assert ok.status_code == 200, ok.text
    # ... and gets the invite by email, the ICS attached
    mails = await eventually(lambda: mailbox.to(email)[1:], what="the interview invite")
    (ics,) = [p for p in mails[0].iter_attachments() if p.get_content_type() == "text/calendar"]
    assert ok.json()["booking"]["id"] in ics.get_content() and "METHOD:REQUEST" in ics.get_content()

    # a held interview of the same candidate with a submitted scorecard whose evidence names them
    assert (await tenant.http.post("/v1/scorecard-templates", json=TEMPLATE)).status_code == 201
    await held_interview_with_scorecard(tenant, candidate_id, "Cand3 Glue3 wrote a clean parser")
    compliance = await create_api_key(
        tenant.platform.dsns["gateway"],
        tenant_id=tenant.id,
        key=f"il_{tenant.id}_cmp",
        scopes=("compliance",),
    )
    async with httpx.AsyncClient(
        base_url=tenant.platform.base_url, headers={"Authorization": f"Bearer {compliance}"}, timeout=30
    ) as comp:
        put = await comp.put(
            f"/v1/compliance/candidates/{candidate_id}/demographics", json={"attributes": {"sex": "female"}}
        )
        assert put.status_code == 200, put.text

    before = await tenant.rows(
        "scheduler",
        "SELECT candidate_email FROM bookings"
        " WHERE tenant_id = $1 AND candidate_id = $2 AND link_id IS NOT NULL",
        tenant.id,
        candidate_id,
    )
    assert [r[0] for r in before] == [email]

    # a record that carried their address could not be processed: it sits in the scheduler's dead letters
    poison = new_event(
        type="ats.application.stage_changed",
        source="//test",
        tenant_id=tenant.id,
        subject=f"candidate/{candidate_id}",
        payload=ats_pb2.CandidateErased(remote_candidate_id=email),  # not the payload its type promises
    )
    producer = AIOKafkaProducer(bootstrap_servers=tenant.platform.infra.kafka_bootstrap)
    await producer.start()
    try:
        body_bytes, headers = encode(poison)
        await producer.send_and_wait(
            f"{tenant.platform.prefix}interloop.ats.v1", body_bytes, key=tenant.id.encode(), headers=headers
        )
    finally:
        await producer.stop()

    async def dead_lettered() -> bool:
        found = await tenant.rows("scheduler", "SELECT 1 FROM dead_letters WHERE event_id = $1", poison.id)
        return bool(found)

    await eventually(dead_lettered, what="the poison record in the scheduler's dead letters")

    # Greenhouse deletes the candidate
    deletion = fixture("f-gh-09-delete_candidate.json")
    deletion["payload"]["person"]["id"] = int(candidate_id)
    deletion["payload"]["person"]["deleted_application_ids"] = [body["payload"]["application"]["id"]]
    assert (await tenant.webhook(deletion)).status_code == 202

    async def scheduler_erased() -> bool:
        links = await tenant.rows(
            "scheduler",
            "SELECT candidate_email, candidate_name FROM scheduling_links"
            " WHERE tenant_id = $1 AND candidate_id = $2"
            " UNION ALL SELECT candidate_email, candidate_name FROM bookings"
            " WHERE tenant_id = $1 AND candidate_id = $2",
            tenant.id,
            candidate_id,
        )
        return len(links) >= 3 and all(tuple(r) == ("", "") for r in links)

    async def scorecard_erased() -> bool:
        ratings = await tenant.rows(
            "scorecard",
            "SELECT r.score, r.evidence FROM ratings r JOIN scorecards s ON s.tenant_id = r.tenant_id"
            " AND s.id = r.scorecard_id AND s.version = r.version"
            " WHERE s.tenant_id = $1 AND s.candidate_id = $2",
            tenant.id,
            candidate_id,
        )
        demo = await tenant.rows(
            "scorecard",
            "SELECT 1 FROM candidate_demographics WHERE tenant_id = $1 AND candidate_id = $2",
            tenant.id,
            candidate_id,
        )
        return bool(ratings) and all(tuple(r) == (4.0, "") for r in ratings) and not demo

    async def sync_redacted() -> bool:
        sent = await tenant.rows(
            "sync", "SELECT recipient, subject, body FROM communications WHERE tenant_id = $1", tenant.id
        )
        planned = await tenant.rows(
            "sync",
            "SELECT 1 FROM automation_actions WHERE tenant_id = $1 AND position($2 IN context::text) > 0",
            tenant.id,
            email,
        )
        return len(sent) >= 2 and not planned and all(email not in " ".join(r) for r in sent)

    await eventually(scheduler_erased, what="PII erased in the scheduler")
    await eventually(scorecard_erased, what="PII erased in the scorecard service")
    await eventually(sync_redacted, what="what was sent to the candidate redacted in sync")
    # ... and the dead-lettered record that carried their address lost it, and cannot be replayed
    kept = await tenant.rows(
        "scheduler",
        "SELECT octet_length(value), replayed_at, reason FROM dead_letters WHERE event_id = $1",
        poison.id,
    )
    assert kept and all(r[0] == 0 and r[1] is not None and "erased" in r[2] for r in kept)
    for svc in ("scheduler", "sync"):
        left = await tenant.rows(
            svc,
            "SELECT 1 FROM dead_letters WHERE tenant_id = $1 AND position($2::bytea IN value) > 0",
            tenant.id,
            email.encode(),
        )
        assert left == [], svc

    # nothing of the candidate's contact is left in the scheduler's database, the sent events included
    leftovers = await tenant.rows(
        "scheduler",
        "SELECT event_type FROM outbox WHERE tenant_id = $1 AND position($2::bytea IN envelope) > 0",
        tenant.id,
        email.encode(),
    )
    assert leftovers == []
    # the deleted candidate's open links stop working; the booking stays for the interviewers (no PII)
    gone = await tenant.public.get(f"/v1/scheduling-links/{token}/slots", params={"tz": "UTC"})
    assert gone.status_code != 200 or gone.json().get("candidate_name", "") == ""
    # statistics still see the rating under the opaque candidate id
    stats = await tenant.http.get(
        "/v1/scorecard-statistics/dimensions", params={"job_id": "3485", "round": "Assessment"}
    )
    assert stats.status_code == 200 and stats.json()["items"][0]["n"] == 1
