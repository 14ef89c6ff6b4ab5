"""The overdue chase as a background task: every poll, `usecases.expected.chase_overdue` reminds the
interviewers whose scorecards are past due."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta

import asyncpg
from interloop_common.periodic import every

from interloop_scorecard.settings import ScorecardSettings
from interloop_scorecard.usecases.expected import chase_overdue


def tasks(pool: asyncpg.Pool, settings: ScorecardSettings) -> list[Awaitable[None]]:
    if settings.overdue_reminders <= 0:
        return []
    interval = timedelta(hours=settings.overdue_reminder_every_hours)
    return [
        every(
            settings.overdue_poll_seconds,
            "overdue-scorecards",
            lambda: chase_overdue(pool, max_nudges=settings.overdue_reminders, every=interval),
        )
    ]
