"""ats.application.rejected on the scheduler (real PostgreSQL, Kafka and services): a withdrawal closes
every link of the application and lets go of their holds, cancels its interviews that have not started
(the candidate told, the withdrawal default), leaves its past interview and other applications alone, and
a redelivery changes nothing more (the inbox)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from interloop.events.v1 import ats_pb2, interview_pb2
from interloop_common.events import decode
from interloop_devstack.testing import eventually

from .conftest import ALWAYS, Tenant, open_link, publish_ats

pytestmark = pytest.mark.integration


async def _cancellations(t: Tenant) -> list[interview_pb2.InterviewCancelled]:
    rows = await t.fetch(
        "SELECT envelope FROM outbox WHERE tenant_id = $1 AND event_type = 'interview.cancelled'"
        " ORDER BY seq",
        t.id,
    )
    return [decode(bytes(r["envelope"])).unpack(interview_pb2.InterviewCancelled) for r in rows]


async def _book(t: Tenant, token: str, after: datetime) -> dict:
    slots = (await t.public.get(f"/v1/scheduling-links/{token}/slots", params={"tz": "UTC"})).json()
    start = next(s["start"] for s in slots["slots"] if datetime.fromisoformat(s["start"]) > after)
    ok = await t.public.post(f"/v1/scheduling-links/{token}/confirm", json={"start": start})
    assert ok.status_code == 200, ok.text
    return ok.json()["booking"]


async def test_a_withdrawal_closes_links_and_cancels_only_upcoming_interviews(
    tenant: Tenant, platform
) -> None:  # type: ignore[no-untyped-def]
    for who in ("hm", "p1", "p2"):
        await tenant.put_interviewer(who, working_hours=ALWAYS)
    now = datetime.now(UTC)
    app, other = f"app-{uuid.uuid4().hex[:6]}", f"app-{uuid.uuid4().hex[:6]}"
    booked = await open_link(tenant, [{"interviewer_ids": ["hm"]}], application_id=app, round="Onsite")
    upcoming = await _book(tenant, booked["token"], now + timedelta(hours=2))
    # a second round's link, with a hold the candidate took on it
    held = await open_link(tenant, [{"interviewer_ids": ["p1"]}], application_id=app, round="Final")
    slots = (await tenant.public.get(f"/v1/scheduling-links/{held['token']}/slots")).json()["slots"]
    hold = await tenant.public.post(
        f"/v1/scheduling-links/{held['token']}/holds", json={"start": slots[3]["start"]}
    )
    assert hold.status_code == 201, hold.text
    # an interview of the application that already took place, and another application's upcoming one
    past = await tenant.http.post(
        "/v1/interviews",
        json={
            "candidate_id": "cand-1",
            "application_id": app,
            "interviewer_ids": ["p2"],
            "start": (now - timedelta(days=1)).isoformat(),
            "end": (now - timedelta(days=1) + timedelta(hours=1)).isoformat(),
        },
    )
    assert past.status_code == 201, past.text
    elsewhere = await open_link(
        tenant, [{"interviewer_ids": ["p2"]}], candidate="cand-2", application_id=other
    )
    kept = await _book(tenant, elsewhere["token"], now + timedelta(hours=2))

    withdrawal = ats_pb2.ApplicationRejected(
        provider="greenhouse",
        connection_id="conn-1",
        remote_candidate_id="cand-1",
        remote_application_id=app,
        reason="Candidate withdrew",
        withdrawn=True,
    )
    event_id = str(uuid.uuid4())
    await publish_ats(platform, tenant.id, "ats.application.rejected", withdrawal, event_id)
    # redelivered: the inbox makes it harmless
    await publish_ats(platform, tenant.id, "ats.application.rejected", withdrawal, event_id)

    (cancelled,) = await eventually(lambda: _cancellations(tenant), what="the cancellation")
    assert cancelled.booking_id == upcoming["id"]
    assert cancelled.reason == "the candidate withdrew"  # the ATS's own reason is not for the candidate
    assert not cancelled.candidate_not_told  # a withdrawal: the candidate is told by default
    assert [a.role for a in cancelled.attendees] == ["candidate", "interviewer"]

    statuses = dict(
        (str(r["id"]), r["status"])
        for r in await tenant.fetch("SELECT id, status FROM bookings WHERE tenant_id = $1", tenant.id)
    )
    assert statuses == {
        upcoming["id"]: "cancelled",
        past.json()["id"]: "scheduled",
        kept["id"]: "scheduled",
    }
    links = await tenant.fetch(
        "SELECT application_id, closed_reason FROM scheduling_links WHERE tenant_id = $1"
        " AND closed_at IS NOT NULL ORDER BY round",
        tenant.id,
    )
    assert [tuple(r) for r in links] == [(app, "the candidate withdrew")] * 2
    holds = await tenant.fetch(
        "SELECT status FROM holds WHERE tenant_id = $1 AND id = $2::uuid", tenant.id, hold.json()["hold_id"]
    )
    assert [r[0] for r in holds] == ["released"]
    for token in (booked["token"], held["token"]):
        page = await tenant.public.get(f"/v1/scheduling-links/{token}/slots")
        assert page.status_code == 409 and "no longer available" in page.text, page.text
    assert (await tenant.public.get(f"/v1/scheduling-links/{elsewhere['token']}/slots")).status_code == 200

    # the candidate's manage link of the cancelled interview is closed too
    moved = await tenant.public.post(
        f"/v1/scheduling-links/{booked['token']}/reschedule", json={"start": upcoming["start"]}
    )
    assert moved.status_code == 409, moved.text

    # one more event after the redelivery, on the same partition: once it is applied, so was the redelivery
    marker = str(uuid.uuid4())
    reverted = ats_pb2.ApplicationRejected(remote_application_id=other, reverted=True)
    await publish_ats(platform, tenant.id, "ats.application.rejected", reverted, marker)
    await eventually(
        lambda: tenant.fetch(
            "SELECT 1 FROM inbox WHERE tenant_id = $1 AND event_id::text = $2", tenant.id, marker
        ),
        what="the marker event applied",
    )
    assert len(await _cancellations(tenant)) == 1
    assert (await tenant.fetch("SELECT status FROM bookings WHERE id = $1::uuid", kept["id"]))[0][
        0
    ] == "scheduled"
