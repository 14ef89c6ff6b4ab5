"""Short-lived, in-process caches of configuration read on every webhook and every hire: connections with
their decrypted credentials, the HRIS connection an ATS hands hires to, and each tenant's enabled automation
rules. Writes made through this process invalidate at once; other replicas see them within the TTL."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import asyncpg
from cachetools import TTLCache

from interloop_sync.domain.automations import Rule
from interloop_sync.domain.credentials import Credentials, CredentialVault
from interloop_sync.store import connections
from interloop_sync.store.connections import Connection

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(TTLCache, Generic[K, V]):  # type: ignore[type-arg]
    """cachetools' TTLCache with the two verbs the callers use; `ttl` 0 caches nothing."""

    def __init__(self, ttl: float, maxsize: int = 4096) -> None:
        super().__init__(maxsize=maxsize, ttl=ttl)

    def put(self, key: K, value: V) -> None:
        if self.ttl > 0:
            self[key] = value

    def pop(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        return super().pop(key, default)


@dataclass
class ConfigCache:
    """What ingest and the HRIS hand-off would otherwise query (and decrypt) per delivery and per hire."""

    ttl: float = 5.0
    connections: TtlCache[str, Connection] = field(init=False)
    # Keyed by the stored token itself: re-encrypted or replaced credentials are simply a miss.
    credentials: TtlCache[bytes, Credentials] = field(init=False)
    # ATS connection id -> the id of the HRIS connection it hands hires to ("" = none, or ambiguous).
    hris_targets: TtlCache[str, str] = field(init=False)
    rules: TtlCache[str, list[Rule]] = field(init=False)

    def __post_init__(self) -> None:
        self.connections = TtlCache(self.ttl)
        self.credentials = TtlCache(self.ttl)
        self.hris_targets = TtlCache(self.ttl)
        self.rules = TtlCache(self.ttl)

    async def connection(
        self, conn: asyncpg.Connection, tenant_id: str, connection_id: str
    ) -> Connection | None:
        c = self.connections.get(connection_id)
        if c is None or c.tenant_id != tenant_id:
            c = await connections.get(conn, tenant_id, connection_id)
            if c is not None:
                self.connections.put(connection_id, c)
        return c

    async def hris_for(
        self, conn: asyncpg.Connection, ats: Connection, hris_providers: Sequence[str]
    ) -> Connection | None:
        target_id = self.hris_targets.get(ats.id)
        if target_id is None:
            target = await connections.hris_for(conn, ats, hris_providers)
            self.hris_targets.put(ats.id, target.id if target is not None else "")
            if target is not None:
                self.connections.put(target.id, target)
            return target
        return await self.connection(conn, ats.tenant_id, target_id) if target_id else None

    def decrypt(self, vault: CredentialVault, c: Connection) -> Credentials:
        creds = self.credentials.get(c.credentials)
        if creds is None:
            creds = vault.decrypt(c.credentials)
            self.credentials.put(c.credentials, creds)
        return creds

    def connection_changed(self, connection_id: str) -> None:
        """A connection was created or changed: its entry and every ATS -> HRIS choice may be stale."""
        self.connections.pop(connection_id)
        self.hris_targets.clear()

    def rules_changed(self, tenant_id: str) -> None:
        self.rules.pop(tenant_id)
