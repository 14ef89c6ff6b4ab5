"""A candidate moved to an interview stage in Greenhouse gets their self-scheduling link by email, once:
signed webhook -> gateway -> sync -> ats.application.stage_changed -> scheduler opens the request for the
job's default panel -> interview.scheduling_requested -> sync emails the link over SMTP -> the link works."""

from __future__ import annotations

import asyncio
import re
import uuid

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from interloop.events.v1 import interview_pb2
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc
from interloop_common.events import encode, new_event
from interloop_devstack.testing import Mailbox, eventually

from .conftest import ALWAYS, Tenant, stage_change

pytestmark = pytest.mark.integration


async def _panel(t: Tenant, job_id: str) -> None:
    for who in ("hm", "p1"):
        r = await t.http.put(
            f"/v1/scheduling/interviewers/{who}",
            json={"email": f"{who}@glue.test", "time_zone": "UTC", "working_hours": ALWAYS},
        )
        assert r.status_code == 200, r.text
    r = await t.http.put(
        f"/v1/scheduling/job-panels/{job_id}",
        json={"panel": [{"interviewer_ids": ["hm"]}, {"interviewer_ids": ["p1"]}], "duration_minutes": 45},
    )
    assert r.status_code == 200, r.text


async def test_stage_change_webhook_emails_a_working_scheduling_link_once(
    tenant: Tenant, mailbox: Mailbox
) -> None:
    await _panel(tenant, "3485")
    body, candidate_id, email = stage_change(1)
    r = await tenant.webhook(body)
    assert r.status_code == 202 and r.json()["outcome"] == "accepted", r.text
    # The vendor retries the same delivery, and moves the candidate into the same stage again: no new email.
    again = await tenant.webhook(body)
    assert again.status_code == 202

    # sync filled the candidate's contact into the stage change the scheduler consumed
    links = await eventually(
        lambda: tenant.rows(
            "scheduler",
            "SELECT candidate_email, candidate_name, job_id, round FROM scheduling_links"
            " WHERE tenant_id = $1",
            tenant.id,
        ),
        what="the scheduling request",
    )
    assert [tuple(r) for r in links] == [(email, "Cand1 Glue1", "3485", "Assessment")]

    mails = await eventually(lambda: mailbox.to(email), what="the scheduling-link email")
    text = mails[0].get_content()
    assert mails[0]["Subject"] == "Choose a time for your interview" and "Hello Cand1 Glue1," in text
    url = re.search(r"(http://\S+/schedule/(\S+))", text)
    assert url, text
    token = url.group(2)
    assert url.group(1).startswith(tenant.platform.base_url)

    # the link works: the candidate's slots through the gateway
    slots = await tenant.public.get(f"/v1/scheduling-links/{token}/slots", params={"tz": "UTC"})
    assert slots.status_code == 200, slots.text
    assert slots.json()["candidate_name"] == "Cand1 Glue1"
    assert slots.json()["slots"][0]["interviewer_ids"] == ["hm", "p1"]

    # logged once in the communications log; no second email even after the worker polled again
    await asyncio.sleep(1.5)
    assert len(mailbox.to(email)) == 1
    log = await tenant.rows(
        "sync",
        "SELECT recipient, channel, subject FROM communications WHERE tenant_id = $1",
        tenant.id,
    )
    assert [tuple(r) for r in log] == [(email, "email", "Choose a time for your interview")]
    assert (
        await tenant.rows(
            "sync",
            "SELECT idempotency_key FROM automation_actions WHERE tenant_id = $1 AND status = 'done'",
            tenant.id,
        )
    )[0][0].startswith("scheduling-link:")


async def test_redelivered_scheduling_requests_send_one_email_with_the_tenant_template(
    tenant: Tenant, mailbox: Mailbox
) -> None:
    """The scheduler's event delivered twice under two ids (say a relay retry after a crash before the
    outbox row was marked): one email per link; a tenant template overrides the default."""
    async with grpc.aio.insecure_channel(tenant.platform.target("sync")) as ch:
        await sync_pb2_grpc.SyncServiceStub(ch).CreateAutomationRule(
            pb.CreateAutomationRuleRequest(
                tenant_id=tenant.id,
                rule=pb.AutomationRule(
                    id="noop", dsl='on ping do send_email("scheduling_link")', disabled=True
                ),
                templates=[
                    pb.EmailTemplate(
                        name="scheduling_link",
                        subject="{{ candidate_name }}, book your {{ round }}",
                        body="Book here: {{ link }}",
                    )
                ],
            )
        )
    email = f"redeliver-{uuid.uuid4().hex[:6]}@glue.test"
    msg = interview_pb2.InterviewSchedulingRequested(
        link_id=str(uuid.uuid4()),
        candidate_id="c-9",
        application_id="a-9",
        job_id="j-9",
        round="Phone screen",
        candidate_email=email,
        candidate_name="Robin",
        token="tok",  # noqa: S106 - not a secret
        url="http://127.0.0.1:1/schedule/tok",
    )
    producer = AIOKafkaProducer(bootstrap_servers=tenant.platform.infra.kafka_bootstrap)
    await producer.start()
    try:
        for _ in range(3):
            event = new_event(
                type="interview.scheduling_requested",
                source="//interloop/scheduler",
                tenant_id=tenant.id,
                subject=f"scheduling-link/{msg.link_id}",
                payload=msg,
            )
            value, headers = encode(event)
            await producer.send_and_wait(
                f"{tenant.platform.prefix}interloop.interview.v1",
                value=value,
                key=f"{tenant.id}/{msg.link_id}".encode(),
                headers=headers,
            )
    finally:
        await producer.stop()
    mails = await eventually(lambda: mailbox.to(email), what="the email")
    await asyncio.sleep(1.5)
    assert len(mailbox.to(email)) == 1
    assert mails[0]["Subject"] == "Robin, book your Phone screen"
    assert "Book here: http://127.0.0.1:1/schedule/tok" in mails[0].get_content()
