"""The gateway's database for operator commands: where it is (INTERLOOP_GATEWAY_DATABASE_URL), and one
line with exit status 2 when it is not set or cannot be reached."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import asyncpg
import typer
from interloop_common import audit

T = TypeVar("T")


def fail(command: str, message: str) -> NoReturn:
    typer.echo(f"interloop {command}: {message}", err=True)
    raise typer.Exit(2)


def dsn(command: str) -> str:
    found = os.environ.get("INTERLOOP_GATEWAY_DATABASE_URL")
    if not found:
        fail(command, "set INTERLOOP_GATEWAY_DATABASE_URL to the gateway's database")
    return found


def run(command: str, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        return asyncio.run(work())
    except asyncpg.ClientConfigurationError as exc:
        fail(command, f"INTERLOOP_GATEWAY_DATABASE_URL is not usable: {exc}".splitlines()[0])
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        fail(command, f"cannot reach the gateway database: {type(exc).__name__}: {exc}".splitlines()[0])


async def audited(conn: asyncpg.Connection, tenant_id: str, action: str, target: str) -> None:
    """The operator's change in the tenant's audit trail (door "cli"), in the caller's transaction."""
    await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant_id)
    await audit.append(
        conn,
        tenant_id=tenant_id,
        actor=f"operator:{os.environ.get('USER') or os.getuid()}",
        action=action,
        target=target,
        door=audit.Door.CLI,
        remote="",
        status=0,
        request_id=str(uuid.uuid4()),
    )
