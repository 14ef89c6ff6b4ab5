"""No transaction waits on the network (issue 14, item 2), on real PostgreSQL with sync's migrations and use
cases and a fake Workday speaking its wire format: the HRIS consumer's handler only plans the hire (in the
inbox transaction), the automation worker claims it and commits, calls Workday with no connection held, and
records the outcome in a new transaction. With a pool of two, a stalled Workday leaves both connections free
for other events and RPCs; a Retry-After becomes a due time, not a sleep; Workday down for a while is waited
out (never failed or dead-lettered as poison), and so is Workday refusing connections, and the hire is
written once when it answers again; a call that outlasts the lease has its lease moved on, so no other
round claims it meanwhile."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from interloop_common import db, retention
from interloop_common.clock import utc_now
from interloop_common.events import decode
from interloop_devstack.testing import eventually
from interloop_fakes.ats import GREENHOUSE_HIRE_MAPPING, FakeWorkday, sign_greenhouse
from interloop_fakes.ats.workday import VALIDATION
from interloop_sync.events.consumers import consumers
from interloop_sync.store import automations as actions_store
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import automations, connections, context, inbound, scheduling

from .conftest import GH_SECRET, new_connection, sync_context, synthetic_hire

pytestmark = pytest.mark.integration

OWNER = "hris-owner@acme.test"


class GatedWorkday(FakeWorkday):
    """Workday whose SOAP calls (every one a POST) wait at a gate the test opens: a vendor that stalls."""

    def __init__(self) -> None:
        super().__init__()
        self.gate, self.arrived = threading.Event(), threading.Event()
        self.gate.set()
        self.stalled = 0  # hire requests that waited at the closed gate

    async def _before(self, request):  # type: ignore[no-untyped-def]
        if request.method == "POST" and not self.gate.is_set():
            self.stalled += 1
            self.arrived.set()
            await asyncio.to_thread(self.gate.wait, 60)
        return await super()._before(request)


@pytest.fixture
def workday() -> Any:
    with GatedWorkday() as fake:
        yield fake


@pytest.fixture
async def ctx(infra) -> AsyncIterator[context.SyncContext]:  # type: ignore[no-untyped-def]
    # Two connections in all: one held across a vendor call would make a second acquire fail
    async with sync_context(infra, pool_size=2) as sync:
        yield sync


async def _connect(ctx: context.SyncContext, workday: FakeWorkday) -> tuple[str, Connection]:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    hris = await connections.create_connection(
        ctx,
        new_connection(
            tenant,
            "workday",
            OWNER,
            base_url=workday.base_url,
            field_mapping=GREENHOUSE_HIRE_MAPPING,
            settings={"tenant": workday.tenant},
        ),
        workday.credentials,
    )
    ats = new_connection(tenant, "greenhouse", "ats-owner@acme.test", hris_connection_id=hris.id)
    return tenant, await connections.create_connection(ctx, ats, {"webhook_secret": GH_SECRET})


async def _hired(ctx: context.SyncContext, tenant: str, ats: Connection, n: int) -> None:
    """Greenhouse's documented hire webhook through the real ingest, then its staged
    ``ats.application.hired`` through the HRIS consumer's handler in an inbox-style transaction."""
    hook = sign_greenhouse(json.dumps(synthetic_hire(n)).encode(), GH_SECRET)
    await inbound.ingest(
        ctx.pool,
        ctx.vault,
        provider="greenhouse",
        connection_id=ats.id,
        raw=hook.body,
        headers=hook.headers,
        freshness=timedelta(minutes=5),
        cache=ctx.cache,
        ctx=ctx,
    )
    async with db.tenant_tx(ctx.pool, tenant) as conn:
        envelopes = await conn.fetch(
            "SELECT envelope FROM outbox WHERE tenant_id = $1 AND event_type = 'ats.application.hired'",
            tenant,
        )
    (spec,) = [c for c in consumers(ctx) if c.group == "sync.hris"]
    for row in envelopes:
        event = decode(bytes(row["envelope"]))
        for _ in range(2):  # delivered twice: one action, one write
            async with db.tenant_tx(ctx.pool, tenant) as conn:
                await spec.handlers["ats.application.hired"](conn, event)


