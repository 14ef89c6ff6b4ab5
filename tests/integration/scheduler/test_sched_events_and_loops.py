"""Loops through REST (CP-SAT options), reminders due through the outbox, and the consumer that opens a
scheduling request when the ATS moves an application into an interview stage (real Kafka)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaProducer
from interloop.events.v1 import ats_pb2, interview_pb2
from interloop_common.events import decode, encode, new_event
from interloop_devstack.testing import eventually

from .conftest import ALWAYS, WEEKDAYS_9_TO_5, Tenant

pytestmark = pytest.mark.integration


async def outbox(t: Tenant, event_type: str) -> list:
    rows = await t.fetch(
        "SELECT envelope FROM outbox WHERE tenant_id = $1 AND event_type = $2 ORDER BY seq", t.id, event_type
    )
    return [decode(bytes(r["envelope"])) for r in rows]


async def test_propose_loop_ranked_options(tenant: Tenant) -> None:
    for who in ("amy", "bo", "cal", "dan", "eli"):
        await tenant.put_interviewer(who, working_hours=WEEKDAYS_9_TO_5, time_zone="Europe/Paris")
    await tenant.put_interviewer(
        "tia",
        working_hours=WEEKDAYS_9_TO_5,
        time_zone="Europe/Paris",
        training=[{"interview_type": "coding", "stage": "shadow"}],
    )
    body = {
        "sessions": [
            {"id": "intro", "duration_minutes": 30, "pool": ["amy", "bo"]},
            {
                "id": "coding",
                "duration_minutes": 60,
                "pool": ["cal", "dan"],
                "interview_type": "coding",
                "allow_shadow": True,
            },
            {"id": "values", "duration_minutes": 45, "pool": ["eli"]},
        ],
        "window_start": "2027-01-20T00:00:00+01:00",
        "window_end": "2027-01-22T00:00:00+01:00",
        "time_zone": "Europe/Paris",
        "min_break_minutes": 15,
        "step_minutes": 15,
        "time_limit_seconds": 2,
    }
    r = await tenant.http.post("/v1/scheduling/loops", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["reason"] is None and got["options"]
    best = got["options"][0]
    assert (
        best["status"] in ("OPTIMAL", "FEASIBLE") and "earliest" in best["objectives"] and best["days"] == 1
    )
    sessions = best["sessions"]
    assert [s["session_id"] for s in sessions] == ["intro", "coding", "values"]
    assert sessions[0]["local_start"].startswith("2027-01-20T09:00")
    for a, b in zip(sessions, sessions[1:], strict=False):
        assert datetime.fromisoformat(b["start"]) >= datetime.fromisoformat(a["end"]) + timedelta(minutes=15)
    assert sessions[1]["shadows"] == [{"interviewer_id": "tia", "stage": "shadow"}]

    # Not enough people: a clear reason instead of options.
    body["sessions"][2]["pool"] = ["eli", "amy"]
    body["sessions"][2]["k"] = 2
    body["sessions"][0]["pool"] = ["amy"]
    r = await tenant.http.post("/v1/scheduling/loops", json=body)
    assert r.status_code == 200 and r.json()["options"] == [] and r.json()["reason"]


async def test_reminders_due_once_each_through_the_outbox(tenant: Tenant, mailbox) -> None:  # type: ignore[no-untyped-def]
    await tenant.put_interviewer("rem", working_hours=ALWAYS)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    soon, later = now + timedelta(minutes=40), now + timedelta(hours=3)
    ids = []
    for start in (soon, later):
        r = await tenant.http.post(
            "/v1/interviews",
            json={
                "candidate_id": "c",
                "interviewer_ids": ["rem"],
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=30)).isoformat(),
                "candidate_email": f"c-{tenant.id}@mail.test",
                "candidate_name": "Cee",
                "candidate_time_zone": "America/Sao_Paulo",
            },
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])

    async def two() -> list:
        got = await outbox(tenant, "interview.reminder_due")
        return got if len(got) >= 2 else []

    events = await eventually(two, what="both reminders due")
    leads = {}
    for e in events:
        msg = e.unpack(interview_pb2.InterviewReminderDue)
        leads[msg.booking_id] = msg.lead
        assert msg.interviewer_ids == ["rem"]
    # Booked 40 minutes ahead: the 1 h reminder (the 24 h one is skipped, not sent late);
    # booked 3 h ahead: the 24 h reminder now, the 1 h one later.
    assert leads == {ids[0]: "1h", ids[1]: "24h"}
    await asyncio.sleep(6)  # another round of the reminder loop: nothing is sent twice
    assert len(await outbox(tenant, "interview.reminder_due")) == 2
    skipped = await tenant.fetch("SELECT lead FROM reminders WHERE tenant_id = $1 AND NOT emitted", tenant.id)
    assert [r["lead"] for r in skipped] == ["24h"]

    # The candidate got each reminder once by email (invites first), times in their zone; the panel
    # got the invites but no reminders.
    def reminders() -> list[str]:
        return [
            message.get_body(("plain",)).get_content()
            for message in mailbox.to(f"c-{tenant.id}@mail.test")
            if str(message["Subject"]).startswith("Reminder")
        ]

    await eventually(lambda: len(reminders()) >= 2, what="both reminders by email")
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    assert sorted(reminders()) == sorted(
        next(b for b in reminders() if f"{start.astimezone(sao_paulo):%H:%M} (America/Sao_Paulo)" in b)
        for start in (soon, later)
    )
    to_panel = [m for rcpts, m in list(mailbox.messages) if "rem@acme.test" in rcpts]
    assert to_panel and not [m for m in to_panel if str(m["Subject"]).startswith("Reminder")]


async def _publish(
    platform,
    tenant_id: str,
    msg: ats_pb2.ApplicationStageChanged,  # type: ignore[no-untyped-def]
    event_id: str | None = None,
) -> None:
    event = new_event(
        type="ats.application.stage_changed",
        source="//interloop/sync",
        tenant_id=tenant_id,
        subject=f"application/{msg.remote_application_id}",
        payload=msg,
    )
    if event_id:
        event = type(event)(**{**event.__dict__, "id": event_id})
    body, headers = encode(event)
    producer = AIOKafkaProducer(bootstrap_servers=platform.infra.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            f"{platform.prefix}interloop.ats.v1", value=body, key=tenant_id.encode(), headers=headers
        )
    finally:
        await producer.stop()


async def test_stage_change_opens_a_scheduling_request(tenant: Tenant, platform) -> None:  # type: ignore[no-untyped-def]
    await tenant.put_interviewer("hm", working_hours=ALWAYS)
    await tenant.put_interviewer("p1", working_hours=ALWAYS)
    await tenant.put_interviewer("p2", working_hours=ALWAYS)
    r = await tenant.http.put(
        "/v1/scheduling/job-panels/job-42",
        json={
            "panel": [{"interviewer_ids": ["hm"]}, {"interviewer_ids": ["p1", "p2"], "k": 1}],
            "duration_minutes": 45,
            "settings": {"min_notice_minutes": 60},
        },
    )
    assert r.status_code == 200, r.text
    assert (await tenant.http.get("/v1/scheduling/job-panels/job-42")).json()["duration_minutes"] == 45

    moved = ats_pb2.ApplicationStageChanged(
        provider="greenhouse",
        connection_id="conn-1",
        remote_candidate_id="gh-cand-7",
        remote_application_id="gh-app-7",
        remote_job_id="job-42",
        from_stage="Application Review",
        to_stage="Onsite",
        is_interview_stage=True,
        candidate_email="pat@mail.test",
        candidate_name="Pat",
    )
    event_id = str(uuid.uuid4())
    await _publish(platform, tenant.id, moved, event_id)
    await _publish(platform, tenant.id, moved, event_id)  # redelivered: the inbox makes it harmless
    not_interview = ats_pb2.ApplicationStageChanged(
        remote_candidate_id="x", remote_application_id="gh-app-8", remote_job_id="job-42", to_stage="Offer"
    )
    await _publish(platform, tenant.id, not_interview)

    requested = await eventually(
        lambda: outbox(tenant, "interview.scheduling_requested"), what="the scheduling request"
    )
    assert len(requested) == 1
    msg = requested[0].unpack(interview_pb2.InterviewSchedulingRequested)
    assert (msg.candidate_id, msg.application_id, msg.job_id, msg.round) == (
        "gh-cand-7",
        "gh-app-7",
        "job-42",
        "Onsite",
    )
    assert msg.url.endswith(f"/schedule/{msg.token}") and msg.connection_id == "conn-1"

    # The candidate can use it at once.
    slots = await tenant.public.get(f"/v1/scheduling-links/{msg.token}/slots", params={"tz": "Europe/Madrid"})
    assert slots.status_code == 200 and slots.json()["candidate_name"] == "Pat"
    first = slots.json()["slots"][0]
    assert first["interviewer_ids"] == ["hm", "p1", "p2"]
    ok = await tenant.public.post(f"/v1/scheduling-links/{msg.token}/confirm", json={"start": first["start"]})
    assert ok.status_code == 200 and ok.json()["booking"]["interviewer_ids"] == ["hm", "p1"]

    # A job without a default panel cannot be scheduled: dead-lettered with an alert, never dropped.
    await _publish(
        platform,
        tenant.id,
        ats_pb2.ApplicationStageChanged(
            remote_candidate_id="y",
            remote_application_id="gh-app-9",
            remote_job_id="job-unset",
            to_stage="Phone",
            is_interview_stage=True,
        ),
    )

    async def dead() -> list:
        return await tenant.fetch("SELECT reason FROM dead_letters WHERE tenant_id = $1", tenant.id)

    (letter,) = await eventually(dead, what="the dead letter")
    assert "job-unset" in letter["reason"] and "SetJobPanel" in letter["reason"]
    assert len(await outbox(tenant, "interview.scheduling_requested")) == 1
