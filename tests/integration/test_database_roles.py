"""A service never serves with a database role that row-level security does not bind: a superuser or a
BYPASSRLS role is refused before anything is migrated or served, in one line and a non-zero exit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest
from interloop_common import db


def _as(dsn: str, user: str) -> str:
    """`dsn` with another login (the test server trusts local logins, or the role's password is its name)."""
    rest = dsn.split("@", 1)[1]
    return f"postgresql://{user}:{user}@{rest}"


def _superuser_dsn(infra, database: str) -> str:  # type: ignore[no-untyped-def]
    if infra.postgres is not None:
        return f"postgresql://postgres@127.0.0.1:{infra.postgres.port}/{database}"
    return infra.admin_dsn.rsplit("/", 1)[0] + f"/{database}"


async def _refused(dsn: str) -> str | None:
    pool = await db.create_pool(dsn, min_size=1, max_size=1)
    try:
        await db.refuse_privileged(pool)
        return None
    except db.PrivilegedRole as exc:
        return str(exc)
    finally:
        await pool.close()


async def test_only_a_role_bound_by_row_level_security_may_serve(infra) -> None:  # type: ignore[no-untyped-def]
    name = f"roles_{uuid.uuid4().hex[:8]}"
    service_dsn = infra.database(name)
    assert await _refused(service_dsn) is None  # the role the dev stack and the chart's docs give

    superuser = await _refused(_superuser_dsn(infra, name))
    assert superuser is not None and "superuser" in superuser

    bypass = f"bypass_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_superuser_dsn(infra, name))
    try:
        await admin.execute(f"CREATE ROLE {bypass} LOGIN PASSWORD '{bypass}' NOSUPERUSER BYPASSRLS")
    finally:
        await admin.close()
    refused = await _refused(_as(service_dsn, bypass))
    assert refused is not None and "BYPASSRLS" in refused and bypass in refused


@pytest.mark.parametrize("svc", ["scorecard", "gateway"])
def test_serve_as_a_superuser_exits_in_one_line_before_migrating(infra, svc: str) -> None:  # type: ignore[no-untyped-def]
    name = f"roles_{uuid.uuid4().hex[:8]}"
    infra.database(name)
    dsn = _superuser_dsn(infra, name)
    p = f"INTERLOOP_{svc.upper()}_"
    done = subprocess.run(
        [sys.executable, "-m", f"interloop_{svc}", "serve"],
        env={**os.environ, p + "DATABASE_URL": dsn, p + "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{svc}: database role ") and "is a superuser" in last, done.stderr
    assert "Traceback" not in done.stderr

    async def tables() -> int:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'outbox'"
            )
        finally:
            await conn.close()

    assert asyncio.run(tables()) == 0  # refused before any migration wrote a table
