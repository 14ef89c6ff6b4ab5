"""The retention sweep keeps the shared tables bounded on a real PostgreSQL: old published outbox rows,
inbox ids older than Kafka's retention plus the margin, old replayed dead letters and idempotent calls
older than a day go, in batches; unpublished and quarantined outbox rows, recent inbox ids, open dead
letters and recent idempotent calls stay; parked events go as replayed dead letters do."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import pytest
from interloop_common import db
from interloop_common.retention import Sweep, common_sweeps, sweep
from interloop_common.settings import ServiceSettings


@pytest.fixture
async def pool(infra):  # type: ignore[no-untyped-def]
    name = f"retention_{uuid.uuid4().hex[:8]}"
    dsn = infra.database(name)
    db.migrate(dsn)  # the shared migrations only: outbox, inbox, dead letters
    p = await db.create_pool(dsn, min_size=1, max_size=2)
    yield p
    await p.close()


async def _outbox(conn: asyncpg.Connection, label: str, published: timedelta, quarantined: bool) -> None:
    await conn.execute(
        "INSERT INTO outbox (id, tenant_id, topic, key, event_type, envelope, created_at, published_at,"
        " quarantined_at) VALUES ($1, 't', 'x', $2, 'e', ''::bytea, now() - interval '400 hours',"
        " now() - $3::interval, CASE WHEN $4 THEN now() END)",
        uuid.uuid4(),
        label,
        published,
        quarantined,
    )


async def test_old_rows_go_in_batches_and_what_is_still_needed_stays(pool: asyncpg.Pool) -> None:
    settings = ServiceSettings(
        kafka_retention_hours=100, retention_inbox_margin_hours=10, retention_outbox_hours=48
    )
    async with db.system_tx(pool) as conn:
        for i in range(5):
            await _outbox(conn, f"old-{i}", timedelta(hours=72), False)  # published long ago: swept
        await _outbox(conn, "recent", timedelta(hours=1), False)  # published recently: kept
        await _outbox(conn, "quarantined", timedelta(hours=72), True)  # set aside for a human: kept
        await conn.execute(
            "INSERT INTO outbox (id, tenant_id, topic, key, event_type, envelope, created_at)"
            " VALUES ($1, 't', 'x', 'unpublished', 'e', ''::bytea, now() - interval '900 hours')",
            uuid.uuid4(),
        )  # never published, however old: kept
        for age, label in (
            (timedelta(hours=111), "old"),
            (timedelta(hours=109), "inside-kafka-retention+margin"),
        ):
            await conn.execute(
                "INSERT INTO inbox (consumer, event_id, tenant_id, event_type, processed_at)"
                " VALUES ($1, $2, 't', 'e', now() - $3::interval)",
                label,
                uuid.uuid4(),
                age,
            )
        for replayed, label in ((timedelta(hours=800), "replayed-old"), (None, "open")):
            await conn.execute(
                'INSERT INTO dead_letters (id, tenant_id, consumer, topic, partition, "offset", value,'
                " reason, attempts, failed_at, replayed_at) VALUES ($1, 't', $2, 'x', 0, 0, ''::bytea, 'r',"
                " 5, now() - interval '900 hours', now() - $3::interval)",
                uuid.uuid4(),
                label,
                replayed,
            )

        for age, label in ((timedelta(hours=30), "old"), (timedelta(hours=20), "recent")):
            await conn.execute(
                "INSERT INTO idempotent_calls (tenant_id, method, key, request_digest, created_at)"
                " VALUES ('t', 'CreateThing', $1, ''::bytea, now() - $2::interval)",
                label,
                age,
            )

        for age, label in ((timedelta(hours=721), "parked-old"), (timedelta(hours=700), "parked-recent")):
            await conn.execute(
                "INSERT INTO parked_events (consumer, tenant_id, event_id, event_type, subject, version,"
                " held_version, parked_at) VALUES ($1, 't', $2, 'e', 's', 1, 2, now() - $3::interval)",
                label,
                uuid.uuid4(),
                age,
            )

    deleted = await sweep(pool, common_sweeps(settings), service="test", batch_size=2)

    assert deleted == {"outbox": 5, "inbox": 1, "dead_letters": 1, "parked_events": 1, "idempotent_calls": 1}
    async with db.system_tx(pool) as conn:
        assert sorted(r[0] for r in await conn.fetch("SELECT key FROM outbox")) == [
            "quarantined",
            "recent",
            "unpublished",
        ]
        assert [r[0] for r in await conn.fetch("SELECT consumer FROM inbox")] == [
            "inside-kafka-retention+margin"
        ]
        assert [r[0] for r in await conn.fetch("SELECT consumer FROM dead_letters")] == ["open"]
        assert [r[0] for r in await conn.fetch("SELECT key FROM idempotent_calls")] == ["recent"]
        assert [r[0] for r in await conn.fetch("SELECT consumer FROM parked_events")] == ["parked-recent"]
    assert await sweep(pool, common_sweeps(settings), service="test") == {
        "outbox": 0,
        "inbox": 0,
        "dead_letters": 0,
        "parked_events": 0,
        "idempotent_calls": 0,
    }


async def test_a_service_adds_its_own_table(pool: asyncpg.Pool) -> None:
    async with db.system_tx(pool) as conn:
        await conn.execute("CREATE TABLE deliveries (id int, received_at timestamptz)")
        await conn.execute(
            "INSERT INTO deliveries SELECT g, now() - (g || ' hours')::interval FROM generate_series(1, 30) g"
        )
    deleted = await sweep(
        pool, [Sweep("deliveries", "received_at", timedelta(hours=10.5))], service="test", batch_size=7
    )
    assert deleted == {"deliveries": 20}
    async with db.system_tx(pool) as conn:
        assert await conn.fetchval("SELECT max(id) FROM deliveries") == 10


async def test_the_gateway_forgets_idempotency_keys_after_a_day(infra) -> None:  # type: ignore[no-untyped-def]
    from interloop_gateway.app import sweeps
    from interloop_gateway.settings import GatewaySettings

    dsn = infra.database(f"retention_gw_{uuid.uuid4().hex[:8]}")
    db.migrate(dsn, "interloop_gateway")
    pool = await db.create_pool(dsn, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            for key, age in (("old", timedelta(hours=25)), ("recent", timedelta(hours=1))):
                await conn.execute(
                    "INSERT INTO idempotency_keys (tenant_id, principal, key, method, path, request_hash,"
                    " created_at) VALUES ('t', 'p', $1, 'POST', '/v1/x', ''::bytea, now() - $2::interval)",
                    key,
                    age,
                )
        deleted = await sweep(pool, sweeps(GatewaySettings()), service="gateway")
        assert deleted == {"idempotency_keys": 1}
        async with pool.acquire() as conn:
            assert [r["key"] for r in await conn.fetch("SELECT key FROM idempotency_keys")] == ["recent"]
    finally:
        await pool.close()


async def test_sync_forgets_webhook_delivery_ids_and_quarantined_bodies_after_a_month(infra) -> None:  # type: ignore[no-untyped-def]
    from interloop_sync.app import SPEC

    dsn = infra.database(f"retention_sync_{uuid.uuid4().hex[:8]}")
    db.migrate(dsn, "interloop_sync")
    pool = await db.create_pool(dsn, min_size=1, max_size=2)
    connection = uuid.uuid4()
    try:
        async with db.system_tx(pool) as conn:
            for label, age in (("old", timedelta(days=31)), ("recent", timedelta(days=29))):
                await conn.execute(
                    "INSERT INTO webhook_deliveries (tenant_id, connection_id, delivery_id, received_at)"
                    " VALUES ('t', $1, $2, now() - $3::interval)",
                    connection,
                    label,
                    age,
                )
                await conn.execute(
                    "INSERT INTO quarantine (tenant_id, id, connection_id, reason, raw_body, headers,"
                    " body_sha256, received_at) VALUES ('t', $1, $2, $3, ''::bytea, '{}', $3,"
                    " now() - $4::interval)",
                    uuid.uuid4(),
                    connection,
                    label,
                    age,
                )
        deleted = await sweep(pool, [*common_sweeps(ServiceSettings()), *SPEC.sweeps], service="sync")
        assert deleted["webhook_deliveries"] == 1 and deleted["quarantine"] == 1, deleted
        async with db.system_tx(pool) as conn:
            assert await conn.fetchval("SELECT array_agg(delivery_id) FROM webhook_deliveries") == ["recent"]
            assert await conn.fetchval("SELECT array_agg(reason) FROM quarantine") == ["recent"]
    finally:
        await pool.close()
