"""Connections to ATS and HRIS vendors: created with their credentials sealed, listed, read; and the renewal
of short-lived OAuth access tokens for vendors that hand them out (``renews_tokens``: Lever partners).

A refused access token is renewed under a row lock on the stored connection: if another worker or replica
already renewed it, its token is used; otherwise the adapter trades the refresh token (Lever rotates it)
and the new credentials are sealed back into the connection in the same transaction, so a refresh token is
never spent twice and never lost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import asyncpg
from interloop_common.db import tenant_tx
from interloop_common.errors import FieldViolations, NotFound

from interloop_sync.store import connections
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import Page, page_of
from interloop_sync.usecases.context import SyncContext, require
from interloop_sync.vendors import registry
from interloop_sync.vendors.ats import Renew


async def create_connection(ctx: SyncContext, c: Connection, credentials: Mapping[str, str]) -> Connection:
    """Store ``c`` with ``credentials`` sealed; the HRIS connection it hands hires to must be one."""
    vault = require(ctx.vault)
    async with tenant_tx(ctx.pool, c.tenant_id) as conn:
        if c.hris_connection_id:
            target = await connections.get(conn, c.tenant_id, c.hris_connection_id)
            if target is None or registry.kind(target.provider) != "hris":
                raise FieldViolations([("connection.hris_connection_id", "an existing HRIS connection's id")])
        stored = await connections.insert(
            conn, replace(c, credentials=vault.encrypt(c.provider, dict(credentials)))
        )
    ctx.cache.connection_changed(stored.id)
    return stored


async def list_connections(pool: asyncpg.Pool, tenant_id: str, *, after: str, limit: int) -> Page[Connection]:
    async with tenant_tx(pool, tenant_id) as conn:
        return page_of(
            await connections.list_for_tenant(conn, tenant_id, after=after, limit=limit + 1), limit
        )


async def get_connection(pool: asyncpg.Pool, tenant_id: str, connection_id: str) -> Connection:
    async with tenant_tx(pool, tenant_id) as conn:
        c = await connections.get(conn, tenant_id, connection_id)
    if c is None:
        raise NotFound(f"no connection {connection_id}")
    return c


def token_renewer(ctx: SyncContext, c: Connection) -> Renew | None:
    """What ``c``'s API client calls with a refused access token; None when its vendor renews none (or no
    vendor API is behind it: a partner's connection)."""
    adapter = registry.ats_api(c.provider)
    if adapter is None or not adapter.renews_tokens:
        return None

    async def renew(refused: str) -> str:
        vault = require(ctx.vault)
        async with tenant_tx(ctx.pool, c.tenant_id) as conn:
            current = await connections.get(conn, c.tenant_id, c.id, for_update=True)
            if current is None:
                raise LookupError(f"connection {c.id} no longer exists")
            access, fields = await adapter.renew_token(
                ctx.http(current.provider), current, vault.decrypt(current.credentials), refused
            )
            if fields is None:
                return access  # renewed meanwhile by someone else
            await connections.set_credentials(
                conn, c.tenant_id, c.id, vault.encrypt(current.provider, fields)
            )
        ctx.cache.connection_changed(c.id)
        return access

    return renew
