"""OAuth token renewal for connections whose vendor hands out short-lived access tokens (Lever partners).

The refused access token is renewed under a row lock on the stored connection: if another worker or
replica already renewed it, its token is used; otherwise the refresh token is traded (Lever rotates it)
and the new pair is sealed back into the connection's credentials in the same transaction, so a refresh
token is never spent twice and never lost."""

from __future__ import annotations

import httpx
from interloop_common.db import tenant_tx

from interloop_sync.store import connections
from interloop_sync.store.connections import Connection
from interloop_sync.usecases.context import SyncContext, require
from interloop_sync.vendors.clients import lever_config
from interloop_sync.vendors.lever import Renew, refresh_tokens


def lever_renewer(ctx: SyncContext, c: Connection, client: httpx.AsyncClient | None = None) -> Renew:
    async def renew(refused: str) -> str:
        vault = require(ctx.vault)
        async with tenant_tx(ctx.pool, c.tenant_id) as conn:
            current = await connections.get(conn, c.tenant_id, c.id, for_update=True)
            if current is None:
                raise LookupError(f"connection {c.id} no longer exists")
            creds = vault.decrypt(current.credentials)
            stored = creds["oauth_token"].reveal() if "oauth_token" in creds else ""
            if stored and stored != refused:
                return stored  # renewed meanwhile by someone else
            config = lever_config(current, creds)
            access, refresh = await refresh_tokens(client or ctx.http, config, config.refresh_token or "")
            fields = {k: v.reveal() for k, v in creds.items()}
            fields.update(oauth_token=access, refresh_token=refresh)
            await connections.set_credentials(
                conn, c.tenant_id, c.id, vault.encrypt(current.provider, fields)
            )
        ctx.cache.connection_changed(c.id)
        return access

    return renew
