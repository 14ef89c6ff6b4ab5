"""`interloop tenants ...`: operator commands against the gateway's database."""

from __future__ import annotations

import asyncio
import os
import re

import asyncpg
import typer

from interloop_gateway.store.tenants import create_tenant, issue_key

app = typer.Typer(help="Create tenants and issue API keys (needs INTERLOOP_GATEWAY_DATABASE_URL).",
                  no_args_is_help=True)

_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_SCOPES = {"admin", "recruiter", "interviewer", "compliance"}


def _fail(message: str) -> None:
    typer.echo(f"interloop tenants: {message}", err=True)
    raise typer.Exit(2)


@app.command("create")
def create(
    tenant_id: str = typer.Argument(..., help="lower-case id, e.g. acme"),
    name: str = typer.Option(..., "--name", help="display name"),
    scope: list[str] = typer.Option(["admin"], "--scope", help="scopes of the first API key (repeatable)"),
) -> None:
    """Create (or rename) a tenant and print a new API key for it: shown once, stored only as a hash."""
    if not _TENANT_ID.match(tenant_id):
        _fail(f"tenant id {tenant_id!r} must be 2-63 characters of a-z, 0-9 and '-'")
    unknown = sorted(set(scope) - _SCOPES)
    if unknown:
        _fail(f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(sorted(_SCOPES))}")
    dsn = os.environ.get("INTERLOOP_GATEWAY_DATABASE_URL")
    if not dsn:
        _fail("set INTERLOOP_GATEWAY_DATABASE_URL to the gateway's database")

    async def run() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                await create_tenant(conn, tenant_id, name)
                return await issue_key(conn, tenant_id, scope)
        finally:
            await conn.close()

    try:
        key = asyncio.run(run())
    except (OSError, asyncpg.PostgresError) as exc:
        _fail(f"cannot reach the gateway database: {type(exc).__name__}: {exc}".splitlines()[0])
    typer.echo(key)
