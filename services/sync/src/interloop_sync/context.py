"""What the sync service's servicers, handlers and workers share: the vault and one HTTP client for vendors."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from interloop_common.service import Runtime

from interloop_sync import vault as vault_mod
from interloop_sync.domain.credentials import CredentialVault
from interloop_sync.settings import SyncSettings


@dataclass
class SyncContext:
    rt: Runtime
    settings: SyncSettings
    vault: CredentialVault | None
    http: httpx.AsyncClient

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
            httpx.AsyncClient(timeout=settings.vendor_timeout_seconds),
        )
        rt.extras["sync"] = ctx
    return ctx
