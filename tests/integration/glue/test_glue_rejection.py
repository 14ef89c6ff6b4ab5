"""Interloop follows the ATS when it closes an application: a candidate moved to an interview stage in
Greenhouse books through their link, then Greenhouse rejects them -> sync mirrors it, cancels the
application's pending automations (not the rules meant for the rejection) and publishes
ats.application.rejected -> the scheduler closes the link (its page refuses) and cancels the upcoming
interview -> the panel is emailed the cancellation, the candidate is not (the default policy for a
rejection), and the panel's expected scorecards are cancelled (real services, PostgreSQL, Kafka and SMTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc
from interloop_devstack.testing import Mailbox, eventually

from .conftest import Tenant, fixture, stage_change
from .test_glue_ats_events import _panel

pytestmark = pytest.mark.integration

N = 71


async def _rules(t: Tenant) -> None:
    """A delayed nudge planned on the stage move (pending when the rejection lands) and a rejection email
    meant to go after the rejection."""
    async with grpc.aio.insecure_channel(t.platform.target("sync")) as ch:
        stub = sync_pb2_grpc.SyncServiceStub(ch)
        for rule_id, dsl, template in (
            ("nudge", 'on stage_change do send_email("nudge") after 2d', "nudge"),
            ("decline", 'on rejection do send_email("decline") after 2d', "decline"),
        ):
            await stub.CreateAutomationRule(
                pb.CreateAutomationRuleRequest(
                    tenant_id=t.id,
                    rule=pb.AutomationRule(id=rule_id, dsl=dsl),
                    templates=[pb.EmailTemplate(name=template, subject=rule_id, body="Hello")],
                )
            )


async def _book_later(t: Tenant, mailbox: Mailbox, email: str) -> tuple[str, dict]:
    """The candidate books a slot at least two hours ahead through their link; (token, booking)."""
    mails = await eventually(lambda: mailbox.to(email), what="the link email")
    token = mails[0].get_content().split("/schedule/", 1)[1].split()[0]
    slots = await t.public.get(f"/v1/scheduling-links/{token}/slots", params={"tz": "UTC"})
    assert slots.status_code == 200, slots.text
    later = datetime.now(UTC) + timedelta(hours=2)
    start = next(s["start"] for s in slots.json()["slots"] if datetime.fromisoformat(s["start"]) > later)
    ok = await t.public.post(f"/v1/scheduling-links/{token}/confirm", json={"start": start})
    assert ok.status_code == 200, ok.text
    return token, ok.json()["booking"]


def _mails(mailbox: Mailbox, address: str, subject: str) -> list:
    return [m for m in mailbox.to(address) if str(m["Subject"]).startswith(subject)]


async def test_a_rejection_closes_the_link_and_cancels_what_was_open(
    tenant: Tenant, mailbox: Mailbox
) -> None:
    await _panel(tenant, "3485")
    await _rules(tenant)
    body, candidate_id, email = stage_change(N)
    application_id = str(body["payload"]["application"]["id"])
    assert (await tenant.webhook(body)).status_code == 202
    token, booking = await _book_later(tenant, mailbox, email)
    for who in ("hm", "p1"):
        await eventually(
            lambda who=who: _mails(mailbox, f"{who}@glue.test", "Interview"), what=f"{who}'s invite"
        )

    async def expected() -> list:
        return await tenant.rows(
            "scorecard",
            "SELECT interviewer_id, status FROM expected_scorecards WHERE tenant_id = $1 AND booking_id = $2"
            " ORDER BY interviewer_id",
            tenant.id,
            booking["id"],
        )

    await eventually(lambda: _n(expected, 2), what="the panel's expected scorecards")
    nudge = await tenant.rows(
        "sync",
        "SELECT status FROM automation_actions WHERE tenant_id = $1 AND rule_id = 'nudge'",
        tenant.id,
    )
    assert [r[0] for r in nudge] == ["pending"]

    # Greenhouse rejects the application (the documented reject_candidate, with this candidate's ids).
    reject = fixture("f-gh-08-reject_candidate.json")
    app = reject["payload"]["application"]
    app["id"] = int(application_id)
    app["candidate"]["id"] = int(candidate_id)
    app["candidate"]["email_addresses"] = [{"value": email, "type": "personal"}]
    app["jobs"][0]["id"] = 3485
    r = await tenant.webhook(reject)
    assert r.status_code == 202 and r.json()["outcome"] == "accepted", r.text

    # the upcoming interview is cancelled; the panel is told
    for who in ("hm", "p1"):
        cancelled = await eventually(
            lambda who=who: _mails(mailbox, f"{who}@glue.test", "Interview cancelled"),
            what=f"{who}'s cancellation",
        )
        # the panel reads why, with the ATS's reason
        assert "the application was rejected: Too Junior" in cancelled[0].get_body(("plain",)).get_content()
    status = await tenant.rows(
        "scheduler",
        "SELECT status FROM bookings WHERE tenant_id = $1 AND id = $2::uuid",
        tenant.id,
        booking["id"],
    )
    assert [r[0] for r in status] == ["cancelled"]

    # the candidate is not sent the cancellation: planned for the panel only, in the same transaction
    mails = await tenant.rows(
        "sync",
        "SELECT context->>'role' FROM automation_actions WHERE tenant_id = $1 AND idempotency_key LIKE $2",
        tenant.id,
        f"interview-mail:{booking['id']}:interview.cancelled:%",
    )
    assert sorted(r[0] for r in mails) == ["interviewer", "interviewer"]
    assert _mails(mailbox, email, "Interview cancelled") == []

    # the link is closed: its page refuses, and so does booking through it
    slots = await tenant.public.get(f"/v1/scheduling-links/{token}/slots", params={"tz": "UTC"})
    assert slots.status_code == 409, slots.text
    assert "no longer available" in slots.text and "reject" not in slots.text  # the ATS tells them why
    again = await tenant.public.post(
        f"/v1/scheduling-links/{token}/confirm", json={"start": booking["start"]}
    )
    assert again.status_code == 409, again.text

    # the panel owes no scorecards for it
    await eventually(
        lambda: _all(expected, [("hm", "cancelled"), ("p1", "cancelled")]), what="the scorecards cancelled"
    )

    # the pending nudge is cancelled; the rejection's own email stays planned
    actions = await tenant.rows(
        "sync",
        "SELECT rule_id, status FROM automation_actions WHERE tenant_id = $1"
        " AND rule_id IN ('nudge', 'decline') ORDER BY rule_id",
        tenant.id,
    )
    assert [tuple(r) for r in actions] == [("decline", "pending"), ("nudge", "cancelled")]


async def _n(query, n: int) -> bool:  # type: ignore[no-untyped-def]
    return len(await query()) == n


async def _all(query, want: list[tuple[str, str]]) -> bool:  # type: ignore[no-untyped-def]
    return [tuple(r) for r in await query()] == want
