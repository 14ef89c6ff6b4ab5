"""PostgreSQL: the asyncpg pool, per-service migrations (yoyo) and tenant-scoped transactions.

Row-level security is the backstop for tenant isolation: every tenant table has a policy comparing
`tenant_id` with the `app.tenant_id` setting, which `tenant_tx` sets for the transaction. Background
work that spans tenants (the outbox relay, consumers before they know the tenant) uses `system_tx`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import asyncpg
from yoyo import get_backend, read_migrations

from interloop_common.errors import Unavailable

# PostgreSQL being away or failing over: connection lost or refused, the server shutting down or starting
# up, a demoted primary (read-only), too many connections, statement and lock timeouts, and the conflicts
# a retry resolves (serialization failure, deadlock). Consumers wait these out; RPCs answer UNAVAILABLE.
DATABASE_AWAY = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # a pooled connection the server cut mid-protocol ("cannot switch to state ..."): the pool drops it
    asyncpg.InternalClientError,
    asyncpg.TransactionRollbackError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.LockNotAvailableError,
    asyncpg.ReadOnlySQLTransactionError,
)


class PrivilegedRole(RuntimeError):
    """The service's database role could read past row-level security; it must not serve with it."""


async def refuse_privileged(pool: asyncpg.Pool) -> None:
    """Refuse a role that is a superuser or has BYPASSRLS: row-level security (every tenant table's second
    wall) does not apply to it, so one missing WHERE would show every tenant's rows."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
    if row is not None and (row["rolsuper"] or row["rolbypassrls"]):
        what = "a superuser" if row["rolsuper"] else "BYPASSRLS"
        raise PrivilegedRole(
            f"database role {row['rolname']!r} is {what}, which row-level security does not bind; "
            "connect as a role with NOSUPERUSER NOBYPASSRLS that owns the service's database"
        )


class PoolExhausted(Unavailable, TimeoutError):
    """No connection came free in time: the caller gets UNAVAILABLE (retry later), a consumer waits it out
    as infrastructure (a TimeoutError) instead of stalling silently or dead-lettering."""


# How long a transaction waits for a pooled connection (settings.db_acquire_timeout_seconds, set by
# create_pool): one process, one setting.
_acquire_timeout = 10.0


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, acquire_timeout: float | None = None
) -> asyncpg.Pool:
    global _acquire_timeout
    if acquire_timeout is not None:
        _acquire_timeout = acquire_timeout
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, command_timeout=30)


@contextlib.asynccontextmanager
async def acquire(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection, or PoolExhausted after the acquire timeout."""
    try:
        conn = await pool.acquire(timeout=_acquire_timeout)
    except TimeoutError:
        raise PoolExhausted(
            f"no database connection came free within {_acquire_timeout:g}s "
            f"(pool of {pool.get_max_size()} all busy); retry later"
        ) from None
    try:
        yield conn
    finally:
        await pool.release(conn)


def migration_dirs(*packages: str) -> list[Path]:
    """The `migrations/` folder of each package, shared infrastructure tables first."""
    return [Path(str(resources.files(pkg) / "migrations")) for pkg in ("interloop_common", *packages)]


def migrate(dsn: str, *packages: str) -> int:
    """Apply pending numbered SQL migrations; returns how many were applied. Safe to run concurrently."""
    backend = get_backend(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    migrations = read_migrations(*[str(d) for d in migration_dirs(*packages)])
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return len(pending)


@contextlib.asynccontextmanager
async def tenant_tx(pool: asyncpg.Pool, tenant_id: str) -> AsyncIterator[asyncpg.Connection]:
    """A transaction in which row-level security only shows and accepts rows of `tenant_id`."""
    if not tenant_id:
        raise ValueError("tenant_id is required")
    async with acquire(pool) as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant_id)
        yield conn


@contextlib.asynccontextmanager
async def system_tx(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A transaction for cross-tenant infrastructure work (relay, inbox bookkeeping)."""
    async with acquire(pool) as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.system', 'on', true)")
        yield conn
