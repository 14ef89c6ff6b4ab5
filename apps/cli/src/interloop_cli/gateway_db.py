"""The gateway's database for operator commands: where it is (INTERLOOP_GATEWAY_DATABASE_URL), and one
line with exit status 2 when it is not set or cannot be reached."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import asyncpg
import typer

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
