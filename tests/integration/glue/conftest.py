"""Glue between the services, end to end: the four services on a process set of their own (real PostgreSQL
and Kafka), a local SMTP server for sync's emails, a tenant with an API key and a Greenhouse connection."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from interloop_devstack.procs import free_port
from interloop_devstack.testing import ServiceSet
from interloop_fakes.ats import sign_greenhouse
from interloop_fakes.examples import EXAMPLES

FIXTURES = EXAMPLES / "greenhouse"
GH_SECRET = "glue-greenhouse-secret"  # noqa: S105 - a test secret
ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list = []
        self.port = free_port()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [
            message_from_bytes(m.content, policy=default)  # type: ignore[misc]
            for m in self.messages
            if address.lower() in [r.lower() for r in m.rcpt_tos]
        ]


@pytest.fixture(scope="package")
def smtp() -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture(scope="package")
def glue(infra, tmp_path_factory, smtp) -> Iterator[ServiceSet]:  # type: ignore[no-untyped-def]
    services = ServiceSet(
        infra, tmp_path_factory.mktemp("glue"), ("scheduler", "scorecard", "sync", "gateway")
    )
    for svc in ("scheduler", "scorecard", "sync"):
        services.procs[svc].env.update(
            {
                f"INTERLOOP_{svc.upper()}_CONSUMER_MAX_ATTEMPTS": "3",
                f"INTERLOOP_{svc.upper()}_CONSUMER_BACKOFF_INITIAL_SECONDS": "0.05",
                f"INTERLOOP_{svc.upper()}_CONSUMER_BACKOFF_MAX_SECONDS": "0.2",
            }
        )
    services.procs["sync"].env.update(
        {
            "INTERLOOP_SYNC_SMTP_HOST": "127.0.0.1",
            "INTERLOOP_SYNC_SMTP_PORT": str(smtp.port),
            "INTERLOOP_SYNC_AUTOMATION_POLL_SECONDS": "0.2",
            "INTERLOOP_SYNC_RECONCILE_INTERVAL_SECONDS": "0",
        }
    )
    services.start("scheduler", "scorecard", "sync")
    services.start("gateway")
    try:
        yield services
    finally:
        services.stop()


@dataclass
class Tenant:
    id: str
    key: str
    http: httpx.AsyncClient  # the tenant's API key
    public: httpx.AsyncClient  # no key: the candidate, the vendor
    glue: ServiceSet
    connection_id: str

    async def webhook(self, body: dict[str, Any]) -> httpx.Response:
        hook = sign_greenhouse(json.dumps(body).encode(), GH_SECRET)
        return await self.public.post(
            f"/webhooks/greenhouse/{self.connection_id}", content=hook.body, headers=hook.headers
        )

    async def rows(self, svc: str, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.glue.dsns[svc])
        try:
            await conn.execute("SELECT set_config('app.system', 'on', false)")
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()


@pytest.fixture
async def tenant(glue) -> AsyncIterator[Tenant]:  # type: ignore[no-untyped-def]
    from interloop_cli.demo import create_api_key

    tenant_id = f"glue-{uuid.uuid4().hex[:8]}"
    key = await create_api_key(
        glue.dsns["gateway"], tenant_id=tenant_id, key=f"il_{tenant_id}_key", scopes=("admin",)
    )
    async with (
        httpx.AsyncClient(
            base_url=glue.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http,
        httpx.AsyncClient(base_url=glue.base_url, timeout=30) as public,
    ):
        r = await http.post(
            "/v1/connections",
            json={
                "provider": "greenhouse",
                "owner": "ats-owner@glue.test",
                "name": "Greenhouse",
                "credentials": {"webhook_secret": GH_SECRET},
                "stage_policy": {"keywords": ["interview", "assessment"]},
            },
        )
        assert r.status_code == 201, r.text
        yield Tenant(tenant_id, key, http, public, glue, r.json()["id"])


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def stage_change(n: int, *, stage: str = "Assessment", job_id: int = 3485) -> tuple[dict[str, Any], str, str]:
    """The documented candidate_stage_change with fresh ids; returns (body, candidate id, email)."""
    body = fixture("f-gh-01-candidate_stage_change.json")
    app = body["payload"]["application"]
    app["id"] = 60_000_000 + n
    app["current_stage"]["id"] = 70_000 + n
    app["current_stage"]["name"] = stage
    app["jobs"][0]["id"] = job_id
    cand = app["candidate"]
    cand["id"] = 50_000_000 + n
    cand["first_name"], cand["last_name"] = f"Cand{n}", f"Glue{n}"
    email = f"cand{n}@glue.test"
    cand["email_addresses"] = [{"value": email, "type": "personal"}]
    return body, str(cand["id"]), email


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 30, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.2)
