"""Overdue scorecards are chased through real components: the scheduler's interview.completed carries the
panel's addresses, the scorecard service raises scorecard.overdue a limited number of times, a set
interval apart (7.2 s in the test platform, 24 h by default), and sync emails the interviewer over SMTP;
submitting the scorecard stops the chase."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from interloop_devstack.testing import eventually

pytestmark = pytest.mark.integration

TEMPLATE = {
    "job_id": "job-overdue",
    "round": "onsite",
    "created_by": "hiring-manager",
    "dimensions": [{"key": "coding", "name": "Coding", "scale": {"kind": "numeric", "min": 1, "max": 5}}],
}


async def test_overdue_scorecards_remind_the_interviewer_until_submitted(  # type: ignore[no-untyped-def]
    platform, tenant_key, mailbox
) -> None:
    tenant, key = tenant_key()
    tag = uuid.uuid4().hex[:6]
    ada, bob = f"ada-{tag}@x.test", f"bob-{tag}@x.test"
    async with httpx.AsyncClient(
        base_url=platform.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as c:
        assert (await c.post("/v1/scorecard-templates", json=TEMPLATE)).status_code == 201
        for who, email, zone in (("ada", ada, "Asia/Tokyo"), ("bob", bob, "UTC")):
            r = await c.put(f"/v1/scheduling/interviewers/{who}", json={"email": email, "time_zone": zone})
            assert r.status_code == 200, r.text
        start = (datetime.now(UTC) - timedelta(days=2)).replace(second=0, microsecond=0)
        r = await c.post(
            "/v1/interviews",
            json={
                "candidate_id": "cand-overdue",
                "interviewer_ids": ["ada", "bob"],
                "job_id": TEMPLATE["job_id"],
                "round": TEMPLATE["round"],
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        interview = r.json()["id"]
        assert (await c.post(f"/v1/interviews/{interview}/complete")).status_code == 200

        def nudges(address: str) -> list[str]:
            return [
                f"{m['Subject']}\n{m.get_body(('plain',)).get_content()}"
                for m in mailbox.to(address)
                if str(m["Subject"]).strip().startswith("Scorecard overdue")
            ]

        await eventually(lambda: nudges(ada) and nudges(bob), what="an overdue reminder to each")
        ended_tokyo = (start + timedelta(hours=1)).astimezone(ZoneInfo("Asia/Tokyo"))
        assert f"{ended_tokyo:%H:%M} (Asia/Tokyo)" in nudges(ada)[0] and "onsite" in nudges(ada)[0]

        # Bob submits after his first reminder: no more for him. Ada does not: one more, then it stops.
        r = await c.post(
            "/v1/scorecards",
            headers={"X-Interviewer-Id": "bob"},
            json={
                "interview_id": interview,
                "interviewer_id": "bob",
                "submit": True,
                "ratings": [{"dimension": "coding", "score": 4}],
                "recommendation": "yes",
            },
        )
        assert r.status_code == 201, r.text
        await eventually(lambda: len(nudges(ada)) >= 2, what="the second reminder")
        await asyncio.sleep(9)  # longer than the interval: a third would have come by now
        assert len(nudges(ada)) == 2 and len(nudges(bob)) == 1
        items = (await c.get("/v1/expected-scorecards", params={"interview_id": interview})).json()["items"]
        assert {i["interviewer_id"]: i["overdue"] for i in items} == {"ada": True, "bob": False}
