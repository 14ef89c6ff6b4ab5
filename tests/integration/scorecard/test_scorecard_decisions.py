"""ListDecisions (the partner API's read of a candidate's hiring decisions) through the scorecard service's
real gRPC server on the session's PostgreSQL: decisions go in with RecordDecision and are moved to chosen
times (three share one timestamp), then are read back newest first, page by page, per job, per tenant."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import grpc
import pytest
from interloop.common.v1 import common_pb2
from interloop.scorecard.v1 import scorecard_pb2 as pb
from interloop.scorecard.v1 import scorecard_pb2_grpc
from interloop_common.rpc import encode_cursor, field_violations
from interloop_devstack.testing import rows
from interloop_scorecard.usecases.erasure import erase_candidate

pytestmark = pytest.mark.integration

CAND, ERASED = "cand-1", "cand-erased"
SAME = datetime(2024, 3, 1, 9, tzinfo=UTC)
# (job, decision, decided_at), recorded in this order: decided_by "hm-<index>" names each one
SEEDS = [
    ("job-a", "advance", datetime(2024, 1, 5, tzinfo=UTC)),
    ("job-b", "advance", SAME),
    ("job-a", "advance", datetime(2024, 2, 1, 8, 30, 0, 123456, tzinfo=UTC)),
    ("job-b", "reject", datetime(2024, 4, 2, tzinfo=UTC)),
    ("job-a", "hire", SAME),
    ("job-b", "advance", datetime(2023, 12, 31, 23, 59, tzinfo=UTC)),
    ("job-a", "reject", SAME),
]


@dataclass
class World:
    rpc: scorecard_pb2_grpc.ScorecardServiceStub
    dsn: str
    tenant: str
    other: str

    async def page(self, tenant: str | None = None, **kw) -> pb.ListDecisionsResponse:  # type: ignore[no-untyped-def]
        token, size = kw.pop("token", ""), kw.pop("size", 0)
        return await self.rpc.ListDecisions(
            pb.ListDecisionsRequest(
                tenant_id=self.tenant if tenant is None else tenant,
                page=common_pb2.PageRequest(page_size=size, page_token=token),
                **{"candidate_id": CAND, **kw},
            )
        )

    async def walk(self, size: int, **kw) -> list[list[str]]:  # type: ignore[no-untyped-def]
        """Every page of size `size`, as lists of decided_by, following the tokens to the end."""
        pages, token = [], ""
        while True:
            got = await self.page(size=size, token=token, **kw)
            pages.append([d.decided_by for d in got.decisions])
            token = got.page.next_page_token
            if not token:
                return pages
            assert len(pages) < 20, "the tokens never end"


async def _decide(w: World, tenant: str, cand: str, job: str, decision: str, by: str, at: datetime) -> None:
    await w.rpc.RecordDecision(
        pb.RecordDecisionRequest(
            tenant_id=tenant,
            candidate_id=cand,
            job_id=job,
            decision=decision,
            decided_by=by,
            reason=f"why {by}",
        )
    )
    await rows(
        w.dsn,
        "UPDATE decisions SET decided_at = $3 WHERE tenant_id = $1 AND decided_by = $2",
        tenant,
        by,
        at,
    )


def _expected(job: str = "") -> list[str]:
    """Newest first; between equal timestamps the later recorded (higher id) first."""
    order = sorted(range(len(SEEDS)), key=lambda i: (SEEDS[i][2], i), reverse=True)
    return [f"hm-{i}" for i in order if job in ("", SEEDS[i][0])]


@pytest.fixture(scope="module")
async def world(platform) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    suffix = uuid.uuid4().hex[:8]
    async with grpc.aio.insecure_channel(platform.target("scorecard")) as channel:
        w = World(
            scorecard_pb2_grpc.ScorecardServiceStub(channel),
            platform.dsns["scorecard"],
            f"tenant-da-{suffix}",
            f"tenant-db-{suffix}",
        )
        for i, (job, decision, at) in enumerate(SEEDS):
            await _decide(w, w.tenant, CAND, job, decision, f"hm-{i}", at)
        await _decide(w, w.tenant, "cand-2", "job-a", "hire", "hm-cand-2", SAME)
        await _decide(w, w.tenant, ERASED, "job-a", "reject", "hm-erased", SAME)
        # the other tenant: the same candidate and job ids
        await _decide(w, w.other, CAND, "job-a", "reject", "other-0", SAME)
        await _decide(w, w.other, CAND, "job-b", "hire", "other-1", datetime(2025, 1, 1, tzinfo=UTC))
        yield w


async def test_newest_first_with_every_field(world: World) -> None:
    got = (await world.page()).decisions
    assert [d.decided_by for d in got] == _expected()
    assert (await world.page()).page.next_page_token == ""
    seeds = {f"hm-{i}": s for i, s in enumerate(SEEDS)}
    for d in got:
        job, decision, at = seeds[d.decided_by]
        assert (d.candidate_id, d.job_id, d.decision, d.reason) == (
            CAND,
            job,
            decision,
            f"why {d.decided_by}",
        )
        assert d.decided_at.ToDatetime(tzinfo=UTC) == at  # microseconds survive


@pytest.mark.parametrize("size", [1, 2, 3, 6, 7])
async def test_pages_cover_every_decision_once_in_order(world: World, size: int) -> None:
    pages = await world.walk(size)
    assert all(len(p) == size for p in pages[:-1]) and 0 < len(pages[-1]) <= size
    assert [by for p in pages for by in p] == _expected()


async def test_a_decision_recorded_between_pages_does_not_shift_the_next_page(world: World) -> None:
    first = await world.page(size=2, job_id="job-b")  # job-b has three: one is left for the next page
    assert first.page.next_page_token
    # a newer decision arrives (stamped now) while the caller is paging
    await world.rpc.RecordDecision(
        pb.RecordDecisionRequest(
            tenant_id=world.tenant, candidate_id=CAND, job_id="job-b", decision="hire", decided_by="late"
        )
    )
    try:
        rest = await world.page(size=2, job_id="job-b", token=first.page.next_page_token)
        seen = [d.decided_by for d in first.decisions] + [d.decided_by for d in rest.decisions]
        assert seen == _expected("job-b") and rest.page.next_page_token == ""
        assert (await world.page(job_id="job-b")).decisions[0].decided_by == "late"
    finally:
        await rows(
            world.dsn, "DELETE FROM decisions WHERE tenant_id = $1 AND decided_by = 'late'", world.tenant
        )


@pytest.mark.parametrize("job", ["job-a", "job-b"])
async def test_job_filter(world: World, job: str) -> None:
    assert [by for p in await world.walk(2, job_id=job) for by in p] == _expected(job)
    assert not (await world.page(job_id="job-none")).decisions


async def test_tenants_see_only_their_own_decisions(world: World) -> None:
    assert [d.decided_by for d in (await world.page(world.other)).decisions] == ["other-1", "other-0"]
    assert not {"other-0", "other-1"} & {d.decided_by for d in (await world.page()).decisions}
    assert not (await world.page(f"tenant-none-{uuid.uuid4().hex[:8]}")).decisions
    # a token from one tenant's pages reads nothing of the other's
    token = (await world.page(size=1)).page.next_page_token
    later = await world.page(world.other, token=token)
    assert {d.decided_by for d in later.decisions} <= {"other-0", "other-1"}


async def test_an_erased_candidate_keeps_decisions_without_reasons(world: World) -> None:
    before = (await world.page(candidate_id=ERASED)).decisions
    assert [(d.decision, d.reason) for d in before] == [("reject", "why hm-erased")]
    # what the ats.candidate.erased consumer does, inside a tenant transaction
    conn = await asyncpg.connect(world.dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", world.tenant)
            await erase_candidate(conn, world.tenant, ERASED, fields=["name"], deleted=False)
    finally:
        await conn.close()
    after = (await world.page(candidate_id=ERASED)).decisions
    assert [(d.decision, d.decided_by, d.reason) for d in after] == [("reject", "hm-erased", "")]
    assert all(d.reason for d in (await world.page()).decisions)  # other candidates untouched


async def test_bad_requests_name_their_fields(world: World) -> None:
    async def violations(tenant: str | None = None, **kw) -> set[str]:  # type: ignore[no-untyped-def]
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await world.page(tenant, **kw)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        return {f for f, _ in field_violations(err.value)}

    assert await violations(candidate_id="") == {"candidate_id"}
    assert await violations("") == {"tenant_id"}
    assert await violations(size=-1) == {"page.page_size"}
    for token in ("a", encode_cursor("not-a-cursor"), encode_cursor("2024-01-01T00:00:00/3")):
        assert await violations(token=token) == {"page.page_token"}, token
    assert await violations(token=encode_cursor(f"{SAME.isoformat()}/0")) == {"page.page_token"}
