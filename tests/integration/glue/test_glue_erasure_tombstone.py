"""What is in flight when an erasure lands writes and sends nothing about the person afterwards: an
interview invite already on Kafka, a re-sent Greenhouse stage change, a coordinator's new request and a
scorecard still being written all meet the tombstone each service left in the erasure's transaction (real
services, PostgreSQL, Kafka and SMTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from interloop.events.v1 import interview_pb2
from interloop_common.events import encode, new_event
from interloop_devstack.testing import Mailbox, consumer_caught_up, eventually

from .conftest import Tenant, book_through_the_link, fixture, held_interview_with_scorecard, stage_change
from .test_glue_ats_events import _panel

pytestmark = pytest.mark.integration


async def _publish(t: Tenant, family: str, event) -> None:  # type: ignore[no-untyped-def]
    producer = AIOKafkaProducer(bootstrap_servers=t.platform.infra.kafka_bootstrap)
    await producer.start()
    try:
        body, headers = encode(event)
        await producer.send_and_wait(
            f"{t.platform.prefix}interloop.{family}.v1", body, key=t.id.encode(), headers=headers
        )
    finally:
        await producer.stop()


async def _caught_up(t: Tenant, group: str, family: str) -> None:
    prefix = t.platform.prefix
    await eventually(
        lambda: consumer_caught_up(
            t.platform.infra.kafka_bootstrap, f"{prefix}{group}", f"{prefix}interloop.{family}.v1"
        ),
        within=60,
        what=f"{group} to consume {family}",
    )


async def test_nothing_is_written_or_sent_about_an_erased_candidate_afterwards(
    tenant: Tenant, mailbox: Mailbox
) -> None:
    await _panel(tenant, "3485")
    body, candidate_id, email = stage_change(41)
    assert (await tenant.webhook(body)).status_code == 202
    booking = await book_through_the_link(tenant, mailbox, email)

    # Greenhouse deletes the candidate; each service erases and leaves its tombstone.
    deletion = fixture("f-gh-09-delete_candidate.json")
    deletion["payload"]["person"]["id"] = int(candidate_id)
    deletion["payload"]["person"]["deleted_application_ids"] = [body["payload"]["application"]["id"]]
    assert (await tenant.webhook(deletion)).status_code == 202

    async def tombstoned() -> bool:
        for svc in ("sync", "scheduler", "scorecard"):
            found = await tenant.rows(
                svc,
                "SELECT source FROM erased_candidates WHERE tenant_id = $1 AND candidate_id = $2",
                tenant.id,
                candidate_id,
            )
            if [r[0] for r in found] != ["ats:greenhouse" if svc == "sync" else "ats"]:
                return False
        return True

    await eventually(tombstoned, what="the tombstone in every service")
    sent_before = len(mailbox.to(email))

    # 1. An invite the scheduler published just before the erasure reaches sync's mail consumer after it.
    start = datetime.now(UTC) + timedelta(days=2)
    late = interview_pb2.InterviewScheduled(
        booking_id=booking["id"],
        candidate_id=candidate_id,
        job_id="3485",
        round="Assessment",
        sequence=7,
        attendees=[
            interview_pb2.Attendee(email=email, name="Cand41 Glue41", role="candidate"),
            interview_pb2.Attendee(email="hm@glue.test", name="HM", role="interviewer"),
        ],
    )
    late.start.FromDatetime(start)
    late.end.FromDatetime(start + timedelta(minutes=30))
    await _publish(
        tenant,
        "interview",
        new_event(
            type="interview.rescheduled",
            source="//scheduler",
            tenant_id=tenant.id,
            subject=f"booking/{booking['id']}",
            payload=late,
        ),
    )
    # 2. Greenhouse re-sends the stage change (a retry of a delivery from before the deletion).
    assert (await tenant.webhook(body)).status_code == 202

    await _caught_up(tenant, "sync.interview-mail", "interview")
    await _caught_up(tenant, "scheduler.ats", "ats")
    # The worker runs at once on anything due (NOTIFY), and polls: one more round has certainly passed
    # once an action planned after these is sent.
    other_body, _, other_email = stage_change(42)
    assert (await tenant.webhook(other_body)).status_code == 202
    await eventually(lambda: mailbox.to(other_email), what="a later candidate's link email")

    assert len(mailbox.to(email)) == sent_before, "an email reached the erased candidate"
    planned = await tenant.rows(
        "sync",
        "SELECT idempotency_key, status FROM automation_actions WHERE tenant_id = $1"
        " AND position($2 IN context::text) > 0",
        tenant.id,
        email,
    )
    assert planned == [], planned
    mirrored = await tenant.rows(
        "sync",
        "SELECT 1 FROM candidates WHERE tenant_id = $1 AND $2 = ANY(emails)",
        tenant.id,
        email,
    )
    assert mirrored == [], "the re-sent stage change stored the erased candidate's address again"
    links = await tenant.rows(
        "scheduler",
        "SELECT candidate_email FROM scheduling_links WHERE tenant_id = $1 AND candidate_id = $2",
        tenant.id,
        candidate_id,
    )
    assert [r[0] for r in links] == [""], "a request was opened again for the erased candidate"

    # 3. A coordinator asking for a new request for them is told why not.
    refused = await tenant.http.post(
        "/v1/scheduling/links",
        json={
            "candidate_id": candidate_id,
            "candidate_email": email,
            "panel": [{"interviewer_ids": ["hm"]}],
            "duration_minutes": 30,
        },
    )
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "erased" in refused.json()["detail"]

    # 4. A scorecard written about them afterwards keeps its score, not its evidence.
    template = {
        "job_id": "3485",
        "round": "Assessment",
        "created_by": "hm",
        "dimensions": [{"key": "coding", "name": "Coding", "scale": {"kind": "numeric", "min": 1, "max": 5}}],
    }
    assert (await tenant.http.post("/v1/scorecard-templates", json=template)).status_code == 201
    await held_interview_with_scorecard(tenant, candidate_id, "Cand41 Glue41 wrote a parser")
    stored = await tenant.rows(
        "scorecard",
        "SELECT r.score, r.evidence FROM ratings r JOIN scorecards s ON s.tenant_id = r.tenant_id"
        " AND s.id = r.scorecard_id AND s.version = r.version WHERE s.tenant_id = $1 AND s.candidate_id = $2",
        tenant.id,
        candidate_id,
    )
    assert [tuple(x) for x in stored] == [(4.0, "")]
