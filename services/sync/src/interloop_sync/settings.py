"""Sync settings: INTERLOOP_SYNC_* environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from interloop_common.settings import ServiceSettings, env_prefix


class SyncSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=env_prefix("sync"), extra="ignore", frozen=True)

    service_name: str = "sync"
    grpc_port: int = Field(default=50063, ge=0, le=65535)
    # Comma-separated Fernet keys, newest first: encrypt with the first, decrypt with any (rotation).
    credential_keys: SecretStr = SecretStr("")
    webhook_freshness_seconds: int = Field(default=300, ge=1)


def load() -> SyncSettings:
    return SyncSettings()
