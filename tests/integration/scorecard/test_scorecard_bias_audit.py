"""The NYC LL144 bias audit through the scorecard service's real gRPC server on the session's PostgreSQL:
decisions, demographics, templates and scorecards go in over gRPC (the interviews the scorecards score are
seeded as the scorecard service's expected scorecards, and the decisions and submissions are moved into 2024,
since those RPCs stamp them with the present). Every expected number is worked out by hand below; a second
tenant with the same job and candidate ids must change none of them.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import pytest
from interloop.common.v1 import common_pb2
from interloop.scorecard.v1 import scorecard_pb2 as pb
from interloop.scorecard.v1 import scorecard_pb2_grpc
from interloop_common.rpc import field_violations, ts
from interloop_devstack.testing import rows

pytestmark = pytest.mark.integration

JOB, OTHER_JOB, ROUND = "job-audit", "job-other", "onsite"
COMPLIANCE = ["compliance"]
P0, P1 = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)


def _at(month: int, day: int = 1, year: int = 2024) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


# candidate -> demographics (a7 never answered)
PEOPLE = {
    "a1": {"sex": "female", "race": "asian"},
    "a2": {"sex": "female", "race": "white"},
    "a3": {"sex": "female", "race": "white"},
    "a4": {"sex": "male", "race": "white"},
    "a5": {"sex": "male", "race": "white"},
    "a6": {"sex": "male", "race": "asian"},
    "a8": {"sex": "female", "race": "white"},
    "a9": {"sex": "male", "race": "white"},
}
# (candidate, job, decision, when)
DECISIONS = [
    ("a1", JOB, "advance", _at(3, 1)),
    ("a2", JOB, "reject", _at(3, 2)),
    ("a3", JOB, "reject", _at(3, 3)),
    ("a4", JOB, "advance", _at(3, 4)),
    ("a5", JOB, "advance", _at(3, 5)),
    ("a5", JOB, "hire", _at(5, 1)),  # after the onsite
    ("a6", JOB, "advance", _at(3, 6)),
    ("a6", JOB, "reject", _at(4, 15)),  # after the onsite
    ("a7", JOB, "reject", _at(3, 7)),
    ("a8", JOB, "advance", _at(12, 1, 2023)),  # before the period
    ("a9", JOB, "reject", _at(2, 1)),
    ("a9", JOB, "advance", _at(2, 1, 2025)),  # after the period
    ("a1", OTHER_JOB, "hire", _at(6, 1)),
]
# onsite interviews (ended 1 April 2024) and their one rating; a1's scorecard stays submitted in the present
ONSITE = {"a1": 3, "a4": 4, "a5": 5, "a6": 2}


@dataclass
class World:
    rpc: scorecard_pb2_grpc.ScorecardServiceStub
    tenant: str
    other: str

    async def audit(self, tenant: str | None = None, **kw) -> pb.BiasAuditReport:  # type: ignore[no-untyped-def]
        args = {
            "tenant_id": tenant or self.tenant,
            "scope": pb.BIAS_AUDIT_SCOPE_JOB,
            "job_id": JOB,
            "period": common_pb2.TimeRange(start=ts(P0), end=ts(P1)),
            "caller_scopes": COMPLIANCE,
            **kw,
        }
        request = pb.GetBiasAuditReportRequest(**{k: v for k, v in args.items() if v is not None})
        return (await self.rpc.GetBiasAuditReport(request)).report


async def _decide(rpc, dsn: str, tenant: str, cand: str, job: str, decision: str, at: datetime) -> None:  # type: ignore[no-untyped-def]
    await rpc.RecordDecision(
        pb.RecordDecisionRequest(
            tenant_id=tenant, candidate_id=cand, job_id=job, decision=decision, decided_by="hm"
        )
    )
    await rows(
        dsn,
        """UPDATE decisions SET decided_at = $5
           WHERE tenant_id = $1 AND candidate_id = $2 AND job_id = $3 AND decision = $4""",
        tenant,
        cand,
        job,
        decision,
        at,
    )


async def _seed_tenant_a(rpc, dsn: str, tenant: str) -> None:  # type: ignore[no-untyped-def]
    for cand, attrs in PEOPLE.items():
        await rpc.PutDemographics(
            pb.PutDemographicsRequest(
                tenant_id=tenant, candidate_id=cand, attributes=attrs, caller_scopes=COMPLIANCE
            )
        )
    for cand, job, decision, at in DECISIONS:
        await _decide(rpc, dsn, tenant, cand, job, decision, at)
    await rpc.CreateTemplate(
        pb.CreateTemplateRequest(
            tenant_id=tenant,
            job_id=JOB,
            round=ROUND,
            created_by="hm",
            dimensions=[
                pb.Dimension(key="skill", name="Skill", scale_kind="numeric", scale_min=1, scale_max=5)
            ],
        )
    )
    for cand, score in ONSITE.items():
        booking = f"bk-{cand}"
        await rows(
            dsn,
            """INSERT INTO expected_scorecards (tenant_id, booking_id, interviewer_id, candidate_id, job_id,
                 round, interview_end, status) VALUES ($1, $2, 'ivy', $3, $4, $5, $6, 'due')""",
            tenant,
            booking,
            cand,
            JOB,
            ROUND,
            _at(4, 1),
        )
        await rpc.SubmitScorecard(
            pb.SubmitScorecardRequest(
                tenant_id=tenant,
                scorecard=pb.Scorecard(
                    booking_id=booking,
                    interviewer_id="ivy",
                    ratings=[pb.Rating(dimension="skill", score=score)],
                    recommendation="yes",
                    confidence=3,
                ),
            )
        )
        if cand != "a1":
            await rows(
                dsn,
                "UPDATE scorecards SET submitted_at = $3 WHERE tenant_id = $1 AND booking_id = $2",
                tenant,
                booking,
                _at(4, 2),
            )


async def _seed_tenant_b(rpc, dsn: str, tenant: str) -> None:  # type: ignore[no-untyped-def]
    # the same job and candidate ids, other people and outcomes
    for cand in ("a1", "a2", "a3", "a4"):
        await rpc.PutDemographics(
            pb.PutDemographicsRequest(
                tenant_id=tenant,
                candidate_id=cand,
                attributes={"sex": "female", "race": "black"},
                caller_scopes=COMPLIANCE,
            )
        )
        await _decide(rpc, dsn, tenant, cand, JOB, "hire", _at(7, 1))


@pytest.fixture(scope="module")
async def world(platform) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    dsn = platform.dsns["scorecard"]
    suffix = uuid.uuid4().hex[:8]
    async with grpc.aio.insecure_channel(platform.target("scorecard")) as channel:
        w = World(
            scorecard_pb2_grpc.ScorecardServiceStub(channel), f"tenant-ba-{suffix}", f"tenant-bb-{suffix}"
        )
        await _seed_tenant_a(w.rpc, dsn, w.tenant)
        await _seed_tenant_b(w.rpc, dsn, w.other)
        yield w


def _cats(table: pb.BiasAuditTable) -> dict[str, pb.BiasAuditCategory]:
    return {c.category: c for c in table.categories}


def _counts(table: pb.BiasAuditTable) -> dict[str, tuple[int, int]]:
    return {c.category: (c.selected, c.total) for c in table.categories}


async def test_job_selection_rates_by_sex_race_and_intersection(world: World) -> None:
    report = await world.audit()
    assert report.scope == pb.BIAS_AUDIT_SCOPE_JOB and report.job_id == JOB
    assert report.selection == pb.BIAS_AUDIT_SELECTION_ADVANCED_OR_HIRED
    assert report.requested_period.start.ToDatetime(tzinfo=UTC) == P0
    sel = report.selection_rates
    # in the period, per candidate the latest decision: a1 advance, a2 a3 reject, a4 advance, a5 hire,
    # a6 reject, a7 reject, a9 reject; a8 decided before the period
    assert sel.total == 8
    assert sel.first_at.ToDatetime(tzinfo=UTC) == _at(2, 1)  # a9's reject
    assert sel.last_at.ToDatetime(tzinfo=UTC) == _at(5, 1)  # a5's hire
    # sex: female a1 a2 a3 = 1/3; male a4 a5 a6 a9 = 2/4; a7 unknown
    assert _counts(sel.sex) == {"female": (1, 3), "male": (2, 4)}
    assert (sel.sex.known, sel.sex.unknown, sel.sex.reference) == (7, 1, "male")
    female = _cats(sel.sex)["female"]
    assert female.impact_ratio == pytest.approx(2 / 3) and female.below_four_fifths  # (1/3) / (1/2)
    assert female.share == pytest.approx(3 / 7) and not female.excluded
    # race: asian a1 a6 = 1/2; white a2 a3 a4 a5 a9 = 2/5 -> (2/5) / (1/2) = 4/5 exactly: not flagged
    assert _counts(sel.race) == {"asian": (1, 2), "white": (2, 5)}
    white = _cats(sel.race)["white"]
    assert sel.race.reference == "asian" and white.impact_ratio == pytest.approx(0.8)
    assert not white.below_four_fifths
    # intersection: female / asian 1/1 (reference), female / white 0/2, male / asian 0/1, male / white 2/3
    assert _counts(sel.intersection) == {
        "female / asian": (1, 1),
        "female / white": (0, 2),
        "male / asian": (0, 1),
        "male / white": (2, 3),
    }
    inter = _cats(sel.intersection)
    assert sel.intersection.reference == "female / asian" and sel.intersection.unknown == 1
    assert (
        inter["male / white"].impact_ratio == pytest.approx(2 / 3) and inter["male / white"].below_four_fifths
    )
    assert inter["female / white"].impact_ratio == 0


async def test_hired_only(world: World) -> None:
    sel = (await world.audit(selection=pb.BIAS_AUDIT_SELECTION_HIRED)).selection_rates
    # only a5 was hired in the job
    assert _counts(sel.sex) == {"female": (0, 3), "male": (1, 4)}
    assert _cats(sel.sex)["female"].impact_ratio == 0 and _cats(sel.sex)["female"].below_four_fifths


async def test_round_counts_the_decision_that_followed_it_and_its_scores(world: World) -> None:
    report = await world.audit(scope=pb.BIAS_AUDIT_SCOPE_ROUND, round=ROUND)
    assert report.round == ROUND
    sel = report.selection_rates
    # after the onsite (1 April): a5 hired on 1 May, a6 rejected on 15 April; a1 and a4 have no later decision
    assert sel.total == 2
    assert _counts(sel.race) == {"asian": (0, 1), "white": (1, 1)}
    assert (sel.first_at.ToDatetime(tzinfo=UTC), sel.last_at.ToDatetime(tzinfo=UTC)) == (
        _at(4, 15),
        _at(5, 1),
    )
    # scoring: a4 4, a5 5, a6 2 submitted in the period (a1's scorecard was submitted now): median 4,
    # only a5 is above it
    sc = report.scoring_rates
    assert sc.total == 3 and sc.median_score == 4
    assert _counts(sc.sex) == {"male": (1, 3)}
    assert _counts(sc.race) == {"asian": (0, 1), "white": (1, 2)}
    assert sc.race.reference == "white" and _cats(sc.race)["asian"].impact_ratio == 0
    assert sc.first_at.ToDatetime(tzinfo=UTC) == _at(4, 2) == sc.last_at.ToDatetime(tzinfo=UTC)
    # the job's report has the same scores (every scorecard is in the onsite)
    assert (await world.audit()).scoring_rates.median_score == 4


async def test_tenant_scope_counts_each_job_and_sees_only_its_tenant(world: World) -> None:
    sel = (await world.audit(scope=pb.BIAS_AUDIT_SCOPE_TENANT, job_id="")).selection_rates
    # the job's 8 and a1 hired in the other job
    assert sel.total == 9
    assert _counts(sel.sex) == {"female": (2, 4), "male": (2, 4)}
    assert sel.last_at.ToDatetime(tzinfo=UTC) == _at(6, 1)
    # the other tenant: its four hires only
    other = (
        await world.audit(tenant=world.other, scope=pb.BIAS_AUDIT_SCOPE_TENANT, job_id="")
    ).selection_rates
    assert other.total == 4
    assert _counts(other.intersection) == {"female / black": (4, 4)}
    assert (await world.audit(tenant=world.other)).scoring_rates.total == 0


async def test_an_empty_period_is_an_empty_report(world: World) -> None:
    empty = await world.audit(period=common_pb2.TimeRange(start=ts(_at(1, 1, 2020)), end=ts(_at(2, 1, 2020))))
    assert empty.selection_rates.total == 0 and not empty.selection_rates.HasField("first_at")
    assert math.isnan(empty.scoring_rates.median_score) and not empty.selection_rates.sex.categories


async def test_bad_requests_name_their_fields(world: World) -> None:
    async def violations(**kw) -> dict[str, str]:  # type: ignore[no-untyped-def]
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await world.audit(**kw)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        return dict(field_violations(err.value))

    assert set(await violations(scope=pb.BIAS_AUDIT_SCOPE_UNSPECIFIED, period=None)) == {
        "scope",
        "period.start",
        "period.end",
    }
    four_years = common_pb2.TimeRange(start=ts(P0), end=ts(_at(1, 2, 2028)))
    assert set(await violations(period=four_years)) == {"period"}
    reversed_ = common_pb2.TimeRange(start=ts(P1), end=ts(P0))
    assert set(await violations(period=reversed_)) == {"period.end"}
    assert set(await violations(scope=pb.BIAS_AUDIT_SCOPE_ROUND)) == {"round"}
    assert set(await violations(scope=pb.BIAS_AUDIT_SCOPE_TENANT)) == {"job_id"}
    assert set(await violations(selection=7)) == {"selection"}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await world.audit(caller_scopes=["admin"])
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
