"""`python -m interloop_sync rotate-credentials`: re-encrypt every stored credential under the newest key.

Put the new key first in INTERLOOP_SYNC_CREDENTIAL_KEYS (keep the old ones after it), run this, then drop the
old keys once it reports every connection rotated."""

from __future__ import annotations

import argparse
import asyncio
import sys

from interloop_common import db
from interloop_common.db import system_tx

from interloop_sync import vault
from interloop_sync.domain.credentials import CredentialError
from interloop_sync.settings import load
from interloop_sync.store import connections


async def _rotate() -> tuple[int, int]:
    settings = load()
    v = vault.build(settings)
    if v is None:
        raise SystemExit(f"sync: {vault.MISSING_KEYS}")
    pool = await db.create_pool(settings.database_url.get_secret_value(), min_size=1, max_size=2)
    done = failed = 0
    try:
        async with system_tx(pool) as conn:
            for tenant, cid, token in await connections.all_rows(conn):
                try:
                    await connections.set_credentials(conn, tenant, cid, v.rotate(token))
                    done += 1
                except CredentialError:
                    print(
                        f"sync: connection {cid} (tenant {tenant}) does not decrypt with any key",
                        file=sys.stderr,
                    )
                    failed += 1
    finally:
        await pool.close()
    return done, failed


def main(argv: list[str]) -> None:
    argparse.ArgumentParser(
        prog="python -m interloop_sync rotate-credentials", description=__doc__
    ).parse_args(argv)
    done, failed = asyncio.run(_rotate())
    print(f"sync: {done} connection(s) re-encrypted under the newest key, {failed} failed")
    raise SystemExit(1 if failed else 0)
