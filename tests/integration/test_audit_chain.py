"""The audit hash chain on a real PostgreSQL: appends racing from several connections still form one chain
per tenant; the serving role may append and read but not rewrite; and a row a superuser edits behind the
service's back is named by `interloop audit verify`, which then exits 1."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest
from interloop_common import audit, db

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-c", "from interloop_cli.main import app; app()", "audit", "verify"]
TENANTS = ("acme", "globex")


@pytest.fixture
def gateway_dsn(infra) -> str:  # type: ignore[no-untyped-def]
    dsn = infra.database(f"audit_{uuid.uuid4().hex[:8]}")
    db.migrate(dsn, "interloop_gateway")
    return dsn


def _superuser(infra, dsn: str) -> str:  # type: ignore[no-untyped-def]
    """The same database as the PostgreSQL superuser, whom neither grants nor row-level security bind."""
    database = dsn.rsplit("/", 1)[1]
    if infra.postgres is not None:
        return f"postgresql://postgres@127.0.0.1:{infra.postgres.port}/{database}"
    return infra.admin_dsn.rsplit("/", 1)[0] + f"/{database}"


def _verify(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        env={**os.environ, "INTERLOOP_GATEWAY_DATABASE_URL": dsn},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _append(conn: asyncpg.Connection, tenant_id: str, **given: object) -> audit.AuditEntry:
    """`audit.append` with every field not `given` set to something plain."""
    plain = {"actor": "system", "action": "x", "target": "", "door": "cli", "remote": "", "status": 0}
    fields = {**plain, "request_id": "", **given}
    return await audit.append(conn, tenant_id=tenant_id, **fields)  # type: ignore[arg-type]


async def _append_concurrently(dsn: str, workers: int, each: int) -> list[audit.AuditEntry]:
    pool = await db.create_pool(dsn, min_size=workers, max_size=workers)
    start = asyncio.Event()

    async def worker(w: int) -> list[audit.AuditEntry]:
        await start.wait()
        made = []
        for i in range(each):
            tenant = TENANTS[(w + i) % len(TENANTS)]
            async with db.tenant_tx(pool, tenant) as conn:
                made.append(
                    await _append(
                        conn,
                        tenant,
                        actor=f"il_w{w}",
                        target=f"candidate/{w}-{i}",
                        door=audit.Door.REST,
                        remote=f"10.1.{w}.{i}",
                        status=200,
                        request_id=f"req-{w}-{i}",
                    )
                )
                await asyncio.sleep(0)  # hold the tenant's lock across a yield: the others must wait
        return made

    try:
        tasks = [asyncio.create_task(worker(w)) for w in range(workers)]
        start.set()
        return [e for made in await asyncio.gather(*tasks) for e in made]
    finally:
        await pool.close()


async def test_racing_appends_form_one_chain_per_tenant_and_a_tampered_row_is_named(
    infra,  # type: ignore[no-untyped-def]
    gateway_dsn: str,
) -> None:
    workers, each = 6, 12
    made = await _append_concurrently(gateway_dsn, workers, each)

    for tenant in TENANTS:
        ids = sorted(e.id for e in made if e.tenant_id == tenant)
        assert ids == list(range(1, len(ids) + 1)), f"{tenant}: positions {ids}"
    conn = await asyncpg.connect(gateway_dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.system', 'on', true)")
            result = await audit.verify(conn)
            stored = await conn.fetch("SELECT tenant_id, id, hash FROM audit_log")
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', 'globex', true)")
            # row-level security: a tenant's transaction sees its own chain only
            only_globex = await audit.verify(conn)
        await conn.executemany(
            "INSERT INTO tenants (id, name) VALUES ($1, $1)", [(t,) for t in (*TENANTS, "initech")]
        )
    finally:
        await conn.close()
    assert result.intact, result.broken
    assert (result.entries, result.tenants) == (workers * each, 2)
    assert {(r["tenant_id"], r["id"], bytes(r["hash"])) for r in stored} == {
        (e.tenant_id, e.id, e.hash) for e in made
    }
    globex = sum(e.tenant_id == "globex" for e in made)
    assert only_globex.intact and (only_globex.entries, only_globex.tenants) == (globex, 1)

    ok = _verify(gateway_dsn)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"audit chain intact: {workers * each} entries across 2 tenants"
    assert _verify(gateway_dsn, "--tenant", "initech").stdout.strip() == (
        "audit chain intact: 0 entries across 0 tenants"
    )

    admin = await asyncpg.connect(_superuser(infra, gateway_dsn))
    try:
        await admin.execute(
            "UPDATE audit_log SET target = 'candidate/forged' WHERE tenant_id = 'globex' AND id = 7"
        )
        await admin.execute("DELETE FROM audit_log WHERE tenant_id = 'acme' AND id = 5")
    finally:
        await admin.close()

    broken = _verify(gateway_dsn)
    assert broken.returncode == 1, broken.stderr
    lines = broken.stdout.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("audit chain broken at tenant 'acme' entry 6: gap (expected entry 5"), lines
    tampered = _verify(gateway_dsn, "--tenant", "globex")
    assert tampered.returncode == 1, tampered.stderr
    assert tampered.stdout.startswith("audit chain broken at tenant 'globex' entry 7: hash mismatch ("), (
        tampered.stdout
    )
    assert "Traceback" not in broken.stderr + tampered.stderr


async def test_the_serving_role_appends_and_reads_but_cannot_rewrite(gateway_dsn: str) -> None:
    pool = await db.create_pool(gateway_dsn, min_size=1, max_size=1)
    try:
        async with db.tenant_tx(pool, "acme") as conn:
            first = await _append(
                conn, "acme", actor="partner-7", door="partner-grpc", remote="ipv4:10.0.0.9:51234"
            )
        async with db.tenant_tx(pool, "globex") as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):  # row-level security's WITH CHECK
                await _append(conn, "acme")
        for statement in (
            "UPDATE audit_log SET status = 500",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            async with db.system_tx(pool) as conn:
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                    await conn.execute(statement)
        async with db.system_tx(pool) as conn:
            rows = await conn.fetch("SELECT id, status, door, remote, hash FROM audit_log")
            assert (await audit.verify(conn, "acme")).entries == 1
    finally:
        await pool.close()
    assert [(r["id"], r["status"], r["door"], r["remote"], bytes(r["hash"])) for r in rows] == [
        (1, 0, "partner-grpc", "ipv4:10.0.0.9:51234", first.hash)
    ]


def test_verify_refuses_bad_input_and_an_unreachable_database_in_one_line(gateway_dsn: str) -> None:
    missing = _verify(gateway_dsn, "--tenant", "nobody")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1, missing.stderr
    assert "no tenant 'nobody'" in missing.stderr
    away = _verify("postgresql://nobody:nobody@127.0.0.1:1/none")
    assert away.returncode == 2 and away.stderr.count("\n") == 1, away.stderr
    assert away.stderr.startswith("interloop audit: cannot reach the gateway database: ")
    garbled = _verify("not-a-url")
    assert garbled.returncode == 2 and garbled.stderr.count("\n") == 1, garbled.stderr
    assert "INTERLOOP_GATEWAY_DATABASE_URL is not usable" in garbled.stderr
    unset = subprocess.run(
        CLI,
        env={k: v for k, v in os.environ.items() if k != "INTERLOOP_GATEWAY_DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unset.returncode == 2 and "set INTERLOOP_GATEWAY_DATABASE_URL" in unset.stderr
