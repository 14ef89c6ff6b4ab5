"""The credential vault built from settings; absent keys are an operator error reported, never papered
over."""

from __future__ import annotations

from interloop_sync.domain.credentials import CredentialVault
from interloop_sync.settings import SyncSettings

MISSING_KEYS = (
    "no credential encryption keys configured: set INTERLOOP_SYNC_CREDENTIAL_KEYS to one or more "
    "comma-separated "
    "Fernet keys, newest first (generate one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())')"
)


class VaultUnavailable(Exception):
    def __init__(self) -> None:
        super().__init__(MISSING_KEYS)


def build(settings: SyncSettings) -> CredentialVault | None:
    keys = settings.credential_key_list()
    return CredentialVault(keys) if keys else None


def require(vault: CredentialVault | None) -> CredentialVault:
    if vault is None:
        raise VaultUnavailable()
    return vault
