"""kill -9 the consuming service mid-stream of 1,000 events, restart it, and every event is applied
exactly once: the outbox guarantees nothing is lost, the inbox makes redelivery harmless."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop.scheduler.v1 import scheduler_pb2_grpc
from interloop_common.rpc import ts
from interloop_devstack.procs import kill9
from interloop_devstack.testing import ServiceSet

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 1000
TENANT = "crash-tenant"


async def _count(dsn: str, sql: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", TENANT)
        return await conn.fetchval(sql) or 0
    finally:
        await conn.close()


async def test_kill9_consumer_mid_stream_applies_every_event_once(infra, tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = ServiceSet(infra, tmp_path, ("scheduler", "scorecard"))
    await asyncio.to_thread(services.start)
    try:
        async with grpc.aio.insecure_channel(services.target("scheduler")) as ch:
            stub = scheduler_pb2_grpc.SchedulerServiceStub(ch)
            for n in range(50):
                await stub.UpsertInterviewer(
                    pb.UpsertInterviewerRequest(
                        tenant_id=TENANT,
                        interviewer=pb.Interviewer(id=f"i{n}", email=f"i{n}@x.test", time_zone="UTC"),
                    )
                )
            base = datetime(2027, 1, 4, tzinfo=UTC)
            sem = asyncio.Semaphore(16)

            async def book(n: int) -> None:
                start = base + timedelta(hours=n)
                async with sem:
                    await stub.ScheduleInterview(
                        pb.ScheduleInterviewRequest(
                            tenant_id=TENANT,
                            candidate_id=f"c{n}",
                            interviewer_ids=[f"i{n % 50}"],
                            start=ts(start),
                            end=ts(start + timedelta(minutes=45)),
                        )
                    )

            producing = asyncio.gather(*(book(n) for n in range(EVENTS)))

            # Wait until the consumer is mid-stream, then crash it.
            scorecard_dsn = services.dsns["scorecard"]
            deadline = time.monotonic() + 120
            while await _count(scorecard_dsn, "SELECT interviews_seen FROM tenant_activity") < 150:
                assert time.monotonic() < deadline, "consumer never started consuming"
                await asyncio.sleep(0.05)
            kill9(services.procs["scorecard"].proc)
            seen_at_crash = await _count(scorecard_dsn, "SELECT interviews_seen FROM tenant_activity")
            assert seen_at_crash < EVENTS, "the crash must happen mid-stream"

            await producing
            await asyncio.to_thread(services.start, "scorecard")

            deadline = time.monotonic() + 180
            while await _count(scorecard_dsn, "SELECT interviews_seen FROM tenant_activity") < EVENTS:
                assert time.monotonic() < deadline, "events were lost after the restart"
                await asyncio.sleep(0.2)
            await asyncio.sleep(2)  # let any redelivery land before counting

        assert await _count(scorecard_dsn, "SELECT interviews_seen FROM tenant_activity") == EVENTS
        assert await _count(scorecard_dsn, "SELECT count(*) FROM expected_scorecards") == EVENTS
        assert (
            await _count(
                scorecard_dsn, "SELECT count(*) FROM inbox WHERE consumer LIKE '%scorecard.interviews'"
            )
            == EVENTS
        )
        assert (
            await _count(services.dsns["scheduler"], "SELECT count(*) FROM outbox WHERE published_at IS NULL")
            == 0
        )
        assert await _count(scorecard_dsn, "SELECT count(*) FROM dead_letters") == 0
    finally:
        await asyncio.to_thread(services.stop)
