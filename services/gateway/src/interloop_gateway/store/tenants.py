"""Tenants and hashed API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    scopes: tuple[str, ...]
    key_prefix: str
    # Set when the key belongs to one interviewer (scope "interviewer"): who they are, verified.
    interviewer_id: str | None = None
    # The key's SHA-256 in hex: names the key (idempotency keys belong to it) without being it.
    key_id: str = ""


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def create_tenant(conn: asyncpg.Connection, tenant_id: str, name: str) -> None:
    await conn.execute(
        "INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
        tenant_id,
        name,
    )


async def issue_key(
    conn: asyncpg.Connection,
    tenant_id: str,
    scopes: list[str],
    key: str | None = None,
    *,
    interviewer_id: str | None = None,
) -> str:
    """Create an API key for a tenant (optionally bound to one interviewer); returns it, the only
    time it is visible."""
    key = key or f"il_{secrets.token_urlsafe(32)}"
    await conn.execute(
        """INSERT INTO api_keys (tenant_id, key_hash, prefix, scopes, interviewer_id)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING""",
        tenant_id,
        hash_key(key),
        key[:7],
        scopes,
        interviewer_id,
    )
    return key


async def authenticate(conn: asyncpg.Connection, key: str) -> Principal | None:
    digest = hash_key(key)
    r = await conn.fetchrow(
        """SELECT tenant_id, scopes, prefix, interviewer_id FROM api_keys
           WHERE key_hash = $1 AND revoked_at IS NULL""",
        digest,
    )
    if r is None:
        return None
    return Principal(r["tenant_id"], tuple(r["scopes"]), r["prefix"], r["interviewer_id"], digest.hex())
