"""Every booking keeps the rules inside the transaction that writes it: direct bookings are checked like any
other (409 problem+json naming the rule) unless an audited override says why; buffers are part of what
is never double-booked; another candidate's hold counts against a daily cap, and confirming a hold checks
the caps again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .conftest import WEEKDAYS_9_TO_5, Tenant, open_link

pytestmark = pytest.mark.integration


def next_monday(weeks: int = 1) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 * weeks - today.weekday())


def interview(who: list[str], start: datetime, minutes: int = 60, **extra: object) -> dict:
    return {
        "candidate_id": f"cand-{start:%d%H%M}",
        "interviewer_ids": who,
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        **extra,
    }


async def test_a_direct_booking_is_refused_per_rule_unless_an_override_says_why(tenant: Tenant) -> None:
    await tenant.put_interviewer("amy", working_hours=WEEKDAYS_9_TO_5, daily_cap=1)
    monday = next_monday(2)
    early = await tenant.http.post("/v1/interviews", json=interview(["amy"], monday + timedelta(hours=7)))
    assert early.status_code == 409, early.text
    assert early.headers["content-type"].startswith("application/problem+json")
    assert early.json()["detail"].startswith("working_hours:")

    ok = await tenant.http.post("/v1/interviews", json=interview(["amy"], monday + timedelta(hours=10)))
    assert ok.status_code == 201, ok.text
    assert ok.json()["override"] is None

    second = interview(["amy"], monday + timedelta(hours=13))
    capped = await tenant.http.post("/v1/interviews", json=second)
    assert capped.status_code == 409 and capped.json()["detail"].startswith("daily_cap:"), capped.text

    second["override_reason"] = "hiring manager asked for a same-day debrief"
    forced = await tenant.http.post("/v1/interviews", json=second)
    assert forced.status_code == 201, forced.text
    audit = forced.json()["override"]
    assert audit["rules"] == ["daily_cap"] and audit["reason"] == second["override_reason"]
    assert audit["actor"].startswith("api-key:")
    rows = await tenant.fetch(
        "SELECT override_reason, override_rules, override_by FROM bookings WHERE tenant_id = $1 AND id = $2",
        tenant.id,
        __import__("uuid").UUID(forced.json()["id"]),
    )
    assert rows[0]["override_rules"] == ["daily_cap"] and rows[0]["override_by"] == audit["actor"]

    # however far out a timestamp is, the rules' date arithmetic never fails: 400 naming the field
    ancient = interview(["amy"], datetime(1, 1, 1, tzinfo=UTC))
    bad = await tenant.http.post("/v1/interviews", json=ancient)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "start", bad.text

    # an override never lets an overlap through
    overlap = interview(["amy"], monday + timedelta(hours=13, minutes=30), override_reason="please")
    refused = await tenant.http.post("/v1/interviews", json=overlap)
    assert refused.status_code == 409 and "double_booking" in refused.json()["detail"], refused.text


async def test_buffers_are_never_double_booked(tenant: Tenant) -> None:
    await tenant.put_interviewer("bo", working_hours=WEEKDAYS_9_TO_5)
    monday = next_monday(2)
    first = interview(["bo"], monday + timedelta(hours=10), buffer_after_minutes=15)
    r = await tenant.http.post("/v1/interviews", json=first)
    assert r.status_code == 201 and r.json()["buffer_after_minutes"] == 15, r.text
    # 11:00 starts when the interview ends but inside its buffer; 11:15 is free
    touching = await tenant.http.post("/v1/interviews", json=interview(["bo"], monday + timedelta(hours=11)))
    assert touching.status_code == 409 and "double_booking" in touching.json()["detail"], touching.text
    after = await tenant.http.post(
        "/v1/interviews", json=interview(["bo"], monday + timedelta(hours=11, minutes=15))
    )
    assert after.status_code == 201, after.text
    # the database itself refuses a commitment inside the buffer, whoever writes it
    rows = await tenant.fetch(
        """SELECT lower(blocked) AS lo, upper(blocked) AS hi FROM interviewer_commitments
           WHERE tenant_id = $1 AND interviewer_id = 'bo' AND active ORDER BY lower(during)""",
        tenant.id,
    )
    assert rows[0]["hi"] - rows[0]["lo"] == timedelta(minutes=75)


async def test_another_candidates_hold_uses_up_the_cap_and_confirming_checks_it_again(tenant: Tenant) -> None:
    await tenant.put_interviewer("cy", working_hours=WEEKDAYS_9_TO_5, daily_cap=1)
    monday = next_monday()
    window = {"min_notice_minutes": 0, "step_minutes": 60}
    a = await open_link(tenant, [{"interviewer_ids": ["cy"]}], candidate="cand-a", settings=window)
    b = await open_link(tenant, [{"interviewer_ids": ["cy"]}], candidate="cand-b", settings=window)

    def on_monday(slots: list[dict]) -> list[str]:
        return [s["start"] for s in slots if s["start"].startswith(monday.date().isoformat())]

    slots_a = (await tenant.public.get(f"/v1/scheduling-links/{a['token']}/slots")).json()["slots"]
    assert len(on_monday(slots_a)) == 8  # 9:00 .. 16:00
    held = await tenant.public.post(
        f"/v1/scheduling-links/{a['token']}/holds", json={"start": on_monday(slots_a)[0]}
    )
    assert held.status_code == 201, held.text
    slots_b = (await tenant.public.get(f"/v1/scheduling-links/{b['token']}/slots")).json()["slots"]
    assert on_monday(slots_b) == []  # the hold counts: cy's one interview that day is taken
    mine = (await tenant.public.get(f"/v1/scheduling-links/{a['token']}/slots")).json()["slots"]
    assert len(on_monday(mine)) == 8  # its own hold does not count against the holder

    # the cap fills up behind the hold's back (a coordinator's audited exception) ...
    forced = interview(["cy"], monday + timedelta(hours=15), override_reason="CEO interview")
    assert (await tenant.http.post("/v1/interviews", json=forced)).status_code == 201
    # ... so confirming the hold re-checks the cap and answers 409 with fresh alternatives
    r = await tenant.public.post(
        f"/v1/scheduling-links/{a['token']}/confirm", json={"hold_id": held.json()["hold_id"]}
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["alternatives"] and not on_monday(r.json()["alternatives"])
