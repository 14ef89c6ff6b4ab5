"""A Lever archive follows through like a Greenhouse rejection (real services, PostgreSQL, Kafka, SMTP and the
fake Lever API): candidateArchiveChange to an archived state, completed from Lever's API, is published as
ats.application.rejected with the posting, and the scheduler closes the link and cancels the booking; the
panel is emailed the cancellation and the candidate is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from interloop.events.v1 import ats_pb2
from interloop_common.events import decode
from interloop_devstack.testing import Mailbox, eventually
from interloop_fakes.ats import FakeLever, sign_lever

from .test_sync_ats_webhooks_to_scheduling import (  # noqa: F401 - the fixtures
    LEVER_SIG,
    Tenant,
    _lever_connection,
    _stage_change,
    lever,
    tenant,
)

pytestmark = pytest.mark.integration


async def test_a_lever_archive_closes_the_link_and_cancels_the_interview(
    tenant: Tenant,  # noqa: F811
    lever: FakeLever,  # noqa: F811
    mailbox: Mailbox,
) -> None:
    connection = await _lever_connection(tenant, lever)
    posting = lever.add_posting(text="Platform Engineer")
    onsite = lever.add_stage("On-site Interview")
    email = f"ada-{tenant.id}@lever.test"
    opp = lever.add_opportunity(
        updated_at=datetime.now(UTC),
        name="Ada Lovelace",
        email=email,
        posting_id=posting["id"],
        stage_id=onsite,
    )
    await tenant.panel(posting["id"])
    hook = _stage_change(opp, onsite)
    r = await tenant.public.post(f"/webhooks/lever/{connection}", content=hook.body, headers=hook.headers)
    assert r.status_code == 202, r.text

    mails = await eventually(lambda: mailbox.to(email), what="the link email")
    token = mails[0].get_content().split("/schedule/", 1)[1].split()[0]
    slots = (await tenant.public.get(f"/v1/scheduling-links/{token}/slots")).json()["slots"]
    later = datetime.now(UTC) + timedelta(hours=2)
    start = next(s["start"] for s in slots if datetime.fromisoformat(s["start"]) > later)
    ok = await tenant.public.post(f"/v1/scheduling-links/{token}/confirm", json={"start": start})
    assert ok.status_code == 200, ok.text
    booking = ok.json()["booking"]

    archived_at = int(datetime.now(UTC).timestamp() * 1000)
    archive = sign_lever(
        "candidateArchiveChange",
        {
            "opportunityId": opp["id"],
            "candidateId": opp["id"],
            "contactId": opp["contact"],
            "fromArchived": None,
            "toArchived": {"archivedAt": archived_at, "reason": "63dd55b2-a99f-4e7b-985f-22c7bf80ab42"},
        },
        LEVER_SIG,
    )
    r = await tenant.public.post(
        f"/webhooks/lever/{connection}", content=archive.body, headers=archive.headers
    )
    assert r.status_code == 202 and r.json()["outcome"] == "accepted", r.text

    (published,) = await tenant.rows(
        "sync", "SELECT envelope FROM outbox WHERE tenant_id = $1 AND event_type = 'ats.application.rejected'"
    )
    msg = decode(bytes(published["envelope"])).unpack(ats_pb2.ApplicationRejected)
    assert (msg.remote_application_id, msg.remote_candidate_id, msg.remote_job_id) == (
        opp["id"],
        opp["contact"],
        posting["id"],
    )
    assert msg.reason == "63dd55b2-a99f-4e7b-985f-22c7bf80ab42" and not msg.reverted and not msg.withdrawn

    for who in ("hm", "p1"):
        await eventually(
            lambda who=who: [
                m
                for m in mailbox.to(f"{who}@lever.test")
                if str(m["Subject"]).startswith("Interview cancelled")
            ],
            what=f"{who}'s cancellation",
        )
    (status,) = await tenant.rows(
        "scheduler", "SELECT status FROM bookings WHERE tenant_id = $1 AND id = $2::uuid", booking["id"]
    )
    assert status[0] == "cancelled"
    planned = await tenant.rows(
        "sync",
        "SELECT context->>'role' FROM automation_actions WHERE tenant_id = $1 AND idempotency_key LIKE $2",
        f"interview-mail:{booking['id']}:interview.cancelled:%",
    )
    assert sorted(p[0] for p in planned) == ["interviewer", "interviewer"]
    page = await tenant.public.get(f"/v1/scheduling-links/{token}/slots")
    assert page.status_code == 409 and "no longer available" in page.text, page.text
