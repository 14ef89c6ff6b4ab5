"""Sync settings: INTERLOOP_SYNC_* environment variables."""

from __future__ import annotations

from interloop_common.settings import ServiceSettings, env_prefix
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class SyncSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=env_prefix("sync"), extra="ignore", frozen=True)

    service_name: str = "sync"
    grpc_port: int = Field(default=50063, ge=0, le=65535)
    # Comma-separated Fernet keys, newest first: encrypt with the first, decrypt with any (rotation).
    credential_keys: SecretStr = SecretStr("")
    webhook_freshness_seconds: int = Field(default=300, ge=1)
    # Background reconciliation of every active ATS connection with API credentials (0 disables).
    reconcile_interval_seconds: float = Field(default=300.0, ge=0)
    # The retention purge (every tenant's candidates kept long enough and not held); 0 turns it off.
    retention_interval_seconds: float = Field(default=86400.0, ge=0)
    # How often the automation worker looks for due actions.
    automation_poll_seconds: float = Field(default=1.0, gt=0)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=0, le=65535)
    smtp_sender: str = "no-reply@interloop.local"
    # Email every interview's invite, updates, cancellation (ICS attached) and candidate reminders; off when
    # the ATS or a calendar integration sends them instead.
    interview_emails: bool = True
    vendor_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long connections (with decrypted credentials) and automation rules are reused without a query;
    # changes made through another replica take up to this long to apply here (0 = always query).
    config_cache_seconds: float = Field(default=5.0, ge=0)


def load() -> SyncSettings:
    return SyncSettings()
