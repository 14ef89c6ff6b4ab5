"""`interloop tenants ...`: operator commands against the gateway's database."""

from __future__ import annotations

import re
from typing import NoReturn

import asyncpg
import typer
from interloop_common.clock import utc_now
from interloop_gateway.store import tenants as store
from interloop_gateway.store.tenants import create_tenant, issue_key

from interloop_cli import gateway_db

app = typer.Typer(
    help="Create tenants and issue API keys (needs INTERLOOP_GATEWAY_DATABASE_URL).", no_args_is_help=True
)

_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_SCOPES = {"admin", "recruiter", "interviewer", "compliance", "partner"}


def _fail(message: str) -> NoReturn:
    gateway_db.fail("tenants", message)


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
    dsn = gateway_db.dsn("tenants")

    async def run() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                await create_tenant(conn, tenant_id, name)
                key = await issue_key(conn, tenant_id, scope)
                await gateway_db.audited(conn, tenant_id, "tenants.create", f"key/{key[:7]}")
                return key
        finally:
            await conn.close()

    typer.echo(gateway_db.run("tenants", run))


@app.command("issue-key")
def issue(
    tenant_id: str = typer.Argument(..., help="an existing tenant"),
    scope: list[str] = typer.Option(..., "--scope", help="scopes of the key (repeatable)"),
    interviewer: str = typer.Option("", "--interviewer", help="bind the key to this interviewer id"),
) -> None:
    """Issue another API key for a tenant; an interviewer's own key carries their verified identity."""
    unknown = sorted(set(scope) - _SCOPES)
    if unknown:
        _fail(f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(sorted(_SCOPES))}")
    if interviewer and set(scope) != {"interviewer"}:
        _fail("a key bound to an interviewer must have exactly --scope interviewer")
    dsn = gateway_db.dsn("tenants")

    async def run() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            if not await conn.fetchval("SELECT 1 FROM tenants WHERE id = $1", tenant_id):
                _fail(f"no tenant {tenant_id!r}: create it first with `interloop tenants create`")
            async with conn.transaction():
                key = await issue_key(conn, tenant_id, scope, interviewer_id=interviewer or None)
                await gateway_db.audited(conn, tenant_id, "tenants.issue-key", f"key/{key[:7]}")
                return key
        finally:
            await conn.close()

    typer.echo(gateway_db.run("tenants", run))


@app.command("list-keys")
def list_keys(tenant_id: str = typer.Argument(..., help="an existing tenant")) -> None:
    """The tenant's API keys, one per line: id, prefix, scopes, status (never the keys themselves)."""
    dsn = gateway_db.dsn("tenants")

    async def run() -> list[str]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await store.list_keys(conn, tenant_id)
        finally:
            await conn.close()
        out = []
        for r in rows:
            status = store.key_status(r, utc_now())
            out.append(f"{store.key_id_of(r['key_hash'])}  {r['prefix']}…  {','.join(r['scopes'])}  {status}")
        return out

    lines = gateway_db.run("tenants", run)
    typer.echo("\n".join(lines) if lines else f"no API keys for tenant {tenant_id!r}")


@app.command("revoke-key")
def revoke_key(
    tenant_id: str = typer.Argument(..., help="the key's tenant"),
    key_id: str = typer.Argument(..., help="the key's id (`interloop tenants list-keys`)"),
) -> None:
    """Revoke an API key: it stops working (on every gateway replica within the key cache TTL)."""
    dsn = gateway_db.dsn("tenants")

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                found = await store.find_key(conn, tenant_id, key_id)
                if found is None or found["revoked_at"]:
                    _fail(f"no active API key {key_id!r} for tenant {tenant_id!r}")
                await store.revoke_key(conn, tenant_id, found["key_hash"], "operator")
                await gateway_db.audited(conn, tenant_id, "tenants.revoke-key", f"key/{key_id}")
        finally:
            await conn.close()

    gateway_db.run("tenants", run)
    typer.echo(f"revoked {key_id}")
