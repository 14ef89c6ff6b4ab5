"""Candidate self-scheduling through the gateway's public link endpoints: signed expiring links, slots
in the candidate's zone, holds with a TTL, confirmation with ICS invites, the race for one interviewer,
reschedule and cancel with ICS SEQUENCE."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop_devstack.testing import eventually
from interloop_scheduler.domain.links import issue_link_token

from .conftest import ALWAYS, Tenant, open_link

pytestmark = pytest.mark.integration


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def event_of(ics: str) -> icalendar.Event:
    cal = icalendar.Calendar.from_ical(ics)
    (event,) = cal.walk("VEVENT")
    return event


async def link_slots(t: Tenant, token: str, tz: str = "UTC") -> dict:
    r = await t.public.get(f"/v1/scheduling-links/{token}/slots", params={"tz": tz})
    assert r.status_code == 200, r.text
    return r.json()


async def test_link_hold_confirm_returns_booking_and_invites(tenant: Tenant) -> None:
    await tenant.put_interviewer("ann", working_hours=ALWAYS, display_name="Ann Lee")
    await tenant.put_interviewer("ben", working_hours=ALWAYS)
    link = await open_link(
        tenant,
        [{"interviewer_ids": ["ann", "ben"], "k": 1}],
        duration=45,
        round="onsite",
        settings={"min_notice_minutes": 25 * 60, "step_minutes": 30},
    )
    assert link["url"].endswith(f"/schedule/{link['token']}")

    got = await link_slots(tenant, link["token"], "America/Los_Angeles")
    assert got["status"] == "open" and got["duration_minutes"] == 45 and got["candidate_name"] == "Cand-1"
    first = got["slots"][0]
    assert at(first["start"]) >= datetime.now(UTC) + timedelta(hours=25)  # min notice (and no reminder yet)
    assert first["local_start"].endswith(("-08:00", "-07:00")) and first["interviewer_ids"] == ["ann", "ben"]

    held = await tenant.public.post(
        f"/v1/scheduling-links/{link['token']}/holds", json={"start": first["start"]}
    )
    assert held.status_code == 201, held.text
    hold = held.json()
    assert hold["interviewer_ids"] == ["ann"]  # one of two, the least loaded, by id

    # Another candidate still sees the time, but only with ben: ann is held.
    other = await open_link(
        tenant,
        [{"interviewer_ids": ["ann", "ben"], "k": 1}],
        candidate="cand-2",
        duration=45,
        settings={"min_notice_minutes": 25 * 60},
    )
    theirs = {s["start"]: s["interviewer_ids"] for s in (await link_slots(tenant, other["token"]))["slots"]}
    assert theirs[first["start"]] == ["ben"]
    # ... and the holder still sees it with ann (its own hold does not block it).
    mine = {s["start"]: s["interviewer_ids"] for s in (await link_slots(tenant, link["token"]))["slots"]}
    assert mine[first["start"]] == ["ann", "ben"]

    r = await tenant.public.post(
        f"/v1/scheduling-links/{link['token']}/confirm", json={"hold_id": hold["hold_id"]}
    )
    assert r.status_code == 200, r.text
    booking, ics = r.json()["booking"], r.json()["invite_ics"]
    assert booking["status"] == "scheduled" and booking["interviewer_ids"] == ["ann"]
    assert booking["start"] == first["start"] and booking["round"] == "onsite"
    event = event_of(ics)
    assert "METHOD:REQUEST" in ics and str(event["UID"]) == f"{booking['id']}@interloop"
    assert int(event["SEQUENCE"]) == 0
    attendees = sorted(str(a) for a in event.get("ATTENDEE"))
    assert attendees == ["mailto:ann@acme.test", "mailto:cand-1@mail.test"]
    assert sorted(i["recipient"] for i in r.json()["invites"]) == ["ann@acme.test", "cand-1@mail.test"]

    # A retried confirmation answers the same booking; the link now shows it.
    again = await tenant.public.post(
        f"/v1/scheduling-links/{link['token']}/confirm", json={"hold_id": hold["hold_id"]}
    )
    assert again.status_code == 200 and again.json()["booking"]["id"] == booking["id"]
    state = await link_slots(tenant, link["token"])
    assert state["status"] == "booked" and state["booking"]["id"] == booking["id"]
    rows = await tenant.fetch("SELECT status FROM holds WHERE tenant_id = $1", tenant.id)
    assert [r["status"] for r in rows] == ["confirmed"]
    types = [
        r["event_type"]
        for r in await tenant.fetch(
            "SELECT event_type FROM outbox WHERE tenant_id = $1 ORDER BY seq", tenant.id
        )
    ]
    assert types == [
        "interview.scheduling_requested",
        "interview.scheduling_requested",
        "interview.scheduled",
    ]


async def test_links_are_signed_and_expire(tenant: Tenant, platform) -> None:  # type: ignore[no-untyped-def]
    await tenant.put_interviewer("cy", working_hours=ALWAYS)
    link = await open_link(tenant, [{"interviewer_ids": ["cy"]}])
    body, _, sig = link["token"].partition(".")
    forged = f"{body}.{sig[::-1]}"
    r = await tenant.public.get(f"/v1/scheduling-links/{forged}/slots")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    # A token signed with the service's key but past its expiry is 410 Gone.
    key = b"dev-only-link-signing-key-change-me"
    expired = issue_link_token(
        {"t": tenant.id, "l": link["link_id"]}, key, datetime.now(UTC) - timedelta(seconds=1)
    )
    assert (await tenant.public.get(f"/v1/scheduling-links/{expired}/slots")).status_code == 410

    page = await tenant.public.get(f"/schedule/{link['token']}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'nonce-" in page.headers["content-security-policy"]
    html = page.text
    assert f'data-token="{link["token"]}"' in html and "Intl.DateTimeFormat" in html
    assert 'role="status"' in html and 'lang="en"' in html and "https://" not in html  # no CDN


async def test_hold_ttl_protects_then_expires(tenant: Tenant) -> None:
    await tenant.put_interviewer("dee", working_hours=ALWAYS)
    first = await open_link(tenant, [{"interviewer_ids": ["dee"]}], candidate="c1")
    second = await open_link(tenant, [{"interviewer_ids": ["dee"]}], candidate="c2")
    start = (await link_slots(tenant, first["token"]))["slots"][3]["start"]
    r = await tenant.public.post(
        f"/v1/scheduling-links/{first['token']}/holds", json={"start": start, "ttl_seconds": 2}
    )
    assert r.status_code == 201
    taken = await tenant.public.post(f"/v1/scheduling-links/{second['token']}/holds", json={"start": start})
    assert taken.status_code == 409 and taken.json()["alternatives"]
    assert start not in {s["start"] for s in (await link_slots(tenant, second["token"]))["slots"]}
    await asyncio.sleep(2.5)
    # Expired: the slot is free again and the second candidate can hold and confirm it.
    assert start in {s["start"] for s in (await link_slots(tenant, second["token"]))["slots"]}
    ok = await tenant.public.post(f"/v1/scheduling-links/{second['token']}/confirm", json={"start": start})
    assert ok.status_code == 200, ok.text
    # The first candidate's confirmation of its expired hold now fails with alternatives, nothing orphaned.
    late = await tenant.public.post(
        f"/v1/scheduling-links/{first['token']}/confirm", json={"hold_id": r.json()["hold_id"]}
    )
    assert late.status_code == 409 and late.json()["alternatives"]
    active = await tenant.fetch(
        "SELECT count(*) AS n FROM interviewer_commitments"
        " WHERE tenant_id = $1 AND active AND hold_id IS NOT NULL",
        tenant.id,
    )
    assert active[0]["n"] == 0


async def test_200_concurrent_confirmations_book_exactly_once(tenant: Tenant) -> None:
    await tenant.put_interviewer("solo", working_hours=ALWAYS)
    links = await asyncio.gather(
        *(
            tenant.rpc.CreateSchedulingLink(
                pb.CreateSchedulingLinkRequest(
                    tenant_id=tenant.id,
                    candidate_id=f"cand-{n}",
                    panel=[pb.PanelRequirement(interviewer_ids=["solo"])],
                    duration_minutes=60,
                )
            )
            for n in range(200)
        )
    )
    base = at((await link_slots(tenant, links[0].token))["slots"][48]["start"])
    # Four overlapping 60-minute starts, 15 minutes apart: every pair overlaps.
    starts = [(base + timedelta(minutes=15 * (n % 4))).isoformat() for n in range(200)]
    responses = await asyncio.gather(
        *(
            tenant.public.post(f"/v1/scheduling-links/{link.token}/confirm", json={"start": start})
            for link, start in zip(links, starts, strict=True)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 1 and codes.count(409) == 199, codes
    (winner,) = [r.json()["booking"] for r in responses if r.status_code == 200]
    w_start, w_end = at(winner["start"]), at(winner["end"])
    for r in responses:
        if r.status_code == 409:
            problem = r.json()
            assert r.headers["content-type"].startswith("application/problem+json")
            assert problem["status"] == 409 and "taken" in problem["detail"]
            assert problem["alternatives"], "a conflict offers fresh alternatives"
            for alt in problem["alternatives"]:  # fresh: none overlaps the booking that won
                assert at(alt["end"]) <= w_start or at(alt["start"]) >= w_end
    bookings = await tenant.fetch(
        "SELECT id FROM bookings WHERE tenant_id = $1 AND status = 'scheduled'", tenant.id
    )
    assert [str(b["id"]) for b in bookings] == [winner["id"]]
    commitments = await tenant.fetch(
        "SELECT booking_id, hold_id FROM interviewer_commitments WHERE tenant_id = $1 AND active", tenant.id
    )
    assert [(str(c["booking_id"]), c["hold_id"]) for c in commitments] == [(winner["id"], None)]
    holds = await tenant.fetch(
        "SELECT count(*) AS n FROM holds WHERE tenant_id = $1 AND status = 'active'", tenant.id
    )
    assert holds[0]["n"] == 0


async def test_50_concurrent_holds_of_one_slot_one_wins(tenant: Tenant) -> None:
    await tenant.put_interviewer("uno", working_hours=ALWAYS)
    links = [await open_link(tenant, [{"interviewer_ids": ["uno"]}], candidate=f"h{n}") for n in range(50)]
    start = (await link_slots(tenant, links[0]["token"]))["slots"][10]["start"]
    responses = await asyncio.gather(
        *(
            tenant.public.post(f"/v1/scheduling-links/{link['token']}/holds", json={"start": start})
            for link in links
        )
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 49
    active = await tenant.fetch(
        "SELECT count(*) AS n FROM interviewer_commitments WHERE tenant_id = $1 AND active", tenant.id
    )
    assert active[0]["n"] == 1


async def test_reschedule_and_cancel_bump_ics_sequence(tenant: Tenant, mailbox) -> None:  # type: ignore[no-untyped-def]
    await tenant.put_interviewer("eve", working_hours=ALWAYS)
    link = await open_link(tenant, [{"interviewer_ids": ["eve"]}], settings={"min_notice_minutes": 48 * 60})
    token = link["token"]
    free = (await link_slots(tenant, token))["slots"]
    # The candidate held one time, then confirms an overlapping one directly: their own hold is no obstacle.
    held = await tenant.public.post(f"/v1/scheduling-links/{token}/holds", json={"start": free[1]["start"]})
    assert held.status_code == 201
    first = await tenant.public.post(
        f"/v1/scheduling-links/{token}/confirm",
        json={"start": free[0]["start"]},
        params={"tz": "Asia/Kolkata"},  # the zone the candidate picked on the page
    )
    assert first.status_code == 200, first.text
    booking = first.json()["booking"]
    holds = await tenant.fetch("SELECT status FROM holds WHERE tenant_id = $1", tenant.id)
    assert [h["status"] for h in holds] == ["released"]
    uid = str(event_of(first.json()["invite_ics"])["UID"])

    moved = await tenant.public.post(
        f"/v1/scheduling-links/{token}/reschedule", json={"start": free[4]["start"]}
    )
    assert moved.status_code == 200, moved.text
    ev = event_of(moved.json()["invite_ics"])
    assert (
        str(ev["UID"]) == uid and int(ev["SEQUENCE"]) == 1 and "METHOD:REQUEST" in moved.json()["invite_ics"]
    )
    assert (
        moved.json()["booking"]["start"] == free[4]["start"] and moved.json()["booking"]["reschedules"] == 1
    )
    # The old time is free again, the new one taken.
    now_free = {s["start"] for s in (await link_slots(tenant, token))["slots"]}
    assert free[0]["start"] in now_free

    # The tenant can move it too; a move onto a taken time is 409 with alternatives.
    r = await tenant.http.post(
        "/v1/interviews",
        json={
            "candidate_id": "blocker",
            "interviewer_ids": ["eve"],
            "start": free[8]["start"],
            "end": free[8]["end"],
        },
    )
    assert r.status_code == 201
    clash = await tenant.http.post(
        f"/v1/scheduling/bookings/{booking['id']}/reschedule", json={"start": free[8]["start"]}
    )
    assert clash.status_code == 409 and clash.json()["alternatives"]
    again = await tenant.http.post(
        f"/v1/scheduling/bookings/{booking['id']}/reschedule", json={"start": free[6]["start"]}
    )
    assert again.status_code == 200 and int(event_of(again.json()["invite_ics"])["SEQUENCE"]) == 2
    # Two reschedules is the limit.
    third = await tenant.public.post(
        f"/v1/scheduling-links/{token}/reschedule", json={"start": free[2]["start"]}
    )
    assert third.status_code == 409 and "reschedules" in third.json()["detail"]

    cancelled = await tenant.public.post(
        f"/v1/scheduling-links/{token}/cancel", json={"reason": "took another job"}
    )
    assert cancelled.status_code == 200, cancelled.text
    invites = cancelled.json()["invites"]
    assert {i["method"] for i in invites} == {"CANCEL"}
    ev = event_of(invites[0]["ics"])
    assert str(ev["UID"]) == uid and int(ev["SEQUENCE"]) == 3 and str(ev["STATUS"]) == "CANCELLED"
    assert free[6]["start"] in {s["start"] for s in (await link_slots(tenant, token))["slots"]}
    types = [
        r["event_type"]
        for r in await tenant.fetch(
            "SELECT event_type FROM outbox WHERE tenant_id = $1 AND event_type LIKE 'interview.%' "
            "AND event_type <> 'interview.scheduling_requested' ORDER BY seq",
            tenant.id,
        )
    ]
    assert types == [
        "interview.scheduled",
        "interview.rescheduled",
        "interview.scheduled",
        "interview.rescheduled",
        "interview.cancelled",
    ]

    # Every attendee got each version by email, the ICS attached (same UID, rising SEQUENCE, then CANCEL),
    # with times in their own zone: the candidate's as booked, the interviewer's from her profile.
    def mail() -> list[tuple[str, str, int, str, str]]:
        out = []
        for rcpts, message in list(mailbox.messages):
            for part in message.iter_attachments():
                if part.get_content_type() != "text/calendar":
                    continue
                ev = event_of(part.get_content())
                if str(ev["UID"]) == uid:
                    method = part.get_param("method")
                    body = message.get_body(("plain",)).get_content()
                    out += [(r, method, int(ev["SEQUENCE"]), str(message["Subject"]), body) for r in rcpts]
        return sorted(out)

    await eventually(lambda: len(mail()) >= 8, what="every version to every attendee by email")
    got = mail()
    candidate = "cand-1@mail.test"
    assert [(r, m, q) for r, m, q, _, _ in got] == [
        (candidate, "CANCEL", 3),
        (candidate, "REQUEST", 0),
        (candidate, "REQUEST", 1),
        (candidate, "REQUEST", 2),
        ("eve@acme.test", "CANCEL", 3),
        ("eve@acme.test", "REQUEST", 0),
        ("eve@acme.test", "REQUEST", 1),
        ("eve@acme.test", "REQUEST", 2),
    ], got
    kolkata = at(free[0]["start"]).astimezone(ZoneInfo("Asia/Kolkata"))
    confirmed = next(x for x in got if x[0] == candidate and x[2] == 0)
    assert f"{kolkata:%H:%M} (Asia/Kolkata)" in confirmed[4] and "Interview confirmed" in confirmed[3]
    # the candidate's mail carries their own reschedule/cancel page, still valid after the link's expiry
    manage = confirmed[4].split("Reschedule or cancel here: ", 1)[1].split()[0]
    page = await tenant.public.get(
        f"/v1/scheduling-links/{manage.rsplit('/', 1)[1]}/slots", params={"tz": "UTC"}
    )
    assert page.status_code == 200 and page.json()["status"] in ("booked", "open")
    assert not [x for x in got if x[0] == "eve@acme.test" and "/schedule/" in x[4]]  # the candidate's alone
    to_eve = next(x for x in got if x[0] == "eve@acme.test" and x[2] == 0)
    assert f"{at(free[0]['start']):%H:%M} (UTC)" in to_eve[4] and "Cand-1" in to_eve[4]
    moved = next(x for x in got if x[0] == candidate and x[2] == 1)
    assert "Interview moved" in moved[3] and "(Asia/Kolkata)" in moved[4]
    gone = next(x for x in got if x[0] == candidate and x[1] == "CANCEL")
    assert "cancelled" in gone[3].lower() and "took another job" in gone[4]

    # The communications log answers "what did we send this candidate, and when", newest first, paged.
    first_page = await tenant.http.get("/v1/communications", params={"recipient": candidate, "limit": 3})
    assert first_page.status_code == 200, first_page.text
    items = first_page.json()["items"]
    rest = await tenant.http.get(
        "/v1/communications", params={"recipient": candidate, "cursor": first_page.json()["next_cursor"]}
    )
    items += rest.json()["items"]
    assert rest.json()["next_cursor"] is None and len(items) == 5
    assert [i["sent_at"] for i in items] == sorted((i["sent_at"] for i in items), reverse=True)
    # the link email when the request was opened, and the four versions of the invite, cancellation last
    (link_mail,) = [i for i in items if i["kind"] == "send_scheduling_link"]
    assert link_mail["subject"] == "Choose a time for your interview"
    invites = [i for i in items if i["kind"] == "send_interview_email"]
    assert len(invites) == 4 and "cancelled" in items[0]["subject"].lower()
    assert {(i["candidate_id"], i["interview_id"], i["status"]) for i in invites} == {
        ("cand-1", booking["id"], "sent")
    }
    everyone = await tenant.http.get("/v1/communications", params={"candidate_id": "cand-1"})
    assert {i["recipient"] for i in everyone.json()["items"]} == {candidate, "eve@acme.test"}
    bad = await tenant.http.get("/v1/communications", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")


async def test_reschedule_closes_24_hours_before(tenant: Tenant) -> None:
    await tenant.put_interviewer("fay", working_hours=ALWAYS)
    link = await open_link(tenant, [{"interviewer_ids": ["fay"]}], settings={"min_notice_minutes": 120})
    free = (await link_slots(tenant, link["token"]))["slots"]
    soon = [s for s in free if at(s["start"]) < datetime.now(UTC) + timedelta(hours=20)]
    r = await tenant.public.post(
        f"/v1/scheduling-links/{link['token']}/confirm", json={"start": soon[0]["start"]}
    )
    assert r.status_code == 200
    late = await tenant.public.post(
        f"/v1/scheduling-links/{link['token']}/reschedule", json={"start": free[-1]["start"]}
    )
    assert late.status_code == 409 and late.json()["detail"].startswith("start: reschedules close")
    unknown = await tenant.http.post(f"/v1/scheduling/bookings/{uuid.uuid4()}/cancel", json={})
    assert unknown.status_code == 404
