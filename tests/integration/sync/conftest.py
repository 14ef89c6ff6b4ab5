"""Sync integration helpers: the documented Greenhouse hire with fresh ids, the Workday field mapping, a
signed Greenhouse delivery to a sync process and the alerts a tenant's work staged."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
from cryptography.fernet import Fernet
from interloop.events.v1 import ats_pb2, envelope_pb2
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc
from interloop_common import db
from interloop_common.clock import utc_now
from interloop_common.service import Runtime
from interloop_devstack.testing import ServiceSet, rows
from interloop_fakes.ats import GREENHOUSE_HIRE_MAPPING, sign_greenhouse
from interloop_fakes.examples import EXAMPLES
from interloop_sync.settings import SyncSettings
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import context

FIXTURES = EXAMPLES
HIRE_TEMPLATE = json.loads((FIXTURES / "greenhouse" / "f-gh-02-hire_candidate.json").read_text())

WORKDAY_MAPPING = GREENHOUSE_HIRE_MAPPING


def synthetic_hire(n: int, *, salary: int = 80000) -> dict[str, Any]:
    """The documented hire_candidate payload with fresh ids, names and salary for record `n`."""
    body = json.loads(json.dumps(HIRE_TEMPLATE))
    app = body["payload"]["application"]
    app["id"] = 90_000_000 + n
    cand = app["candidate"]
    cand["id"] = 80_000_000 + n
    cand["first_name"], cand["last_name"] = f"Hire{n}", f"Person{n}"
    cand["email_addresses"] = [{"value": f"Hire{n}@Example.com", "type": "personal"}]
    cand["phone_numbers"] = [{"value": f"+1 415 555 {n:04d}", "type": "mobile"}]
    app["offer"]["id"] = 70_000_000 + n
    app["offer"]["custom_fields"]["salary"]["value"]["amount"] = salary + n
    return body


GH_SECRET = "gh-webhook-secret"


async def deliver_greenhouse(
    services: ServiceSet, connection_id: str, body: dict
) -> pb.IngestWebhookResponse:
    """``body`` signed with ``GH_SECRET`` into the sync process of ``services``."""
    hook = sign_greenhouse(json.dumps(body).encode(), GH_SECRET)
    async with grpc.aio.insecure_channel(services.target("sync")) as ch:
        return await sync_pb2_grpc.SyncServiceStub(ch).IngestWebhook(
            pb.IngestWebhookRequest(
                provider="greenhouse", connection_id=connection_id, raw_body=hook.body, headers=hook.headers
            )
        )


async def staged_alerts(dsn: str, tenant: str) -> list[ats_pb2.Alert]:
    """The ``notification.alert`` events the tenant's work staged in sync's outbox."""
    out = []
    for r in await rows(
        dsn, "SELECT envelope FROM outbox WHERE tenant_id = $1 AND event_type = 'notification.alert'", tenant
    ):
        alert = ats_pb2.Alert()
        envelope_pb2.Envelope.FromString(bytes(r["envelope"])).payload.Unpack(alert)
        out.append(alert)
    return out


@contextlib.asynccontextmanager
async def sync_context(infra: Any, *, pool_size: int, **settings: Any) -> AsyncIterator[context.SyncContext]:
    """Sync's use cases in this process over a database of their own (real PostgreSQL, sync's migrations),
    with a pool of ``pool_size`` and a short acquire timeout (a connection held too long fails the test
    instead of stalling it); the local fakes are reachable on loopback; no broker (events stay staged)."""
    dsn = infra.database(f"sync_{uuid.uuid4().hex[:8]}")
    db.migrate(dsn, "interloop_sync")
    pool = await db.create_pool(dsn, min_size=1, max_size=pool_size, acquire_timeout=5)
    values = {
        "automation_retry_initial_seconds": 1,
        "automation_retry_max_seconds": 60,
        "config_cache_seconds": 0,
        **settings,
    }
    config = SyncSettings(
        database_url=dsn,
        credential_keys=Fernet.generate_key().decode(),
        outbound_allow_networks="127.0.0.0/8",
        **values,
    )
    sync = context.of(Runtime(settings=config, pool=pool, producer=None))  # type: ignore[arg-type]
    try:
        yield sync
    finally:
        for client in sync.clients.values():
            await client.aclose()
        await pool.close()


def new_connection(
    tenant: str, provider: str, owner: str, *, base_url: str = "", **fields: Any
) -> Connection:
    """An active connection of ``tenant`` to ``provider`` with a fresh id, credentials not sealed yet."""
    return Connection(
        tenant_id=tenant,
        id=str(uuid.uuid4()),
        provider=provider,
        mode="active",
        owner=owner,
        base_url=base_url,
        credentials=b"",
        created_at=utc_now(),
        **fields,
    )