async def _one(ctx: context.SyncContext, sql: str, *args: Any) -> Any:
    async with db.system_tx(ctx.pool) as conn:
        return await conn.fetchrow(sql, *args)


async def _hire_action(ctx: context.SyncContext, tenant: str) -> Any:
    return await _one(
        ctx,
        "SELECT status, attempts, due_at, claimed_until, last_error, context FROM automation_actions "
        "WHERE tenant_id = $1 AND kind = 'hris_hire'",
        tenant,
    )


async def _count(ctx: context.SyncContext, sql: str, *args: Any) -> int:
    row = await _one(ctx, sql, *args)
    return int(row[0])


async def test_a_stalled_hris_holds_no_connection_and_the_hire_is_written_once(ctx, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats = await _connect(ctx, workday)
    await _hired(ctx, tenant, ats, 1)
    assert workday.requests == []  # the handler planned the hire; it called nobody
    assert (await _hire_action(ctx, tenant))["status"] == "pending"

    workday.gate.clear()
    worker = asyncio.create_task(automations.run_due(ctx))
    try:
        assert await asyncio.to_thread(workday.arrived.wait, 30), "the worker never reached Workday"
        # Workday is answering nobody. The worker committed its claim (the lease is visible from outside)
        # and holds no connection: both of the pool's two are free at once, for anything else.
        async with db.acquire(ctx.pool) as held, db.system_tx(ctx.pool) as conn:
            claimed = await conn.fetchval(
                "SELECT claimed_until FROM automation_actions WHERE tenant_id = $1 AND kind = 'hris_hire'",
                tenant,
            )
            assert claimed is not None
            assert await held.fetchval("SELECT 1") == 1
        # Another event meanwhile (a scheduling link to plan) and an RPC's query both get their connection.
        link = str(uuid.uuid4())
        async with db.tenant_tx(ctx.pool, tenant) as conn:
            await scheduling.plan_link_email(conn, _link_event(tenant, link))
        listed = await connections.list_connections(ctx.pool, tenant, after="", limit=10)
        assert len(listed.items) == 2
        planned = await _count(
            ctx,
            "SELECT count(*) FROM automation_actions WHERE tenant_id = $1 AND kind = 'send_scheduling_link'",
            tenant,
        )
        assert planned == 1
        # A second worker round meanwhile finds the hire leased: it does not call Workday again.
        await automations.run_due(ctx)
        assert workday.stalled == 1
    finally:
        workday.gate.set()
        await worker

    sync = await _one(ctx, "SELECT status, remote_id FROM hris_syncs WHERE tenant_id = $1", tenant)
    assert sync["status"] == "verified" and sync["remote_id"]
    action = await _hire_action(ctx, tenant)
    assert action["status"] == "done" and action["claimed_until"] is None
    assert "hire" not in json.loads(action["context"])  # the source document is not kept once written
    await automations.run_due(ctx, utc_now() + timedelta(hours=1))
    assert len(workday.hires) == 1 and len(workday.workers) == 1
    synced = await _count(
        ctx,
        "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND event_type = 'hris.employee.synced'",
        tenant,
    )
    assert synced == 1


async def test_a_retry_after_is_a_due_time_not_a_sleep_in_a_transaction(ctx, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats = await _connect(ctx, workday)
    await _hired(ctx, tenant, ats, 2)
    workday.rate_limit_next(1, retry_after=30)
    before = utc_now()
    assert await automations.run_due(ctx) == 1  # the round ends; nobody sleeps the 30 s
    action = await _hire_action(ctx, tenant)
    assert action["status"] == "pending" and action["attempts"] == 1 and action["claimed_until"] is None
    assert action["due_at"] >= before + timedelta(seconds=30)
    assert "rate_limited" in action["last_error"]
    assert await automations.run_due(ctx) == 0  # not due yet
    assert workday.writes == []

    assert await automations.run_due(ctx, action["due_at"] + timedelta(seconds=1)) == 1
    assert (await _hire_action(ctx, tenant))["status"] == "done"
    assert len(workday.hires) == 1


async def test_workday_down_for_a_while_is_waited_out_and_the_hire_written_once(ctx, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats = await _connect(ctx, workday)
    await _hired(ctx, tenant, ats, 3)
    workday.set_down(True)  # 503 to everything
    later: datetime = utc_now()
    for _ in range(2 * automations.MAX_ATTEMPTS):  # far more attempts than any other action gets
        action = await _hire_action(ctx, tenant)
        later = max(later, action["due_at"]) + timedelta(seconds=1)
        assert await automations.run_due(ctx, later) == 1
    action = await _hire_action(ctx, tenant)
    assert action["status"] == "pending" and action["attempts"] == 2 * automations.MAX_ATTEMPTS
    assert "HTTP 503" in action["last_error"]
    assert workday.writes == []
    # Loud, once: the HRIS owner hears that it is still being retried; nothing was dead-lettered.
    alerts = await _count(
        ctx, "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND event_type = 'notification.alert'", tenant
    )
    assert alerts == 1
    assert await _count(ctx, "SELECT count(*) FROM dead_letters WHERE tenant_id = $1", tenant) == 0
    failed = await _count(
        ctx,
        "SELECT count(*) FROM hris_syncs WHERE tenant_id = $1 AND status IN ('failed', 'ambiguous')",
        tenant,
    )
    assert failed == 0

    workday.set_down(False)
    assert await automations.run_due(ctx, action["due_at"] + timedelta(seconds=1)) == 1
    assert (await _hire_action(ctx, tenant))["status"] == "done"
    sync = await _one(ctx, "SELECT status FROM hris_syncs WHERE tenant_id = $1", tenant)
    assert sync["status"] == "verified"
    assert len(workday.hires) == 1 and len(workday.workers) == 1


async def test_a_refusal_fails_the_hire_at_once_and_alerts_the_owner(ctx, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats = await _connect(ctx, workday)
    await _hired(ctx, tenant, ats, 4)
    workday.set_down(True, status=500, fault=VALIDATION)  # a Validation_Fault on HTTP 500
    assert await automations.run_due(ctx) == 1
    action = await _hire_action(ctx, tenant)
    assert action["status"] == "failed" and action["attempts"] == 1
    assert "validation_failed (HTTP 500)" in action["last_error"]
    alerts = await _count(
        ctx, "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND event_type = 'notification.alert'", tenant
    )
    assert alerts == 1
    assert await automations.run_due(ctx, utc_now() + timedelta(hours=1)) == 0  # not retried


def _link_event(tenant: str, link_id: str):  # type: ignore[no-untyped-def]
    from interloop.events.v1 import interview_pb2
    from interloop_common.events import new_event

    return new_event(
        type="interview.scheduling_requested",
        source="//interloop/scheduler",
        tenant_id=tenant,
        subject=f"link/{link_id}",
        payload=interview_pb2.InterviewSchedulingRequested(
            link_id=link_id, candidate_email="cand@example.com", url=f"https://x.test/schedule/{link_id}"
        ),
    )


async def test_workday_refusing_connections_is_waited_out_and_the_hire_written_once(ctx, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats = await _connect(ctx, workday)
    await _hired(ctx, tenant, ats, 5)
    with socket.socket() as s:  # a port nobody listens on: every connection is refused
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    await _point_workday_at(ctx, tenant, closed)
    later = utc_now()
    for _ in range(automations.MAX_ATTEMPTS + 1):
        action = await _hire_action(ctx, tenant)
        later = max(later, action["due_at"]) + timedelta(seconds=1)
        assert await automations.run_due(ctx, later) == 1
    action = await _hire_action(ctx, tenant)
    assert action["status"] == "pending" and "ConnectError" in action["last_error"]
    assert await _count(ctx, "SELECT count(*) FROM dead_letters WHERE tenant_id = $1", tenant) == 0

    await _point_workday_at(ctx, tenant, workday.base_url)  # reachable again
    assert await automations.run_due(ctx, action["due_at"] + timedelta(seconds=1)) == 1
    assert (await _hire_action(ctx, tenant))["status"] == "done"
    assert len(workday.hires) == 1 and len(workday.workers) == 1


async def _point_workday_at(ctx: context.SyncContext, tenant: str, base_url: str) -> None:
    async with db.tenant_tx(ctx.pool, tenant) as conn:
        await conn.execute(
            "UPDATE connections SET base_url = $2 WHERE tenant_id = $1 AND provider = 'workday'",
            tenant,
            base_url,
        )


async def test_a_call_longer_than_the_lease_keeps_its_lease_and_runs_once(infra, workday) -> None:  # type: ignore[no-untyped-def]
    async with sync_context(infra, pool_size=2, automation_lease_seconds=3) as ctx:
        tenant, ats = await _connect(ctx, workday)
        await _hired(ctx, tenant, ats, 6)
        workday.gate.clear()
        worker = asyncio.create_task(automations.run_due(ctx))
        try:
            assert await asyncio.to_thread(workday.arrived.wait, 30), "the worker never reached Workday"
            first = (await _hire_action(ctx, tenant))["claimed_until"]

            async def moved_on() -> Any:
                claimed = (await _hire_action(ctx, tenant))["claimed_until"]
                return claimed if claimed > first else None

            renewed = await eventually(moved_on, within=30, what="the lease moved on during the call")
            # A round after the first lease lapsed (and before the renewed one does) claims nothing.
            assert await automations.run_due(ctx, first + (renewed - first) / 2) == 0
            assert workday.stalled == 1
        finally:
            workday.gate.set()
            await worker
        assert (await _hire_action(ctx, tenant))["status"] == "done"
        assert len(workday.hires) == 1


async def test_finished_hand_offs_are_swept_and_their_record_stays(ctx, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats = await _connect(ctx, workday)
    await _hired(ctx, tenant, ats, 7)
    link = str(uuid.uuid4())
    async with db.tenant_tx(ctx.pool, tenant) as conn:
        await scheduling.plan_link_email(conn, _link_event(tenant, link))
    assert await automations.run_due(ctx) == 2  # the hire written; the email fails (no SMTP here)
    async with db.system_tx(ctx.pool) as conn:  # a month and a day later
        await conn.execute(
            "UPDATE automation_actions SET done_at = now() - interval '31 days', status = 'done'"
            " WHERE tenant_id = $1",
            tenant,
        )
    swept = await retention.sweep(ctx.pool, [actions_store.FINISHED_CALLS], service="sync")
    assert swept == {"automation_actions": 1}
    kinds = await _one(
        ctx, "SELECT array_agg(kind) AS k FROM automation_actions WHERE tenant_id = $1", tenant
    )
    assert kinds["k"] == ["send_scheduling_link"]  # what sent something stays
    assert await _count(ctx, "SELECT count(*) FROM hris_syncs WHERE tenant_id = $1", tenant) == 1


async def test_a_stalled_vendor_holds_only_its_own_slot_and_the_worker_goes_on(infra, workday) -> None:  # type: ignore[no-untyped-def]
    """The worker's rounds do not wait for each other: while one tenant's Workday stalls mid-call, another
    tenant's hire (planned after the stall began) is written; then the stalled one is, each once."""
    async with sync_context(infra, pool_size=4) as ctx:
        stalled, stalled_ats = await _connect(ctx, workday)
        with FakeWorkday() as healthy:
            other, other_ats = await _connect(ctx, healthy)
            await _hired(ctx, stalled, stalled_ats, 1)
            workday.gate.clear()
            running = asyncio.create_task(automations.worker(ctx))
            try:
                assert await asyncio.to_thread(workday.arrived.wait, 30), "the worker never reached Workday"
                await _hired(ctx, other, other_ats, 2)

                async def done(tenant: str) -> bool:
                    return (await _hire_action(ctx, tenant))["status"] == "done"

                await eventually(lambda: done(other), what="the other tenant's hire while the first stalls")
                # ... while the first call is still in flight: not timed out, not recorded as an attempt
                first = await _hire_action(ctx, stalled)
                seen = (first["status"], first["attempts"], first["last_error"])
                assert seen == ("pending", 0, None), first
                assert workday.stalled == 1
                assert len(healthy.hires) == 1
                workday.gate.set()
                await eventually(lambda: done(stalled), what="the stalled hire once Workday answers")
                assert len(workday.hires) == 1 and len(healthy.hires) == 1
            finally:
                workday.gate.set()
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
