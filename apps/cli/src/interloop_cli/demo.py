"""Seeds the demo tenant of `make run` through the public REST API, against local fake vendors:
interviewers whose calendars live in a fake Google Calendar, a job with a default panel and an open
self-scheduling link, a scorecard template with scored interviews (so the statistics have numbers),
and a connected fake Greenhouse (webhooks signed like Greenhouse's) handing hires to a fake Workday."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from interloop_devstack.procs import StackError
from interloop_fakes import examples
from interloop_gateway.store import partners
from interloop_gateway.store.tenants import create_tenant, issue_key

DEMO_TENANT = "demo"
DEMO_KEY = "il_demo_key_for_local_use_only"
DEMO_COMPLIANCE_KEY = "il_demo_compliance_key_for_local_use_only"
DEMO_PARTNER = "demo-ats"
DEMO_PARTNER_KEY = "ilp_demo_partner_key_for_local_use_only"
GH_EXAMPLE_CANDIDATE = "265772"  # the candidate of Greenhouse's documented webhook examples
GH_WEBHOOK_SECRET = "demo-greenhouse-webhook-secret"  # noqa: S105 - the demo's fake vendor
JOB, ROUND = "3485", "onsite"  # the job of Greenhouse's documented candidate_stage_change example

INTERVIEWERS = [
    {
        "id": "ada",
        "email": "ada@demo.interloop.dev",
        "display_name": "Ada Lovelace",
        "time_zone": "Europe/London",
    },
    {
        "id": "grace",
        "email": "grace@demo.interloop.dev",
        "display_name": "Grace Hopper",
        "time_zone": "America/New_York",
    },
    {
        "id": "alan",
        "email": "alan@demo.interloop.dev",
        "display_name": "Alan Turing",
        "time_zone": "Europe/London",
    },
    {
        "id": "katherine",
        "email": "katherine@demo.interloop.dev",
        "display_name": "Katherine Johnson",
        "time_zone": "America/Chicago",
    },
]
LABELS = ["definitely_not", "no", "mixed", "yes", "strong_yes"]
TEMPLATE = {
    "job_id": JOB,
    "round": ROUND,
    "created_by": "demo-hiring-manager",
    "dimensions": [
        {
            "key": "coding",
            "name": "Coding",
            "scale": {"kind": "numeric", "min": 1, "max": 5},
            "evidence_required": True,
            "anchors": [
                {"point": 1, "description": "cannot write a loop"},
                {"point": 5, "description": "idiomatic"},
            ],
        },
        {"key": "design", "name": "System design", "scale": {"kind": "numeric", "min": 1, "max": 5}},
        {"key": "collaboration", "name": "Collaboration", "scale": {"kind": "labels"}},
    ],
}


async def create_api_key(
    gateway_dsn: str,
    tenant_id: str = DEMO_TENANT,
    key: str = DEMO_KEY,
    *,
    scopes: tuple[str, ...] = ("admin",),
    interviewer_id: str | None = None,
) -> str:
    conn = await asyncpg.connect(gateway_dsn)
    try:
        async with conn.transaction():
            await create_tenant(conn, tenant_id, "Demo Corp")
            return await issue_key(conn, tenant_id, list(scopes), key, interviewer_id=interviewer_id)
    finally:
        await conn.close()


async def register_partner(gateway_dsn: str) -> None:
    conn = await asyncpg.connect(gateway_dsn)
    try:
        async with conn.transaction():
            await partners.register(conn, DEMO_PARTNER, "Demo ATS")
            await partners.issue_key(conn, DEMO_PARTNER, DEMO_PARTNER_KEY)
    finally:
        await conn.close()


@dataclass
class Demo:
    """What `make run` shows, and the fake vendors that must live as long as the stack."""

    info: dict[str, str] = field(default_factory=dict)
    fakes: list = field(default_factory=list)

    def stop(self) -> None:
        for fake in self.fakes:
            fake.stop()


def _ok(r: httpx.Response) -> dict:
    if r.status_code >= 400:
        raise StackError(
            f"demo seed: {r.request.method} {r.request.url.path} -> {r.status_code}: {r.text[:300]}"
        )
    return r.json() if r.content else {}


def _poll(fn, what: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.3)
    raise StackError(f"demo seed: timed out waiting for {what}")


def seed(base_url: str, gateway_dsn: str) -> Demo:
    from interloop_fakes.ats import GREENHOUSE_HIRE_MAPPING, FakeWorkday, deliver, sign_greenhouse
    from interloop_fakes.calendars import FakeGoogleCalendar

    demo = Demo()
    key = asyncio.run(create_api_key(gateway_dsn))
    asyncio.run(create_api_key(gateway_dsn, key=DEMO_COMPLIANCE_KEY, scopes=("compliance",)))
    demo.info.update(api_key=key, compliance_key=DEMO_COMPLIANCE_KEY)
    google = FakeGoogleCalendar()
    google.start()
    workday = FakeWorkday()
    workday.start()
    demo.fakes += [google, workday]
    rng = random.Random(2026)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)]
    try:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
            # Interviewers whose calendars are read from (fake) Google Calendar, with meetings in them.
            for i in INTERVIEWERS:
                cal_id = i["email"]
                google.add_calendar(cal_id)
                zone = ZoneInfo(i["time_zone"])
                for day in range(1, 15):  # two or three meetings a day inside their local working hours
                    date = (now + timedelta(days=day)).astimezone(zone).date()
                    for _ in range(rng.randint(2, 3)):
                        start = datetime.combine(date, dtime(rng.randint(9, 15), rng.choice([0, 30])), zone)
                        google.add_busy(cal_id, start, start + timedelta(minutes=rng.choice([30, 60, 90])))
                _ok(
                    c.put(
                        f"/v1/scheduling/interviewers/{i['id']}",
                        json={
                            **{k: v for k, v in i.items() if k != "id"},
                            "working_hours": hours,
                            "daily_cap": 3,
                            "weekly_cap": 8,
                            "interview_types": ["coding", "system-design"],
                            "calendar": {
                                "kind": "google",
                                "calendar_id": cal_id,
                                "url": f"{google.base_url}/calendar/v3",
                                "credential": google.token,
                            },
                        },
                    )
                )
            _ok(c.post("/v1/scheduling/calendars/refresh", json={}))
            # The job's default panel (Ada plus one of three), used by links the ATS opens too.
            panel = [
                {"interviewer_ids": ["ada"]},
                {"interviewer_ids": ["grace", "alan", "katherine"], "k": 1},
            ]
            _ok(c.put(f"/v1/scheduling/job-panels/{JOB}", json={"panel": panel, "duration_minutes": 60}))
            link = _ok(
                c.post(
                    "/v1/scheduling/links",
                    json={
                        "candidate_id": "cand-demo-link",
                        "panel": panel,
                        "duration_minutes": 60,
                        "job_id": JOB,
                        "round": ROUND,
                        "candidate_email": "candidate@example.com",
                        "candidate_name": "Dana Candidate",
                    },
                )
            )
            demo.info["scheduling_link"] = link.get("url") or f"{base_url}/schedule/{link['token']}"
            # An interview a recruiter booked directly, at a time Ada and Grace are both free (a direct
            # booking is checked like any other): candidate and panel get the invite by email.
            free = _ok(
                c.post(
                    "/v1/scheduling/availability",
                    json={
                        "panel": [{"interviewer_ids": ["ada"]}, {"interviewer_ids": ["grace"]}],
                        "window_start": (now + timedelta(days=2)).isoformat(),
                        "window_end": (now + timedelta(days=9)).isoformat(),
                        "duration_minutes": 60,
                        "limit": 1,
                    },
                )
            )["slots"]
            if not free:
                raise StackError("demo seed: no common free hour for Ada and Grace in the demo week")
            upcoming = datetime.fromisoformat(free[0]["start"])
            _ok(
                c.post(
                    "/v1/interviews",
                    json={
                        "candidate_id": "cand-demo-sam",
                        "interviewer_ids": ["ada", "grace"],
                        "job_id": JOB,
                        "round": ROUND,
                        "start": upcoming.isoformat(),
                        "end": (upcoming + timedelta(hours=1)).isoformat(),
                        "candidate_email": "sam@example.com",
                        "candidate_name": "Sam Candidate",
                        "candidate_time_zone": "America/New_York",
                    },
                )
            )

            # A scorecard template and eight past interviews scored by three interviewers.
            _ok(c.post("/v1/scorecard-templates", json=TEMPLATE))
            bias = {"ada": 0, "grace": 1, "alan": -1}
            for n in range(8):
                start = now - timedelta(days=10 - n, hours=3)
                booking = _ok(
                    c.post(
                        "/v1/interviews",
                        json={
                            "candidate_id": f"cand-demo-{n}",
                            "interviewer_ids": list(bias),
                            "job_id": JOB,
                            "round": ROUND,
                            "start": start.isoformat(),
                            "end": (start + timedelta(hours=1)).isoformat(),
                            # recorded after the fact: not held to today's hours and caps (audited)
                            "override_reason": "demo history: an interview that already took place",
                        },
                    )
                )["id"]
                _ok(c.post(f"/v1/interviews/{booking}/complete"))
                _poll(
                    lambda b=booking: (
                        len(
                            _ok(c.get("/v1/expected-scorecards", params={"interview_id": b})).get("items", [])
                        )
                        == 3
                    ),
                    "expected scorecards",
                )
                quality = rng.randint(1, 5)  # candidates differ; raters mostly agree, with a lean each
                for who, lean in bias.items():

                    def score() -> int:
                        return max(1, min(5, quality + lean + rng.choice([-1, 0, 0, 0, 1])))  # noqa: B023

                    _ok(
                        c.post(
                            "/v1/scorecards",
                            headers={"X-Interviewer-Id": who},
                            json={
                                "interview_id": booking,
                                "interviewer_id": who,
                                "submit": True,
                                "ratings": [
                                    {
                                        "dimension": "coding",
                                        "score": score(),
                                        "evidence": f"{who}: solid tests",
                                    },
                                    {"dimension": "design", "score": score()},
                                    {"dimension": "collaboration", "label": LABELS[score() - 1]},
                                ],
                                "recommendation": LABELS[score() - 1],
                                "confidence": rng.randint(2, 5),
                            },
                        )
                    )

            # A connected (fake) Greenhouse, handing hires to a (fake) Workday.
            _ok(
                c.post(
                    "/v1/connections",
                    json={
                        "provider": "workday",
                        "owner": "hris-owner@demo.interloop.dev",
                        "name": "Workday (fake)",
                        "base_url": workday.base_url,
                        "credentials": workday.credentials,
                        "settings": {"tenant": workday.tenant},
                        "field_mapping": GREENHOUSE_HIRE_MAPPING,
                    },
                )
            )
            gh = _ok(
                c.post(
                    "/v1/connections",
                    json={
                        "provider": "greenhouse",
                        "owner": "ats-owner@demo.interloop.dev",
                        "name": "Greenhouse (fake)",
                        "credentials": {"webhook_secret": GH_WEBHOOK_SECRET},
                        "stage_policy": {"keywords": ["interview", "assessment"]},
                    },
                )
            )
            hook_url = f"{base_url}/webhooks/greenhouse/{gh['id']}"
            demo.info["webhook_url"] = hook_url
            for example in ("f-gh-01-candidate_stage_change.json", "f-gh-02-hire_candidate.json"):
                # Greenhouse's own documented examples, signed as Greenhouse signs them
                body = examples.raw("greenhouse", example)
                r = deliver(hook_url, sign_greenhouse(body, GH_WEBHOOK_SECRET))
                if r.status_code != 202:
                    raise StackError(f"demo seed: webhook {example} -> {r.status_code}: {r.text[:200]}")
            _poll(lambda: len(workday.hires) >= 1, "the hire to reach the fake Workday", timeout=60)
            demo.info["workday_workers"] = str(len(workday.hires))

            # An ATS vendor on the partner API, granted access by the demo tenant's admin.
            asyncio.run(register_partner(gateway_dsn))
            _ok(
                c.put(
                    f"/v1/partner-grants/{DEMO_PARTNER}",
                    json={"scopes": ["read", "schedule", "push", "subscribe"]},
                )
            )
            demo.info.update(partner_id=DEMO_PARTNER, partner_key=DEMO_PARTNER_KEY)

        # Candidates' rights, with the compliance key: the retention policy, a legal hold on the demo job,
        # and an access request for Greenhouse's example candidate (its bundle and its readable page).
        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {DEMO_COMPLIANCE_KEY}"}, timeout=30
        ) as comp:
            _ok(comp.put("/v1/privacy/retention", json={"keep_days": 365}))
            _ok(
                comp.post(
                    "/v1/privacy/legal-holds",
                    json={"scope": "job", "subject": JOB, "reason": "demo: a hold on the demo job"},
                )
            )
            export = _ok(comp.post("/v1/privacy/exports", json={"candidate_id": GH_EXAMPLE_CANDIDATE}))
            demo.info["privacy_export"] = f"{base_url}/v1/privacy/exports/{export['id']}/summary.html"
    except BaseException:
        demo.stop()
        raise
    return demo
