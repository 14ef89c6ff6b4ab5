"""`interloop audit verify`: checks the gateway's audit hash chain, one line for the verdict."""

from __future__ import annotations

import asyncpg
import typer
from interloop_common.audit import VerifyResult, verify

from interloop_cli import gateway_db

app = typer.Typer(
    help="Check the gateway's tamper-evident audit trail (needs INTERLOOP_GATEWAY_DATABASE_URL).",
    no_args_is_help=True,
)


@app.command("verify")
def verify_chain(
    tenant: str = typer.Option("", "--tenant", help="check only this tenant's chain (default: every tenant)"),
) -> None:
    """Walk every entry's hash and link; exit 0 when the chain is intact, 1 naming the first broken link."""
    dsn = gateway_db.dsn("audit")

    async def run() -> VerifyResult:
        conn = await asyncpg.connect(dsn)
        try:
            if tenant and not await conn.fetchval("SELECT 1 FROM tenants WHERE id = $1", tenant):
                gateway_db.fail("audit", f"no tenant {tenant!r}: `interloop tenants create` makes one")
            async with conn.transaction():
                # the audit log is behind row-level security; the operator reads every tenant's chain
                await conn.execute("SELECT set_config('app.system', 'on', true)")
                return await verify(conn, tenant or None)
        finally:
            await conn.close()

    result = gateway_db.run("audit", run)
    if result.broken is not None:
        typer.echo(f"audit chain broken at {result.broken}")
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {result.entries} entries across {result.tenants} tenants")
