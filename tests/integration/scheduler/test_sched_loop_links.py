"""A whole loop through one scheduling link: the candidate sees loop options, confirms every session at
once (all or none, retried confirmations answer the same bookings), cancels the loop as a whole, and a
session taken meanwhile is 409 problem+json naming it, with the link's fresh options."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from .conftest import WEEKDAYS_9_TO_5, Tenant

pytestmark = pytest.mark.integration

LOOP = {
    "sessions": [
        {"id": "intro", "duration_minutes": 60, "pool": ["amy"]},
        {"id": "coding", "duration_minutes": 60, "pool": ["bo", "cy"], "k": 1},
    ],
    "max_break_minutes": 60,
}


async def loop_link(t: Tenant, candidate: str) -> str:
    body = {
        "candidate_id": candidate,
        "candidate_email": f"{candidate}@mail.test",
        "loop": LOOP,
        "settings": {"step_minutes": 60, "min_notice_minutes": 24 * 60},
    }
    r = await t.http.post("/v1/scheduling/links", json=body)
    assert r.status_code == 201, r.text
    return r.json()["token"]


def sessions_of(option: dict) -> list[dict]:
    return [{k: s[k] for k in ("session_id", "start", "end", "interviewer_ids")} for s in option["sessions"]]


async def test_a_candidate_books_and_cancels_a_whole_loop_through_one_link(tenant: Tenant) -> None:
    for who in ("amy", "bo", "cy"):
        await tenant.put_interviewer(who, working_hours=WEEKDAYS_9_TO_5)
    token = await loop_link(tenant, "cand-loop")
    page = await tenant.public.get(f"/v1/scheduling-links/{token}/slots")
    assert page.status_code == 200, page.text
    assert page.json()["slots"] == [] and page.json()["loop_options"], page.text
    chosen = sessions_of(page.json()["loop_options"][0])
    assert [s["session_id"] for s in chosen] == ["intro", "coding"]

    # the choice must fit the link's loop; a single-slot hold does not apply to a loop link
    tampered = [chosen[0], {**chosen[1], "interviewer_ids": ["amy"]}]
    bad = await tenant.public.post(f"/v1/scheduling-links/{token}/confirm", json={"sessions": tampered})
    assert bad.status_code == 400 and "loop_sessions[coding]" in bad.text, bad.text
    hold = await tenant.public.post(f"/v1/scheduling-links/{token}/holds", json={"start": chosen[0]["start"]})
    assert hold.status_code == 400 and "loop_sessions" in hold.text, hold.text

    r = await tenant.public.post(f"/v1/scheduling-links/{token}/confirm", json={"sessions": chosen})
    assert r.status_code == 200, r.text
    booked = r.json()
    assert [b["loop_session_id"] for b in booked["bookings"]] == ["intro", "coding"]
    assert booked["booking"]["id"] == booked["bookings"][0]["id"]
    assert len({b["loop_id"] for b in booked["bookings"]}) == 1
    recipients = sorted(i["recipient"] for i in booked["invites"])
    assert recipients.count("cand-loop@mail.test") == 2 and "amy@acme.test" in recipients
    again = await tenant.public.post(f"/v1/scheduling-links/{token}/confirm", json={"sessions": chosen})
    assert again.status_code == 200, again.text
    assert [b["id"] for b in again.json()["bookings"]] == [b["id"] for b in booked["bookings"]]
    state = (await tenant.public.get(f"/v1/scheduling-links/{token}/slots")).json()
    assert state["status"] == "booked"

    # a loop moves as a whole: the candidate cancels it (every session) and may choose again
    moved = await tenant.public.post(
        f"/v1/scheduling-links/{token}/reschedule", json={"start": chosen[0]["start"]}
    )
    assert moved.status_code == 409, moved.text
    gone = await tenant.public.post(f"/v1/scheduling-links/{token}/cancel", json={"reason": "conflict"})
    assert gone.status_code == 200, gone.text
    assert sum(i["method"] == "CANCEL" for i in gone.json()["invites"]) == 4  # 2 sessions x (candidate + 1)
    rows = await tenant.fetch(
        "SELECT status FROM bookings WHERE tenant_id = $1 AND candidate_id = 'cand-loop'", tenant.id
    )
    assert sorted(r["status"] for r in rows) == ["cancelled", "cancelled"]
    assert (await tenant.public.get(f"/v1/scheduling-links/{token}/slots")).json()["status"] == "open"


async def test_a_session_taken_meanwhile_books_nothing_and_offers_fresh_options(tenant: Tenant) -> None:
    for who in ("amy", "bo", "cy"):
        await tenant.put_interviewer(who, working_hours=WEEKDAYS_9_TO_5)
    token = await loop_link(tenant, "cand-late")
    option = (await tenant.public.get(f"/v1/scheduling-links/{token}/slots")).json()["loop_options"][0]
    chosen = sessions_of(option)
    intro = chosen[0]
    # a coordinator books amy at the intro's time first
    taken = {
        "candidate_id": "cand-first",
        "interviewer_ids": ["amy"],
        "start": intro["start"],
        "end": intro["end"],
    }
    assert (await tenant.http.post("/v1/interviews", json=taken)).status_code == 201
    r = await tenant.public.post(f"/v1/scheduling-links/{token}/confirm", json={"sessions": chosen})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["session_id"] == "intro" and problem["rules"] == ["double_booking"]
    fresh = problem["alternatives"]
    assert fresh and all(
        s["start"] != intro["start"] for o in fresh for s in o["sessions"] if s["session_id"] == "intro"
    )
    rows = await tenant.fetch(
        "SELECT count(*) AS n FROM bookings WHERE tenant_id = $1 AND candidate_id = 'cand-late'", tenant.id
    )
    assert rows[0]["n"] == 0
    # one of the fresh options books
    ok = await tenant.public.post(
        f"/v1/scheduling-links/{token}/confirm", json={"sessions": sessions_of(fresh[0])}
    )
    assert ok.status_code == 200 and len(ok.json()["bookings"]) == 2, ok.text
    assert datetime.fromisoformat(ok.json()["bookings"][0]["start"]) - datetime.fromisoformat(
        intro["start"]
    ) != timedelta(0)
