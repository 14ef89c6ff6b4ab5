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
    # Overdue scorecards raise `scorecard.overdue` (an email to the interviewer) at most this many times,
    # this many hours apart; checked every overdue_poll_seconds (0 = never).
    overdue_reminders: int = Field(default=2, ge=0)
    overdue_reminder_every_hours: float = Field(default=24, gt=0)
    overdue_poll_seconds: float = Field(default=60, ge=0)
    # Bootstrap confidence intervals (reliability, predictive validity) resample at most this many values
    # per request; a larger request is refused with INVALID_ARGUMENT naming bootstrap_samples.
    statistics_max_bootstrap_cells: int = Field(default=50_000_000, ge=1)


def load() -> ScorecardSettings:
    return ScorecardSettings()
