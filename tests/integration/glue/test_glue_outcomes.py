"""Post-hire outcomes posted over REST -> sync RecordOutcome -> hris.outcome.recorded (outbox, topic hris) ->
the scorecard service -> predictive validity of the job they were recorded for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from interloop_devstack.testing import eventually

from .conftest import Tenant

pytestmark = pytest.mark.integration

JOB, ROUND = "job-validity", "onsite"
CANDIDATES = [f"hire-{i}" for i in range(6)]
SCORES = [5, 2, 4, 1, 5, 3]
LABELS = ["definitely_not", "no", "mixed", "yes", "strong_yes"]
RETAINED = [True, False, True, False, True, False]


async def _scorecards(t: Tenant) -> None:
    template = {
        "job_id": JOB,
        "round": ROUND,
        "created_by": "hm",
        "dimensions": [{"key": "coding", "name": "Coding", "scale": {"kind": "numeric", "min": 1, "max": 5}}],
    }
    assert (await t.http.post("/v1/scorecard-templates", json=template)).status_code == 201
    r = await t.http.put(
        "/v1/scheduling/interviewers/ada", json={"email": "ada@glue.test", "time_zone": "UTC"}
    )
    assert r.status_code == 200, r.text
    base = datetime.now(UTC) - timedelta(days=30)
    for i, cand in enumerate(CANDIDATES):
        start = base + timedelta(hours=2 * i)
        r = await t.http.post(
            "/v1/interviews",
            json={
                "candidate_id": cand,
                "interviewer_ids": ["ada"],
                "job_id": JOB,
                "round": ROUND,
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        interview = r.json()["id"]
        assert (await t.http.post(f"/v1/interviews/{interview}/complete")).status_code == 200

        async def due(interview: str = interview) -> bool:
            got = await t.http.get("/v1/expected-scorecards", params={"interview_id": interview})
            return any(x["status"] == "due" for x in got.json()["items"])

        await eventually(due, what=f"the expected scorecard of {cand}")
        card = await t.http.post(
            "/v1/scorecards",
            headers={"X-Interviewer-Id": "ada"},
            json={
                "interview_id": interview,
                "interviewer_id": "ada",
                "submit": True,
                "ratings": [{"dimension": "coding", "score": SCORES[i]}],
                "recommendation": LABELS[SCORES[i] - 1],
            },
        )
        assert card.status_code == 201, card.text


async def test_outcomes_posted_over_rest_feed_validity_per_job(tenant: Tenant) -> None:
    await _scorecards(tenant)
    at = datetime.now(UTC).replace(microsecond=0)
    for i, cand in enumerate(CANDIDATES[:5]):
        r = await tenant.http.post(
            "/v1/outcomes",
            json={
                "candidate_id": cand,
                "job_id": JOB,
                "application_id": f"app-{i}",
                "retained_90d": RETAINED[i],
                "first_performance_rating": float(SCORES[i]) - 0.5,
                "recorded_at": at.isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        assert [x["outcome"] for x in r.json()["items"]] == ["retained_90d", "first_performance_rating"]
    # the last hire's outcome is for another job: it must not count for this one
    other = await tenant.http.post(
        "/v1/outcomes",
        json={"candidate_id": CANDIDATES[5], "job_id": "job-other", "retained_90d": True},
    )
    assert other.status_code == 201, other.text
    # the same observation again is a duplicate: no second event
    again = await tenant.http.post(
        "/v1/outcomes",
        json={
            "candidate_id": CANDIDATES[0],
            "job_id": JOB,
            "retained_90d": True,
            "recorded_at": at.isoformat(),
        },
    )
    assert again.status_code == 201 and again.json()["items"][0]["duplicate"] is True
    bad = await tenant.http.post("/v1/outcomes", json={"candidate_id": "x", "outcome": "vibes", "value": 1})
    assert bad.status_code == 400 and "outcome" in bad.text

    async def validity(outcome: str) -> list[dict] | None:
        r = await tenant.http.get(
            "/v1/scorecard-statistics/validity",
            params={"job_id": JOB, "outcome": outcome, "bootstrap_samples": 50},
        )
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        return items if items and all(i["n"] == 5 for i in items) else None

    binary = await eventually(lambda: validity("retained_90d"), what="validity against retained_90d")
    coding = next(i for i in binary if i["dimension"] == "coding")
    assert coding["binary"] and coding["n_positive"] == 3
    assert coding["auc"] == pytest.approx(1.0)  # retained hires scored 5, 4, 5; the others 2, 1
    numeric = await eventually(lambda: validity("first_performance_rating"), what="numeric validity")
    assert next(i for i in numeric if i["dimension"] == "coding")["pearson"] == pytest.approx(1.0)
    sent = await tenant.rows(
        "sync", "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND topic LIKE '%hris%'", tenant.id
    )
    assert sent[0][0] == 11
