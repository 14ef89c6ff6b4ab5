"""A Greenhouse candidate merge reaches the scheduler: the merged candidate's link and booking become the
survivor's, and so do the scorecards the panel owes for it (signed webhook -> sync mirror +
ats.candidate.merged -> scheduler and scorecard, real services, PostgreSQL, Kafka and SMTP)."""

from __future__ import annotations

import pytest
from interloop_devstack.testing import Mailbox, eventually

from .conftest import Tenant, book_through_the_link, fixture, stage_change
from .test_glue_ats_events import _panel

pytestmark = pytest.mark.integration


async def test_a_merge_moves_the_candidates_link_and_booking_to_the_survivor(
    tenant: Tenant, mailbox: Mailbox
) -> None:
    await _panel(tenant, "3485")
    body, candidate_id, email = stage_change(81)
    assert (await tenant.webhook(body)).status_code == 202
    booking = await book_through_the_link(tenant, mailbox, email)

    async def owed() -> list:
        return await tenant.rows(
            "scorecard",
            "SELECT DISTINCT candidate_id FROM expected_scorecards WHERE tenant_id = $1 AND booking_id = $2",
            tenant.id,
            booking["id"],
        )

    await eventually(
        lambda: _is(owed(), [candidate_id]), what="the panel's owed scorecards under the merged candidate"
    )

    merge = fixture("f-gh-10-merge_candidate.json")
    surviving = str(int(candidate_id) + 1_000_000)
    merge["payload"]["person"]["id"] = int(candidate_id)
    merge["payload"]["person"]["new_candidate_id"] = int(surviving)
    r = await tenant.webhook(merge)
    assert r.status_code == 202 and r.json()["outcome"] == "accepted", r.text

    async def held() -> list:
        return await tenant.rows(
            "scheduler",
            "SELECT 'link', candidate_id FROM scheduling_links WHERE tenant_id = $1"
            " UNION ALL SELECT 'booking', candidate_id FROM bookings WHERE tenant_id = $1 ORDER BY 1",
            tenant.id,
        )

    async def moved() -> bool:
        return [tuple(r) for r in await held()] == [("booking", surviving), ("link", surviving)]

    await eventually(moved, what="the scheduler's records re-keyed to the survivor")
    await eventually(lambda: _is(owed(), [surviving]), what="the owed scorecards re-keyed to the survivor")
    listed = await tenant.http.get("/v1/interviews", params={"candidate_id": surviving})
    assert [i["id"] for i in listed.json()["items"]] == [booking["id"]]


async def _is(found, want: list[str]) -> bool:  # type: ignore[no-untyped-def]
    return [r[0] for r in await found] == want
