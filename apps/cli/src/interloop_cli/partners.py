"""`interloop partners ...`: register ATS vendors on the partner gRPC API and issue their keys."""

from __future__ import annotations

import re
from typing import NoReturn

import asyncpg
import typer
from interloop_gateway.store import partners as store

from interloop_cli import gateway_db

app = typer.Typer(
    help="Register partners (ATS vendors) and issue their keys (needs INTERLOOP_GATEWAY_DATABASE_URL).",
    no_args_is_help=True,
)

_PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def _fail(message: str) -> NoReturn:
    gateway_db.fail("partners", message)


@app.command("register")
def register(
    partner_id: str = typer.Argument(..., help="lower-case id, e.g. acme-ats"),
    name: str = typer.Option(..., "--name", help="display name tenants see when they grant access"),
    calls_per_minute: int = typer.Option(600, "--calls-per-minute", min=1, help="rate limit per gateway pod"),
    client_cert_subject: str = typer.Option(
        "", "--client-cert-subject", help="require this client certificate CN on a mutual-TLS partner port"
    ),
) -> None:
    """Register (or update) a partner and print a new key for it: shown once, stored only as a hash.
    Tenants then grant it access with PUT /v1/partner-grants/{partner_id}."""
    if not _PARTNER_ID.match(partner_id) or partner_id == "self":
        _fail(f"partner id {partner_id!r} must be 2-63 characters of a-z, 0-9 and '-' (and not 'self')")
    dsn = gateway_db.dsn("partners")

    async def run() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                await store.register(
                    conn, partner_id, name, calls_per_minute, client_cert_subject=client_cert_subject or None
                )
                return await store.issue_key(conn, partner_id)
        finally:
            await conn.close()

    typer.echo(gateway_db.run("partners", run))


@app.command("issue-key")
def issue(partner_id: str = typer.Argument(..., help="a registered partner")) -> None:
    """Issue another key for a partner (to rotate: issue, deploy, then revoke the old one)."""
    dsn = gateway_db.dsn("partners")

    async def run() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            if not await store.exists(conn, partner_id):
                _fail(f"no partner {partner_id!r}: register it first with `interloop partners register`")
            return await store.issue_key(conn, partner_id)
        finally:
            await conn.close()

    typer.echo(gateway_db.run("partners", run))


@app.command("revoke-key")
def revoke(
    partner_id: str = typer.Argument(..., help="a registered partner"),
    prefix: str = typer.Argument(..., help="the key's first characters as shown at issue (ilp_xxxx)"),
) -> None:
    """Revoke a partner's key by its prefix; calls with it fail within the key cache's TTL."""
    dsn = gateway_db.dsn("partners")

    async def run() -> int:
        conn = await asyncpg.connect(dsn)
        try:
            status = await conn.execute(
                "UPDATE partner_keys SET revoked_at = now() WHERE partner_id = $1 AND prefix = $2"
                " AND revoked_at IS NULL",
                partner_id,
                prefix[: len(store.KEY_PREFIX) + 4],
            )
            return int(status.split()[-1])
        finally:
            await conn.close()

    revoked = gateway_db.run("partners", run)
    if not revoked:
        _fail(f"no live key of {partner_id!r} starts with {prefix!r}")
    typer.echo(f"revoked {revoked} key(s)")
