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
    # Vendor calls (SMTP, webhooks, ATS write-back, the HRIS hand-off) run in the automation worker, claim ->
    # commit -> call -> record: actions run at once (each holds at most one connection, only between
    # calls), claimed per round, leased for (longer than the slowest call), retried after a backoff doubling
    # from the initial delay to the maximum (an HRIS down for minutes is waited out, never dead-lettered).
    automation_concurrency: int = Field(default=4, ge=1)
    automation_batch: int = Field(default=50, ge=1)
    automation_lease_seconds: float = Field(default=60.0, gt=0)
    automation_retry_initial_seconds: float = Field(default=2.0, gt=0)
    automation_retry_max_seconds: float = Field(default=300.0, gt=0)
    # Each reconciliation round reads at most this many pages and this long per connection, then resumes
    # from the stored cursor next round; a run that reads more pages than the cap in all is cut off and
    # alerted (a vendor whose next cursor never ends).
    reconcile_page_budget: int = Field(default=50, ge=1)
    reconcile_time_budget_seconds: float = Field(default=60.0, gt=0)
    reconcile_max_run_pages: int = Field(default=10000, ge=1)
    # Consumer handlers only touch the database now (vendors are called by the worker): a few concurrent
    # key groups per consumer are enough, and the pool must cover them all (checked at start).
    consumer_concurrency: int = Field(default=2, ge=1)
    db_pool_max: int = Field(default=32, ge=1)
    # Connections kept for gRPC calls on top of the consumers' and the background work's.
    db_rpc_connections: int = Field(default=4, ge=1)

    def pool_shortfall(self, consumer_groups: int) -> str | None:
        """None when the pool covers every holder of a connection at once; otherwise the one line to fail
        start with. Holders: each consumer's concurrent key groups, the automation worker's actions, the
        background loops (outbox relay, the worker's LISTEN, reconciliation, retention purge, the shared
        retention sweep), and the connections kept for RPCs."""
        background = 5
        need = (
            consumer_groups * self.consumer_concurrency
            + self.automation_concurrency
            + background
            + self.db_rpc_connections
        )
        if self.db_pool_max >= need:
            return None
        return (
            f"sync: INTERLOOP_SYNC_DB_POOL_MAX={self.db_pool_max} is below the {need} connections its "
            f"concurrency needs ({consumer_groups} consumers x INTERLOOP_SYNC_CONSUMER_CONCURRENCY="
            f"{self.consumer_concurrency} + INTERLOOP_SYNC_AUTOMATION_CONCURRENCY="
            f"{self.automation_concurrency} + {background} background + "
            f"INTERLOOP_SYNC_DB_RPC_CONNECTIONS={self.db_rpc_connections}): "
            f"raise the pool to {need} or lower the concurrency"
        )


def load() -> SyncSettings:
    return SyncSettings()
