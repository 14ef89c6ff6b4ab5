"""Scheduler settings: INTERLOOP_SCHEDULER_* environment variables."""

from __future__ import annotations

from typing import Literal

from interloop_common.keyring import KeyRing
from interloop_common.settings import ServiceSettings, env_prefix
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class SchedulerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=env_prefix("scheduler"), extra="ignore", frozen=True)

    service_name: str = "scheduler"
    grpc_port: int = Field(default=50061, ge=0, le=65535)
    # Signs candidate scheduling links (HMAC-SHA256); rotate by changing it (old links stop working).
    # Comma-separated Fernet keys, newest first, sealing interviewers' calendar credentials at rest.
    credential_keys: SecretStr = SecretStr("")
    link_signing_key: SecretStr = SecretStr("dev-only-link-signing-key-change-me")
    hold_ttl_seconds: int = Field(default=600, ge=30)
    # Where candidates open their links: <public_base_url>/schedule/<token> (the gateway's page).
    public_base_url: str = "http://127.0.0.1:8000"
    organizer_email: str = "scheduling@interloop.local"
    link_expires_hours: int = Field(default=72, ge=1)
    link_horizon_days: int = Field(default=14, ge=1)
    max_reschedules: int = Field(default=2, ge=0)
    reschedule_cutoff_hours: float = Field(default=24.0, ge=0)
    cancel_cutoff_hours: float = Field(default=0.0, ge=0)
    # Calendar sources are read every this many seconds, this many days ahead.
    calendar_refresh_seconds: float = Field(default=300.0, gt=0)
    calendar_horizon_days: int = Field(default=28, ge=1)
    calendar_http_attempts: int = Field(default=2, ge=1)
    # Every calendar call passes the outbound guard (outbound_allow/deny_networks): at most this long in
    # all, and an ICS feed or CalDAV answer at most this large.
    calendar_http_timeout_seconds: float = Field(default=30.0, gt=0)
    calendar_max_feed_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # iCalendar text is parsed and expanded in a child process killed after this long or above this
    # memory; recurrence is bounded (occurrences per event and per calendar in the window, and the steps
    # walked from each DTSTART); sub-minute rules are refused. Over a limit the calendar is unknown.
    calendar_parse_seconds: float = Field(default=10.0, gt=0)
    calendar_parse_memory_mib: int = Field(default=512, ge=64)
    calendar_max_occurrences_per_event: int = Field(default=1000, ge=1)
    calendar_max_occurrences_per_feed: int = Field(default=20000, ge=1)
    calendar_max_recurrence_steps: int = Field(default=200_000, ge=1)
    # Events written into interviewers' Google / Graph / CalDAV calendars: due writes are claimed this
    # often (0 = never), this many at a time; a failed write waits write_retry_seconds, doubling up to
    # write_retry_max_seconds, and fails for good (with an alert) after this many attempts.
    calendar_write_poll_seconds: float = Field(default=2.0, ge=0)
    calendar_write_batch: int = Field(default=50, ge=1, le=500)
    calendar_write_retry_seconds: float = Field(default=10.0, gt=0)
    calendar_write_retry_max_seconds: float = Field(default=1800.0, gt=0)
    calendar_write_max_attempts: int = Field(default=8, ge=1)
    # Push from Google / Graph calendars: a watch channel or subscription per interviewer calendar asks
    # for channel_seconds of life (Graph caps events at 4230 minutes) and is renewed once it has less than
    # channel_renew_seconds left, checked every channel_poll_seconds (0 = never); notifications go to the
    # gateway at push_base_url (empty = public_base_url) + /webhooks/calendars/{google,graph}. Polling
    # (calendar_refresh_seconds) stays the fallback. calendar_push = false opens no channels.
    calendar_push: bool = True
    calendar_push_base_url: str = ""
    calendar_channel_seconds: float = Field(default=7 * 24 * 3600.0, gt=0)
    calendar_channel_renew_seconds: float = Field(default=6 * 3600.0, ge=0)
    calendar_channel_poll_seconds: float = Field(default=300.0, ge=0)
    # Reminders (24 h, 1 h before) and expired holds are checked this often.
    reminder_poll_seconds: float = Field(default=5.0, gt=0)
    loop_time_limit_seconds: float = Field(default=5.0, gt=0)
    # The ATS rejected an application (or the candidate withdrew): its upcoming interviews are cancelled and
    # the panel told. Whether the candidate is sent the cancellation too: not for a rejection by default
    # (the ATS's rejection message is theirs to send, and a cancellation first would break the news), yes
    # for a withdrawal (they asked; it takes the interview out of their calendar).
    tell_candidate_on_rejection: bool = False
    tell_candidate_on_withdrawal: bool = True
    # Per tenant, overriding the two above: {"<tenant id>": {"rejection": true, "withdrawal": false}}.
    tell_candidate_by_tenant: dict[str, dict[Literal["rejection", "withdrawal"], bool]] = Field(
        default_factory=dict
    )

    def tells_candidate(self, tenant_id: str, *, withdrawn: bool) -> bool:
        """Whether a candidate whose application was closed is sent their interviews' cancellations."""
        kind: Literal["rejection", "withdrawal"] = "withdrawal" if withdrawn else "rejection"
        default = self.tell_candidate_on_withdrawal if withdrawn else self.tell_candidate_on_rejection
        return self.tell_candidate_by_tenant.get(tenant_id, {}).get(kind, default)


def load() -> SchedulerSettings:
    return SchedulerSettings()


def credential_ring(settings: SchedulerSettings) -> KeyRing:
    """The key ring sealing interviewers' calendar tokens and passwords at rest."""
    return KeyRing(settings.credential_keys, setting="INTERLOOP_SCHEDULER_CREDENTIAL_KEYS")
