"""What the sync service's use cases share: the credential vault (over the key ring), one pooled HTTP client
per vendor (and one for tenants' webhooks), each behind the outbound guard, and the short-lived
configuration cache."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from interloop_common import vendor_http
from interloop_common.errors import Conflict
from interloop_common.keyring import KeyRing
from interloop_common.outbound import OutboundPolicy
from interloop_common.service import Runtime

from interloop_sync.domain.credentials import SETTING, CredentialVault
from interloop_sync.settings import SyncSettings
from interloop_sync.store.cache import ConfigCache
from interloop_sync.vendors import registry

# The outbound policy and client of automation rules' webhooks (``call_webhook``).
WEBHOOK = "webhook"

MISSING_KEYS = (
    f"no credential encryption keys configured: set {SETTING} to one or more comma-separated "
    "Fernet keys, newest first (generate one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())')"
)


class VaultUnavailable(Conflict):
    """No credential keys: an operator error, reported (FAILED_PRECONDITION), never papered over."""

    def __init__(self) -> None:
        super().__init__(MISSING_KEYS)


def outbound_policies(settings: SyncSettings) -> dict[str, OutboundPolicy]:
    """The outbound guard of each provider (pinned to its adapter's hosts) and of webhooks (any public
    host). The local fakes are reached only through ``outbound_allow_networks``."""
    base = OutboundPolicy.from_settings(settings, timeout_seconds=3 * settings.vendor_timeout_seconds)
    policies = {name: base.pinned(*a.hosts) for name, a in registry.ADAPTERS.items()}
    policies[WEBHOOK] = base
    return policies


def http_clients(
    policies: Mapping[str, OutboundPolicy], settings: SyncSettings
) -> dict[str, httpx.AsyncClient]:
    """One pooled, guarded client per policy: connections are kept alive between hires. Webhooks follow
    redirects (each hop is checked again); vendor calls never do."""
    return {
        name: vendor_http.client(
            guard=policy,
            timeout=settings.vendor_timeout_seconds,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            follow_redirects=name == WEBHOOK,
        )
        for name, policy in policies.items()
    }


@dataclass
class SyncContext:
    rt: Runtime
    settings: SyncSettings
    vault: CredentialVault | None
    clients: Mapping[str, httpx.AsyncClient]
    cache: ConfigCache = field(default_factory=lambda: ConfigCache(ttl=0))
    policies: Mapping[str, OutboundPolicy] = field(default_factory=dict)

    def http(self, provider: str) -> httpx.AsyncClient:
        """The guarded client of ``provider`` (or ``WEBHOOK``)."""
        return self.clients[provider]

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
        policies = outbound_policies(settings)
        ctx = SyncContext(
            rt,
            settings,
            CredentialVault(ring) if ring.configured else None,
            http_clients(policies, settings),
            ConfigCache(ttl=settings.config_cache_seconds),
            policies,
        )
        rt.extras["sync"] = ctx
    return ctx


def require(vault: CredentialVault | None) -> CredentialVault:
    if vault is None:
        raise VaultUnavailable()
    return vault
