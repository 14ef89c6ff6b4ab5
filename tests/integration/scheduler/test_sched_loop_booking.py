"""Loops booked as one: every session in one transaction or none (REST, 409 problem+json naming the session
and the rule, with fresh options), and 100 concurrent loop bookings over gRPC competing for the same
interviewers, checked from the database: no interviewer overlaps (buffers included), no daily cap
exceeded, every loop all or nothing."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop_common.rpc import ts

from .conftest import WEEKDAYS_9_TO_5, Tenant

pytestmark = pytest.mark.integration


def monday(weeks: int = 2) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 * weeks - today.weekday())


def proposal(day: datetime, days: int = 1) -> dict:
    return {
        "sessions": [
            {"id": "intro", "duration_minutes": 60, "pool": ["amy"]},
            {"id": "coding", "duration_minutes": 60, "pool": ["bo"]},
            {"id": "values", "duration_minutes": 60, "pool": ["cy"]},
        ],
        "window_start": day.isoformat(),
        "window_end": (day + timedelta(days=days)).isoformat(),
        "step_minutes": 60,
        "time_limit_seconds": 2,
        "objectives": ["earliest"],
    }


def chosen(option: dict) -> list[dict]:
    return [{k: s[k] for k in ("session_id", "start", "end", "interviewer_ids")} for s in option["sessions"]]


async def test_a_loop_is_booked_all_or_none_and_a_conflict_names_the_session(tenant: Tenant) -> None:
    for who in ("amy", "bo"):
        await tenant.put_interviewer(who, working_hours=WEEKDAYS_9_TO_5)
    await tenant.put_interviewer("cy", working_hours=WEEKDAYS_9_TO_5, daily_cap=1)
    day = monday()
    proposed = await tenant.http.post("/v1/scheduling/loops", json=proposal(day))
    assert proposed.status_code == 200 and proposed.json()["options"], proposed.text
    body = {"candidate_id": "cand-one", "sessions": chosen(proposed.json()["options"][0])}
    r = await tenant.http.post("/v1/scheduling/loops/bookings", json=body)
    assert r.status_code == 201, r.text
    loop = r.json()
    assert len(loop["bookings"]) == 3 and {b["loop_id"] for b in loop["bookings"]} == {loop["loop_id"]}
    assert [b["loop_session_id"] for b in loop["bookings"]] == ["intro", "coding", "values"]

    # A second candidate the same day: amy and bo have time, cy's one interview that day is used up.
    later = [
        {
            **s,
            "start": (datetime.fromisoformat(s["start"]) + timedelta(hours=4)).isoformat(),
            "end": (datetime.fromisoformat(s["end"]) + timedelta(hours=4)).isoformat(),
        }
        for s in body["sessions"]
    ]
    second = {"candidate_id": "cand-two", "sessions": later, "proposal": proposal(day, days=2)}
    refused = await tenant.http.post("/v1/scheduling/loops/bookings", json=second)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("/loop-not-booked")
    assert problem["session_id"] == "values" and problem["rules"] == ["daily_cap"]
    assert "daily_cap" in problem["detail"]
    # fresh options for the proposal: the next day, when cy is free again
    assert problem["alternatives"]
    assert all(
        s["start"] >= (day + timedelta(days=1)).isoformat()
        for s in problem["alternatives"][0]["sessions"]
        if s["session_id"] == "values"
    )
    rows = await tenant.fetch(
        "SELECT count(*) AS n FROM bookings WHERE tenant_id = $1 AND candidate_id = 'cand-two'", tenant.id
    )
    assert rows[0]["n"] == 0  # intro and coding were free, and still nothing was booked

    # buffers: back-to-back sessions of one interviewer leave no room for a 15-minute buffer
    tight = {
        "candidate_id": "cand-three",
        "buffer_after_minutes": 15,
        "sessions": [
            {
                "session_id": "a",
                "interviewer_ids": ["amy"],
                "start": (day + timedelta(hours=15)).isoformat(),
                "end": (day + timedelta(hours=15, minutes=30)).isoformat(),
            },
            {
                "session_id": "b",
                "interviewer_ids": ["amy"],
                "start": (day + timedelta(hours=15, minutes=30)).isoformat(),
                "end": (day + timedelta(hours=16)).isoformat(),
            },
        ],
    }
    overlap = await tenant.http.post("/v1/scheduling/loops/bookings", json=tight)
    assert overlap.status_code == 409 and overlap.json()["rules"] == ["double_booking"], overlap.text
    assert overlap.json()["session_id"] == "b" and overlap.json()["alternatives"] == []


PEOPLE = [f"p{n}" for n in range(6)]
CAP = 2


async def test_100_concurrent_loop_bookings_never_double_book_or_exceed_a_cap(tenant: Tenant) -> None:
    for who in PEOPLE:
        await tenant.put_interviewer(who, working_hours=WEEKDAYS_9_TO_5, daily_cap=CAP)
    day = monday(3)
    rng = random.Random(4)
    requests = []
    for n in range(100):
        first = day + timedelta(hours=9, minutes=30 * rng.randrange(10))
        sessions = []
        for j in range(rng.choice((2, 3))):
            start = first + timedelta(minutes=75 * j)
            sessions.append(
                pb.LoopSessionBooking(
                    session_id=f"s{j}",
                    start=ts(start),
                    end=ts(start + timedelta(minutes=45)),
                    interviewer_ids=rng.sample(PEOPLE, 1 + (j == 0)),
                )
            )
        requests.append(
            pb.BookLoopRequest(
                tenant_id=tenant.id,
                candidate_id=f"cand-{n}",
                sessions=sessions,
                buffer_before_minutes=10,
                buffer_after_minutes=10,
            )
        )

    async def book(r: pb.BookLoopRequest) -> pb.BookLoopResponse | grpc.StatusCode:
        try:
            return await tenant.rpc.BookLoop(r, timeout=60)
        except grpc.aio.AioRpcError as exc:
            return exc.code()

    answers = await asyncio.gather(*(book(r) for r in requests))
    booked = {
        r.candidate_id: a
        for r, a in zip(requests, answers, strict=True)
        if isinstance(a, pb.BookLoopResponse)
    }
    refused = [a for a in answers if not isinstance(a, pb.BookLoopResponse)]
    assert set(refused) <= {grpc.StatusCode.ABORTED}, Counter(refused)
    assert booked and refused  # they really competed

    # no interviewer has two active commitments whose ranges (interview + buffers) overlap
    overlaps = await tenant.fetch(
        """SELECT a.interviewer_id FROM interviewer_commitments a JOIN interviewer_commitments b
             ON a.tenant_id = b.tenant_id AND a.interviewer_id = b.interviewer_id AND a.ctid < b.ctid
            AND a.blocked && b.blocked
           WHERE a.tenant_id = $1 AND a.active AND b.active""",
        tenant.id,
    )
    assert overlaps == []
    spans = await tenant.fetch(
        """SELECT upper(blocked) - lower(blocked) AS span FROM interviewer_commitments
           WHERE tenant_id = $1 AND active""",
        tenant.id,
    )
    assert {r["span"] for r in spans} == {timedelta(minutes=65)}  # the buffers are in what is blocked
    # no daily cap exceeded
    per_day = await tenant.fetch(
        """SELECT c.interviewer_id, (lower(c.during) AT TIME ZONE 'UTC')::date AS day, count(*) AS n
           FROM interviewer_commitments c WHERE c.tenant_id = $1 AND c.active AND c.booking_id IS NOT NULL
           GROUP BY 1, 2""",
        tenant.id,
    )
    assert per_day and max(r["n"] for r in per_day) <= CAP
    assert max(r["n"] for r in per_day) == CAP  # the cap was reached, not just never approached
    # every loop all or none: a booked loop has all its sessions, a refused one none
    rows = await tenant.fetch(
        "SELECT candidate_id, loop_id, loop_session_id FROM bookings WHERE tenant_id = $1", tenant.id
    )
    by_candidate: dict[str, set[tuple[str, str]]] = {}
    for r in rows:
        by_candidate.setdefault(r["candidate_id"], set()).add((str(r["loop_id"]), r["loop_session_id"]))
    for r in requests:
        got = by_candidate.get(r.candidate_id, set())
        if r.candidate_id in booked:
            loop_id = booked[r.candidate_id].loop_id
            assert got == {(loop_id, s.session_id) for s in r.sessions}
            assert uuid.UUID(loop_id)
        else:
            assert got == set()
