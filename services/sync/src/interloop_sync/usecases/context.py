"""What the sync service's use cases share: the credential vault (over the key ring), one pooled HTTP client
for vendors and the short-lived configuration cache."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from interloop_common.errors import Conflict
from interloop_common.keyring import KeyRing
from interloop_common.service import Runtime

from interloop_sync.domain.credentials import SETTING, CredentialVault
from interloop_sync.settings import SyncSettings
from interloop_sync.store.cache import ConfigCache

MISSING_KEYS = (
    f"no credential encryption keys configured: set {SETTING} to one or more comma-separated "
    "Fernet keys, newest first (generate one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())')"
)


class VaultUnavailable(Conflict):
    """No credential keys: an operator error, reported (FAILED_PRECONDITION), never papered over."""

    def __init__(self) -> None:
        super().__init__(MISSING_KEYS)


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

    def require_vault(self) -> CredentialVault:
        if self.vault is None:
            raise VaultUnavailable()
        return self.vault


def key_ring(settings: SyncSettings) -> KeyRing:
    return KeyRing(settings.credential_keys, setting=SETTING)


def of(rt: Runtime) -> SyncContext:
    ctx = rt.extras.get("sync")
    if ctx is None:
        settings: SyncSettings = rt.settings  # type: ignore[assignment]
        ring = key_ring(settings)
        ctx = SyncContext(
            rt,
            settings,
            CredentialVault(ring) if ring.configured else None,
            # One client for every vendor call: connections are pooled and kept alive between hires.
            httpx.AsyncClient(
                timeout=settings.vendor_timeout_seconds,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            ),
            ConfigCache(ttl=settings.config_cache_seconds),
        )
        rt.extras["sync"] = ctx
    return ctx


def require(vault: CredentialVault | None) -> CredentialVault:
    if vault is None:
        raise VaultUnavailable()
    return vault
