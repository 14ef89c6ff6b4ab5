"""Scorecard settings: INTERLOOP_SCORECARD_* environment variables."""

from __future__ import annotations

from interloop_common.settings import ServiceSettings, env_prefix
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class ScorecardSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=env_prefix("scorecard"), extra="ignore", frozen=True)

    service_name: str = "scorecard"
    grpc_port: int = Field(default=50062, ge=0, le=65535)
    # A scorecard not submitted this long after the interview ended is overdue.
    feedback_due_hours: int = Field(default=24, ge=1)


def load() -> ScorecardSettings:
    return ScorecardSettings()
