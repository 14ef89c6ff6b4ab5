"""Reconciliation, one connection at a time and within budgets (issue 14, item 6), on real PostgreSQL with
sync's migrations and use cases and fake Greenhouse Harvest servers (v1 page/per_page paging with RFC 8288
``Link`` headers): a connection whose credentials no key opens is recorded and alerted once while the
others reconcile; a run longer than a round's page budget stops with its cursor stored and resumes from it
next round; a Harvest whose ``rel="next"`` never ends is cut off, recorded and alerted instead of paged
forever."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest
from interloop_common import db
from interloop_fakes.ats import FakeGreenhouse
from interloop_sync.store import connections as connections_store
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import connections, context, reconcile

from .conftest import GH_SECRET, new_connection, staged_alerts, sync_context

pytestmark = pytest.mark.integration

PAGES = 3  # seeded applications fill three Harvest pages of 100


class EndlessGreenhouse(FakeGreenhouse):
    """A faulty Harvest: every page, the last one and those after it too, links a next page."""

    def _list_v1(self, request, resource, since_param, since_field):  # type: ignore[no-untyped-def]
        response = super()._list_v1(request, resource, since_param, since_field)
        q = request.query_params
        page, per_page = int(q.get("page", 1)), int(q.get("per_page", 100))
        extra = {k: v for k, v in q.items() if k not in ("page", "per_page")}
        nxt = urlencode({**extra, "page": page + 1, "per_page": per_page})
        response.headers["Link"] = f'<{self.base_url}/v1/{resource}?{nxt}>; rel="next"'
        return response


@pytest.fixture
def greenhouse() -> Iterator[FakeGreenhouse]:
    with FakeGreenhouse() as fake:
        fake.seed_candidates(250)
        yield fake


@pytest.fixture
def endless() -> Iterator[FakeGreenhouse]:
    with EndlessGreenhouse() as fake:
        fake.seed_candidates(3)
        yield fake


@pytest.fixture
async def ctx(infra) -> AsyncIterator[context.SyncContext]:  # type: ignore[no-untyped-def]
    async with sync_context(infra, pool_size=4, reconcile_page_budget=1, reconcile_max_run_pages=4) as sync:
        yield sync


async def _harvest(ctx: context.SyncContext, tenant: str, fake: FakeGreenhouse, owner: str) -> Connection:
    return await connections.create_connection(
        ctx,
        new_connection(tenant, "greenhouse", owner, base_url=fake.base_url),
        {"webhook_secret": GH_SECRET, "api_key": fake.api_key},
    )


async def _undecryptable(ctx: context.SyncContext, tenant: str) -> Connection:
    """A connection sealed under a key this service no longer has (a rotation that dropped it too early)."""
    lost = replace(
        new_connection(tenant, "greenhouse", "lost-keys@acme.test"),
        credentials=b"gAAAAAsealed-under-a-key-that-is-gone",
    )
    async with db.tenant_tx(ctx.pool, tenant) as conn:
        return await connections_store.insert(conn, lost)


async def _fetch(ctx: context.SyncContext, sql: str, *args: Any) -> list[Any]:
    async with db.system_tx(ctx.pool) as conn:
        return await conn.fetch(sql, *args)


async def _alerts(ctx: context.SyncContext, tenant: str) -> list[str]:
    """The connections the tenant's staged alerts are about, sorted (one entry per alert)."""
    staged = await staged_alerts(ctx.settings.database_url.get_secret_value(), tenant)
    return sorted(f"connection/{a.connection_id}" for a in staged)


async def _cursor(ctx: context.SyncContext, c: Connection) -> Any:
    rows = await _fetch(
        ctx,
        "SELECT page_cursor, run_pages, updated_after, last_error FROM sync_cursors WHERE connection_id = $1",
        uuid.UUID(c.id),
    )
    return rows[0] if rows else None


async def test_one_broken_connection_is_isolated_and_budgets_resume_from_the_stored_cursor(
    ctx, greenhouse, endless
) -> None:  # type: ignore[no-untyped-def]
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    broken = await _undecryptable(ctx, tenant)
    good = await _harvest(ctx, tenant, greenhouse, "ats-owner@acme.test")
    faulty = await _harvest(ctx, tenant, endless, "faulty-owner@acme.test")

    # Round 1: the broken connection fails on its own (recorded, alerted); the others read one page each.
    assert await reconcile.reconcile_all(ctx) == 1
    error = (await _cursor(ctx, broken))["last_error"]
    assert error.startswith("CredentialError") and "sealed" not in error
    assert await _alerts(ctx, tenant) == [f"connection/{broken.id}"]
    first = await _cursor(ctx, good)
    assert first["page_cursor"] and first["run_pages"] == 1 and first["updated_after"] is None
    applications = await _fetch(ctx, "SELECT count(*) FROM applications WHERE tenant_id = $1", tenant)
    assert applications[0][0] == 100 + 3  # a page of each

    # Rounds 2 and 3: the good run resumes where it stopped and finishes; the broken one is not alerted
    # again for the same cause.
    for _ in range(PAGES - 1):
        assert await reconcile.reconcile_all(ctx) == 1
    done = await _cursor(ctx, good)
    assert done["page_cursor"] is None and done["updated_after"] is not None and done["last_error"] is None
    applications = await _fetch(
        ctx,
        "SELECT count(*) FROM applications WHERE tenant_id = $1 AND connection_id = $2",
        tenant,
        uuid.UUID(good.id),
    )
    assert applications[0][0] == 250
    pages_read = [r for r in greenhouse.requests if r.path == "/v1/applications"]
    assert len(pages_read) == PAGES  # each page read once: resumed, never restarted
    assert await _alerts(ctx, tenant) == [f"connection/{broken.id}"]

    # Round 4: the endless Harvest has now had four pages in one run: cut off, recorded, alerted, and its
    # next run starts over from its watermark instead of paging on.
    assert await reconcile.reconcile_all(ctx) == 2
    cut = await _cursor(ctx, faulty)
    assert cut["page_cursor"] is None and cut["run_pages"] == 0 and "RunCutOff" in cut["last_error"]
    assert await _alerts(ctx, tenant) == sorted([f"connection/{broken.id}", f"connection/{faulty.id}"])
    partial = await _fetch(
        ctx,
        "SELECT count(*) FROM sync_operations WHERE tenant_id = $1 AND connection_id = $2"
        " AND outcome = 'partial'",
        tenant,
        uuid.UUID(good.id),
    )
    assert partial[0][0] == PAGES - 1
