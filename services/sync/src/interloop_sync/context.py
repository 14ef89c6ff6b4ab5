"""What the sync service's servicers, handlers and workers share: the vault, one pooled HTTP client for
vendors
and the short-lived configuration cache."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from interloop_common.service import Runtime

from interloop_sync import vault as vault_mod
from interloop_sync.cache import ConfigCache
from interloop_sync.domain.credentials import CredentialVault
from interloop_sync.settings import SyncSettings


@dataclass
class SyncContext:
    rt: Runtime
    settings: SyncSettings
    vault: CredentialVault | None
    http: httpx.AsyncClient
    cache: ConfigCache = field(default_factory=lambda: ConfigCache(ttl=0))

    @property
    def pool(self):  # type: ignore[no-untyped-def]
        return self.rt.pool


def of(rt: Runtime) -> SyncContext:
    ctx = rt.extras.get("sync")
    if ctx is None:
        settings: SyncSettings = rt.settings  # type: ignore[assignment]
        ctx = SyncContext(
            rt,
            settings,
            vault_mod.build(settings),
            # One client for every vendor call: connections are pooled and kept alive between hires.
            httpx.AsyncClient(
                timeout=settings.vendor_timeout_seconds,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            ),
            ConfigCache(ttl=settings.config_cache_seconds),
        )
        rt.extras["sync"] = ctx
    return ctx
