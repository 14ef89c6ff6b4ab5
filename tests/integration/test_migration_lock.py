"""Migrations run once and a killed migrator blocks nobody (issue 15): concurrent migrators take turns on a
session advisory lock that PostgreSQL releases with the session, so a process SIGKILLed while holding it
(an OOM-killed or deleted pod) leaves nothing behind; `migrate --check` and a serve with migrate_on_start
off only read the schema version. Real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import psycopg
import pytest
from interloop_common import db

PACKAGE = "interloop_scorecard"


def _applied(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [
            r[0] for r in conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY applied_at_utc")
        ]


def test_concurrent_migrators_apply_each_migration_once(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = infra.database(f"migrate_{uuid.uuid4().hex[:8]}")
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            counts.append(db.migrate(dsn, PACKAGE, wait_seconds=120))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    known = len(db.pending_migrations(infra.database(f"migrate_{uuid.uuid4().hex[:8]}"), PACKAGE))
    assert sorted(counts) == [0, 0, 0, known], counts  # one did the work, the others found nothing
    applied = _applied(dsn)
    assert len(applied) == len(set(applied)) == known
    assert db.pending_migrations(dsn, PACKAGE) == []


def test_a_migrator_killed_while_holding_the_lock_blocks_nobody(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = infra.database(f"migrate_{uuid.uuid4().hex[:8]}")
    # A migrator in another process takes the lock and is killed -9 before it lets go.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, psycopg\n"
            "c = psycopg.connect(sys.argv[1], autocommit=True)\n"
            f"c.execute('SELECT pg_advisory_lock({db.MIGRATION_LOCK_KEY})')\n"
            "print('locked', flush=True)\n"
            "time.sleep(600)\n",
            dsn,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        # While it lives, another migrator waits for it (and gives up at its deadline, loudly).
        with pytest.raises(psycopg.errors.LockNotAvailable):
            db.migrate(dsn, PACKAGE, wait_seconds=0.5)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        # What yoyo's own lock would have left behind in its place: a row naming PID 1.
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS yoyo_lock (locked int, ctime timestamp, pid int)")
            conn.execute("INSERT INTO yoyo_lock VALUES (1, now(), 1)")
        # The server notices the dead session and drops its lock (no row of ours is left to clear).
        with psycopg.connect(dsn, autocommit=True) as conn:
            # Advisory locks belong to one database: count only this test's database's (other tests'
            # services hold their own on the same server).
            held = (
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            for _ in range(100):
                if conn.execute(held).fetchone()[0] == 0:
                    break
                time.sleep(0.1)
            assert conn.execute(held).fetchone()[0] == 0, "the killed migrator's lock is still held"
        applied = db.migrate(dsn, PACKAGE, wait_seconds=60)
    finally:
        holder.kill()
        holder.wait(10)
    assert applied > 0 and db.pending_migrations(dsn, PACKAGE) == []


def test_check_only_reads_and_waits_for_the_schema(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = infra.database(f"migrate_{uuid.uuid4().hex[:8]}")
    env = {**os.environ, "INTERLOOP_SCORECARD_DATABASE_URL": dsn}
    check = [sys.executable, "-m", PACKAGE, "migrate", "--check"]
    done = subprocess.run(check, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "migration(s) pending" in done.stderr, done
    assert db.pending_migrations(dsn, PACKAGE)  # --check applied nothing

    # Waiting, it returns once another process (the migration Job) has migrated.
    waiting = subprocess.Popen([*check, "--wait", "60"], env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    assert waiting.poll() is None
    db.migrate(dsn, PACKAGE)
    out, _ = waiting.communicate(timeout=30)
    assert waiting.returncode == 0 and "schema current" in out


def test_serve_without_migrate_on_start_refuses_a_schema_that_is_not_current(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = infra.database(f"migrate_{uuid.uuid4().hex[:8]}")
    env = {
        **os.environ,
        "INTERLOOP_SCORECARD_DATABASE_URL": dsn,
        "INTERLOOP_SCORECARD_MIGRATE_ON_START": "false",
        "INTERLOOP_SCORECARD_GRPC_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE, "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done
    assert "migration(s) pending" in done.stderr and "migrate_on_start is off" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr  # one line, no traceback
    assert db.pending_migrations(dsn, PACKAGE)  # and it migrated nothing


def test_migrations_as_the_owner_give_a_separate_runtime_role_data_privileges_only(infra) -> None:  # type: ignore[no-untyped-def]
    """The chart's migrations.separateRole: the Job migrates as the owner and grants the service's role what
    the owner kept for itself; the service's role owns nothing, so it cannot alter a table or switch
    row-level security off, and the append-only audit log stays append-only for it."""
    name = f"roles_{uuid.uuid4().hex[:8]}"
    owner_dsn = infra.database(name)
    app = f"{name}_app"
    admin = (
        f"postgresql://postgres@127.0.0.1:{infra.postgres.port}/{name}"
        if infra.postgres is not None
        else infra.admin_dsn.rsplit("/", 1)[0] + f"/{name}"
    )
    with psycopg.connect(admin, autocommit=True) as su:
        su.execute(f"CREATE ROLE {app} LOGIN PASSWORD '{app}' NOSUPERUSER NOBYPASSRLS")
        su.execute(f'GRANT CONNECT ON DATABASE "{name}" TO {app}')
    db.migrate(owner_dsn, "interloop_gateway", grant_to=app)
    app_dsn = f"postgresql://{app}:{app}@{owner_dsn.split('@', 1)[1]}"

    def can(table: str, privilege: str) -> bool:
        with psycopg.connect(owner_dsn) as conn:
            return conn.execute("SELECT has_table_privilege(%s, %s, %s)", (app, table, privilege)).fetchone()[
                0
            ]

    assert all(can("tenants", p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE"))
    assert can("audit_log", "INSERT") and can("audit_log", "SELECT")
    assert not can("audit_log", "UPDATE") and not can("audit_log", "DELETE")
    with psycopg.connect(app_dsn, autocommit=True) as conn:
        conn.execute("SELECT set_config('app.tenant_id', 'acme', false)")
        conn.execute("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')")
        assert conn.execute("SELECT count(*) FROM tenants").fetchone()[0] == 1
        for ddl in ("ALTER TABLE tenants DISABLE ROW LEVEL SECURITY", "CREATE TABLE sneaky (id int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(ddl)
    # The service, serving as that role, finds the schema current (the check reads yoyo's table).
    assert db.pending_migrations(app_dsn, "interloop_gateway") == []
