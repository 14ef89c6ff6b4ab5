"""Scheduler settings: INTERLOOP_SCHEDULER_* environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from interloop_common.settings import ServiceSettings, env_prefix


class SchedulerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=env_prefix("scheduler"), extra="ignore", frozen=True)

    service_name: str = "scheduler"
    grpc_port: int = Field(default=50061, ge=0, le=65535)
    # Signs candidate scheduling links (HMAC-SHA256); rotate by changing it (old links stop working).
    link_signing_key: SecretStr = SecretStr("dev-only-link-signing-key-change-me")
    hold_ttl_seconds: int = Field(default=600, ge=30)


def load() -> SchedulerSettings:
    return SchedulerSettings()
