"""Session-scoped real infrastructure: one PostgreSQL and one Kafka broker for the whole run, and one
set of the four services; tests isolate themselves by tenant, database and topic prefix."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from interloop_devstack.testing import Infra, Mailbox, ServiceSet, session_infra


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    with session_infra(tmp_path_factory.mktemp("infra")) as i:
        yield i


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """The SMTP server the platform's sync service sends every email to."""
    with Mailbox() as box:
        yield box


@pytest.fixture(scope="session")
def platform(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox
) -> Iterator[ServiceSet]:
    """The four services, started once per session."""
    services = ServiceSet(
        infra, tmp_path_factory.mktemp("platform"), ("scheduler", "scorecard", "sync", "gateway")
    )
    services.procs["sync"].env.update(
        {
            "INTERLOOP_SYNC_SMTP_HOST": "127.0.0.1",
            "INTERLOOP_SYNC_SMTP_PORT": str(mailbox.port),
            "INTERLOOP_SYNC_AUTOMATION_POLL_SECONDS": "0.2",
            # no periodic polling of Harvest / Lever: a test reconciles a connection when it means to
            "INTERLOOP_SYNC_RECONCILE_INTERVAL_SECONDS": "0",
            # no scheduled retention purge: a test purges when it means to
            "INTERLOOP_SYNC_RETENTION_INTERVAL_SECONDS": "0",
        }
    )
    services.procs["scorecard"].env.update(  # overdue scorecards chased every 7.2 s instead of 24 h
        {
            "INTERLOOP_SCORECARD_OVERDUE_POLL_SECONDS": "0.5",
            "INTERLOOP_SCORECARD_OVERDUE_REMINDER_EVERY_HOURS": "0.002",
        }
    )
    services.start("scheduler", "scorecard", "sync")
    services.start("gateway")
    try:
        yield services
    finally:
        services.stop()


@pytest.fixture(scope="session")
def api_key(platform: ServiceSet) -> str:
    """An API key of a tenant created for this session."""
    from interloop_cli.demo import create_api_key

    return asyncio.run(create_api_key(platform.dsns["gateway"], tenant_id="acme", key="il_test_acme_key"))


@pytest.fixture
def tenant_key(platform: ServiceSet):  # type: ignore[no-untyped-def]
    """Makes an API key (for a fresh tenant unless one is named); returns (tenant_id, key)."""
    import uuid

    from interloop_cli.demo import create_api_key

    def make(
        tenant: str | None = None, *, scopes: tuple[str, ...] = ("admin",), interviewer_id: str | None = None
    ) -> tuple[str, str]:
        tenant = tenant or f"tenant-{uuid.uuid4().hex[:10]}"
        key = f"il_{tenant}_{uuid.uuid4().hex[:8]}"
        # Tests may call this from inside their event loop: run the setup on a thread of its own.
        with ThreadPoolExecutor(1) as pool:
            key = pool.submit(
                asyncio.run,
                create_api_key(
                    platform.dsns["gateway"],
                    tenant_id=tenant,
                    key=key,
                    scopes=scopes,
                    interviewer_id=interviewer_id,
                ),
            ).result()
        return tenant, key

    return make
