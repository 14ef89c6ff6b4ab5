"""PostgreSQL: the asyncpg pool, per-service migrations (yoyo) and tenant-scoped transactions.

Row-level security is the backstop for tenant isolation: every tenant table has a policy comparing
`tenant_id` with the `app.tenant_id` setting, which `tenant_tx` sets for the transaction. Background
work that spans tenants (the outbox relay, consumers before they know the tenant) uses `system_tx`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import asyncpg
import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

from interloop_common.errors import Unavailable

log = logging.getLogger(__name__)

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


# The session advisory lock migrators take (each service has its own database, so one key serves all).
MIGRATION_LOCK_KEY = 0x696E7465726C6F6F  # "interloo"


class SchemaNotCurrent(RuntimeError):
    """Migrations are pending and this process does not apply them (the migration Job does)."""


def _migrations(dsn: str, packages: tuple[str, ...]):  # type: ignore[no-untyped-def]
    backend = get_backend(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    return backend, read_migrations(*[str(d) for d in migration_dirs(*packages)])


def migrate(dsn: str, *packages: str, wait_seconds: float = 600, grant_to: str = "") -> int:
    """Apply pending numbered SQL migrations; returns how many were applied. Concurrent runs take turns on
    a session advisory lock, which PostgreSQL releases when the session ends: a migrator killed mid-run
    (OOM, a deleted pod, a lost node) blocks nobody, where yoyo's own lock, a row holding a PID (1 in
    every container), outlives it. Waits at most wait_seconds for the lock.

    grant_to: the service's runtime role, when migrations run as a separate owner role. It then gets, on
    every table and sequence, the data privileges the owner kept for itself (an append-only table, whose
    owner revoked its own UPDATE and DELETE, stays append-only) and nothing else: it owns no table, so it
    can neither change the schema nor switch row-level security off."""
    backend, migrations = _migrations(dsn, packages)
    with psycopg.connect(dsn, autocommit=True) as lock:
        lock.execute(f"SET lock_timeout = '{int(wait_seconds * 1000)}ms'")
        lock.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        backend._is_locked = True  # our lock stands in for yoyo's row for the whole run
        try:
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
            if grant_to:
                _grant_runtime(lock, grant_to)
        finally:
            backend._is_locked = False
            backend.connection.close()
    return len(pending)


def _grant_runtime(conn: psycopg.Connection, role: str) -> None:
    who = sql.Identifier(role)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(who))
    tables = conn.execute(
        "SELECT c.oid::regclass::text, p.priv, has_table_privilege(current_user, c.oid, p.priv)"
        " FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'"
        " CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p(priv)"
        " WHERE c.relkind IN ('r', 'p')"
        " AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    ).fetchall()
    for table, privilege, kept in tables:
        action = "GRANT {} ON TABLE {} TO {}" if kept else "REVOKE {} ON TABLE {} FROM {}"
        conn.execute(sql.SQL(action).format(sql.SQL(privilege), sql.SQL(table), who))
    conn.execute(sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(who))


def pending_migrations(dsn: str, *packages: str) -> list[str]:
    """Ids of the migrations this code knows and the database has not applied (read only, no lock).
    Migrations the database has and this code does not know (after a rollback) do not count."""
    backend, migrations = _migrations(dsn, packages)
    try:
        return [m.id for m in backend.to_apply(migrations)]
    finally:
        backend.connection.close()


def _not_current(pending: list[str], why: str) -> SchemaNotCurrent:
    return SchemaNotCurrent(
        f"{len(pending)} migration(s) pending ({pending[0]}, ...) {why}: "
        "apply them with `migrate` (the chart's migration Job does)"
    )


def prepare_schema(dsn: str, package: str, *, migrate_on_start: bool) -> int:
    """At serve: apply pending migrations (migrate_on_start), or only check that none is pending (under the
    chart, whose migration Job applies them) and raise SchemaNotCurrent if one is. Returns how many ran."""
    if migrate_on_start:
        applied = migrate(dsn, package)
        log.info("migrations applied: %d", applied)
        return applied
    pending = pending_migrations(dsn, package)
    if pending:
        raise _not_current(pending, "and migrate_on_start is off")
    log.info("schema current (migrate_on_start off: the migration Job applies migrations)")
    return 0


def wait_schema_current(dsn: str, *packages: str, wait_seconds: float, poll: float = 2.0) -> None:
    """Return once nothing is pending (the migration Job has run), or raise SchemaNotCurrent."""
    deadline = time.monotonic() + wait_seconds
    while pending := pending_migrations(dsn, *packages):
        if time.monotonic() >= deadline:
            raise _not_current(pending, f"after {wait_seconds:g}s")
        time.sleep(poll)


# The transaction an enclosing_tx holds for the current task: (pool, tenant, connection).
_enclosing: contextvars.ContextVar[tuple[asyncpg.Pool, str, asyncpg.Connection] | None] = (
    contextvars.ContextVar("interloop_enclosing_tx", default=None)
)


@contextlib.asynccontextmanager
async def tenant_tx(pool: asyncpg.Pool, tenant_id: str) -> AsyncIterator[asyncpg.Connection]:
    """A transaction in which row-level security only shows and accepts rows of `tenant_id`. Inside an
    `enclosing_tx` of the same pool and tenant it is a savepoint of that transaction (one commit)."""
    if not tenant_id:
        raise ValueError("tenant_id is required")
    held = _enclosing.get()
    if held is not None and held[0] is pool and held[1] == tenant_id:
        async with held[2].transaction():
            yield held[2]
        return
    async with acquire(pool) as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant_id)
        yield conn


@contextlib.asynccontextmanager
async def enclosing_tx(pool: asyncpg.Pool, tenant_id: str) -> AsyncIterator[asyncpg.Connection]:
    """A tenant transaction that every `tenant_tx(pool, tenant_id)` opened inside it (in this task) joins,
    so a use case's writes commit or roll back with what the caller writes around them (an idempotent
    call's record, interloop_common.idempotency). Only for use cases that run their transactions one after
    another: tasks they gather would share the one connection."""
    async with tenant_tx(pool, tenant_id) as conn:
        token = _enclosing.set((pool, tenant_id, conn))
        try:
            yield conn
        finally:
            _enclosing.reset(token)


@contextlib.asynccontextmanager
async def system_tx(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A transaction for cross-tenant infrastructure work (relay, inbox bookkeeping)."""
    async with acquire(pool) as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.system', 'on', true)")
        yield conn
