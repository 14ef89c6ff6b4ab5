"""Connections to ATS/HRIS vendors; credentials are stored only as Fernet tokens."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

_COLUMNS = """tenant_id, id, provider, mode, owner, base_url, credentials, created_at, name, field_mapping,
              stage_policy, hris_connection_id, settings"""


@dataclass(frozen=True, slots=True)
class Connection:
    tenant_id: str
    id: str
    provider: str
    mode: str  # active | shadow
    owner: str
    base_url: str
    credentials: bytes = field(repr=False)
    created_at: datetime
    name: str = ""
    field_mapping: dict[str, Any] = field(default_factory=dict)
    stage_policy: dict[str, Any] = field(default_factory=dict)
    hris_connection_id: str = ""
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def shadow(self) -> bool:
        return self.mode == "shadow"


def _row(r: asyncpg.Record) -> Connection:
    return Connection(
        tenant_id=r["tenant_id"],
        id=str(r["id"]),
        provider=r["provider"],
        mode=r["mode"],
        owner=r["owner"],
        base_url=r["base_url"],
        credentials=bytes(r["credentials"]),
        created_at=r["created_at"],
        name=r["name"],
        field_mapping=json.loads(r["field_mapping"]),
        stage_policy=json.loads(r["stage_policy"]),
        hris_connection_id=str(r["hris_connection_id"] or ""),
        settings=json.loads(r["settings"]),
    )


async def insert(conn: asyncpg.Connection, c: Connection) -> Connection:
    row = await conn.fetchrow(
        f"""INSERT INTO connections (tenant_id, id, provider, mode, owner, base_url, credentials, name,
               field_mapping, stage_policy, hris_connection_id, settings)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12::jsonb)
           RETURNING {_COLUMNS}""",  # noqa: S608 - a constant column list; values are parameters
        c.tenant_id,
        uuid.UUID(c.id),
        c.provider,
        c.mode,
        c.owner,
        c.base_url,
        c.credentials,
        c.name,
        json.dumps(c.field_mapping),
        json.dumps(c.stage_policy),
        uuid.UUID(c.hris_connection_id) if c.hris_connection_id else None,
        json.dumps(c.settings),
    )
    return _row(row)


async def get(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, *, for_update: bool = False
) -> Connection | None:
    """The connection; `for_update` locks its row until the transaction ends (e.g. renewing tokens)."""
    try:
        cid = uuid.UUID(connection_id)
    except ValueError:
        return None
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM connections WHERE tenant_id = $1 AND id = $2{lock}",  # noqa: S608 - as above
        tenant_id,
        cid,
    )
    return _row(row) if row else None


async def partner_connection(
    conn: asyncpg.Connection, tenant_id: str, provider: str, partner_id: str, *, owner: str
) -> Connection:
    """The tenant's connection of ``provider`` for ``partner_id`` (``settings.partner_id``), made on first
    use with no credentials; a concurrent first use waits on the unique index and finds the same row."""

    async def find() -> asyncpg.Record | None:
        return await conn.fetchrow(
            f"""SELECT {_COLUMNS} FROM connections
                WHERE tenant_id = $1 AND provider = $2 AND settings->>'partner_id' = $3""",  # noqa: S608
            tenant_id,
            provider,
            partner_id,
        )

    row = await find()
    if row is None:
        row = await conn.fetchrow(
            f"""INSERT INTO connections (tenant_id, id, provider, mode, owner, credentials, name,
                    settings)
                VALUES ($1, $2, $3, 'active', $4, ''::bytea, $5, $6::jsonb)
                ON CONFLICT DO NOTHING RETURNING {_COLUMNS}""",  # noqa: S608 - a constant column list
            tenant_id,
            uuid.uuid4(),
            provider,
            owner,
            f"Partner {partner_id}",
            json.dumps({"partner_id": partner_id}),
        )
    if row is None:  # a concurrent first use inserted it: the unique index made this one wait for it
        row = await find()
    assert row is not None
    return _row(row)


async def get_any_tenant(conn: asyncpg.Connection, connection_id: str) -> Connection | None:
    """System scope: a webhook names only its connection; the tenant is learned from the row."""
    try:
        cid = uuid.UUID(connection_id)
    except ValueError:
        return None
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM connections WHERE id = $1", cid)  # noqa: S608
    return _row(row) if row else None


async def list_for_tenant(
    conn: asyncpg.Connection, tenant_id: str, *, after: str = "", limit: int = 50
) -> list[Connection]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM connections WHERE tenant_id = $1 AND ($2 = '' OR id::text > $2)
            ORDER BY id::text LIMIT $3""",  # noqa: S608 - a constant column list
        tenant_id,
        after,
        limit,
    )
    return [_row(r) for r in rows]


async def hris_for(
    conn: asyncpg.Connection, ats: Connection, hris_providers: Sequence[str]
) -> Connection | None:
    """The HRIS connection an ATS connection hands hires to: the configured one, else the tenant's only
    connection to one of ``hris_providers``."""
    if ats.hris_connection_id:
        return await get(conn, ats.tenant_id, ats.hris_connection_id)
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM connections WHERE tenant_id = $1 AND provider = ANY($2::text[])
            ORDER BY created_at""",  # noqa: S608 - a constant column list; values are parameters
        ats.tenant_id,
        list(hris_providers),
    )
    return _row(rows[0]) if len(rows) == 1 else None


async def all_of(conn: asyncpg.Connection, providers: Sequence[str]) -> list[Connection]:
    """System scope: every connection to one of ``providers`` (the reconciliation poller's work list)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM connections WHERE provider = ANY($1::text[])",  # noqa: S608
        list(providers),
    )
    return [_row(r) for r in rows]


class SealedCredentials:
    """The connections' sealed credentials (bytea), for ``rotate-credentials`` (system scope)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, str]] = {}

    async def sealed(self, conn: asyncpg.Connection) -> list[tuple[str, bytes]]:
        out = []
        # A partner's connection holds no credentials (an empty value): nothing to re-seal.
        for r in await conn.fetch(
            "SELECT tenant_id, id, credentials FROM connections WHERE credentials <> ''::bytea FOR UPDATE"
        ):
            label = f"connection {r['id']} (tenant {r['tenant_id']})"
            self._rows[label] = (r["tenant_id"], str(r["id"]))
            out.append((label, bytes(r["credentials"])))
        return out

    async def reseal(self, conn: asyncpg.Connection, label: str, value: bytes) -> None:
        tenant_id, connection_id = self._rows[label]
        await set_credentials(conn, tenant_id, connection_id, value)


async def set_credentials(conn: asyncpg.Connection, tenant_id: str, connection_id: str, token: bytes) -> None:
    await conn.execute(
        "UPDATE connections SET credentials = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        uuid.UUID(connection_id),
        token,
    )
