"""Tenants and hashed API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

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
    name: str = "",
    created_by: str = "operator",
) -> str:
    """Create an API key for a tenant (optionally bound to one interviewer); returns it, the only
    time it is visible."""
    key = key or f"il_{secrets.token_urlsafe(32)}"
    await conn.execute(
        """INSERT INTO api_keys (tenant_id, key_hash, prefix, scopes, interviewer_id, name, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT DO NOTHING""",
        tenant_id,
        hash_key(key),
        key[:7],
        scopes,
        interviewer_id,
        name,
        created_by,
    )
    return key


KEY_ID_CHARS = 16  # a key's public id: the first hex characters of its SHA-256 (what actor_of records)


def key_id_of(key_hash: bytes) -> str:
    return key_hash.hex()[:KEY_ID_CHARS]


def key_status(row: asyncpg.Record, now: datetime) -> str:
    """active, expiring (rotated, in its grace period), expired or revoked."""
    if row["revoked_at"]:
        return "revoked"
    if row["expires_at"] and row["expires_at"] <= now:
        return "expired"
    return "expiring" if row["expires_at"] else "active"


_KEY_COLUMNS = """tenant_id, key_hash, prefix, scopes, interviewer_id, name, created_by, created_at,
    revoked_at, revoked_by, expires_at"""


async def list_keys(conn: asyncpg.Connection, tenant_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, key_hash",  # noqa: S608
        tenant_id,
    )


async def find_key(conn: asyncpg.Connection, tenant_id: str, key_id: str) -> asyncpg.Record | None:
    """The tenant's key with this id (a hash fragment); None when none or the id is not one."""
    if len(key_id) != KEY_ID_CHARS or any(c not in "0123456789abcdef" for c in key_id):
        return None
    return await conn.fetchrow(
        f"""SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1
            AND substr(encode(key_hash, 'hex'), 1, {KEY_ID_CHARS}) = $2""",  # noqa: S608
        tenant_id,
        key_id,
    )


async def revoke_key(
    conn: asyncpg.Connection, tenant_id: str, key_hash: bytes, by: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""UPDATE api_keys SET revoked_at = now(), revoked_by = $3
            WHERE tenant_id = $1 AND key_hash = $2 AND revoked_at IS NULL RETURNING {_KEY_COLUMNS}""",  # noqa: S608
        tenant_id,
        key_hash,
        by,
    )


async def expire_key(conn: asyncpg.Connection, tenant_id: str, key_hash: bytes, hours: float) -> None:
    """Rotation: the old key keeps working for `hours` (0: stops now), then not."""
    await conn.execute(
        """UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, 'infinity'),
               now() + make_interval(secs => $3))
           WHERE tenant_id = $1 AND key_hash = $2""",
        tenant_id,
        key_hash,
        hours * 3600,
    )


async def authenticate(conn: asyncpg.Connection, key: str) -> Principal | None:
    digest = hash_key(key)
    r = await conn.fetchrow(
        """SELECT tenant_id, scopes, prefix, interviewer_id FROM api_keys
           WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())""",
        digest,
    )
    if r is None:
        return None
    return Principal(r["tenant_id"], tuple(r["scopes"]), r["prefix"], r["interviewer_id"], digest.hex())
