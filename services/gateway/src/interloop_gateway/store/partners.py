"""Registered partners, their hashed keys, and the grants tenants give them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from interloop_gateway.store.tenants import hash_key

GRANT_SCOPES = ("read", "schedule", "push", "subscribe")
KEY_PREFIX = "ilp_"


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    calls_per_minute: int
    # When set, the partner's calls must present a client certificate with this subject CN (mutual TLS).
    client_cert_subject: str | None = None


@dataclass(frozen=True)
class Grant:
    tenant_id: str
    partner_id: str
    partner_name: str
    scopes: tuple[str, ...]
    granted_by: str
    granted_at: datetime


async def register(
    conn: asyncpg.Connection,
    partner_id: str,
    name: str,
    calls_per_minute: int = 600,
    *,
    client_cert_subject: str | None = None,
) -> None:
    if partner_id == "self":
        raise ValueError("'self' is the partner id of a tenant acting for itself; choose another")
    await conn.execute(
        """INSERT INTO partners (id, name, calls_per_minute, client_cert_subject) VALUES ($1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE
           SET name = EXCLUDED.name, calls_per_minute = EXCLUDED.calls_per_minute,
               client_cert_subject = EXCLUDED.client_cert_subject""",
        partner_id,
        name,
        calls_per_minute,
        client_cert_subject,
    )


async def issue_key(conn: asyncpg.Connection, partner_id: str, key: str | None = None) -> str:
    """A new key for the partner; returned once, stored only as its hash."""
    key = key or f"{KEY_PREFIX}{secrets.token_urlsafe(32)}"
    await conn.execute(
        "INSERT INTO partner_keys (partner_id, key_hash, prefix) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        partner_id,
        hash_key(key),
        key[: len(KEY_PREFIX) + 4],
    )
    return key


async def authenticate(conn: asyncpg.Connection, key: str) -> Partner | None:
    r = await conn.fetchrow(
        """SELECT p.id, p.name, p.calls_per_minute, p.client_cert_subject
           FROM partner_keys k JOIN partners p ON p.id = k.partner_id
           WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND p.disabled_at IS NULL""",
        hash_key(key),
    )
    return None if r is None else Partner(r["id"], r["name"], r["calls_per_minute"], r["client_cert_subject"])


async def exists(conn: asyncpg.Connection, partner_id: str) -> bool:
    return bool(
        await conn.fetchval("SELECT 1 FROM partners WHERE id = $1 AND disabled_at IS NULL", partner_id)
    )


async def grant(
    conn: asyncpg.Connection, tenant_id: str, partner_id: str, scopes: list[str], granted_by: str
) -> Grant:
    await conn.execute(
        """INSERT INTO partner_grants (tenant_id, partner_id, scopes, granted_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (tenant_id, partner_id) DO UPDATE
           SET scopes = EXCLUDED.scopes, granted_by = EXCLUDED.granted_by, granted_at = now(),
               revoked_by = NULL, revoked_at = NULL""",
        tenant_id,
        partner_id,
        sorted(set(scopes)),
        granted_by,
    )
    found = await get_grant(conn, tenant_id, partner_id)
    assert found is not None  # just written, in this transaction
    return found


async def revoke(conn: asyncpg.Connection, tenant_id: str, partner_id: str, revoked_by: str) -> bool:
    status = await conn.execute(
        """UPDATE partner_grants SET revoked_at = now(), revoked_by = $3
           WHERE tenant_id = $1 AND partner_id = $2 AND revoked_at IS NULL""",
        tenant_id,
        partner_id,
        revoked_by,
    )
    return status.endswith(" 1")


_GRANT = """SELECT g.tenant_id, g.partner_id, p.name AS partner_name, g.scopes, g.granted_by, g.granted_at
            FROM partner_grants g JOIN partners p ON p.id = g.partner_id
            WHERE g.tenant_id = $1 AND g.revoked_at IS NULL AND p.disabled_at IS NULL"""


def _grant(r: asyncpg.Record) -> Grant:
    return Grant(
        r["tenant_id"],
        r["partner_id"],
        r["partner_name"],
        tuple(r["scopes"]),
        r["granted_by"],
        r["granted_at"],
    )


async def get_grant(conn: asyncpg.Connection, tenant_id: str, partner_id: str) -> Grant | None:
    r = await conn.fetchrow(_GRANT + " AND g.partner_id = $2", tenant_id, partner_id)
    return None if r is None else _grant(r)


async def list_grants(conn: asyncpg.Connection, tenant_id: str) -> list[Grant]:
    return [_grant(r) for r in await conn.fetch(_GRANT + " ORDER BY g.partner_id", tenant_id)]
