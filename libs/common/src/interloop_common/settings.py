"""Typed settings read from the environment (`INTERLOOP_<SVC>_*`), built in each service's app.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from interloop_common.outbound import parse_networks


class ServiceSettings(BaseSettings):
    """What every service needs; a service subclasses it with its own env prefix and extra fields."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = "interloop"
    # The DSN carries the password, so it is a secret: never printed by repr() or logs.
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/postgres")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Prefix of every topic name, so several stacks (or tests) can share one broker.
    topic_prefix: str = ""
    # Topics the service creates when they are missing: partitions, replicas (3 on a production cluster;
    # min.insync.replicas is then 2, so acks=all survives one broker), and how long records are kept.
    # Events carry personal data (a candidate's name and address in invites and links), so retention
    # bounds how long an erased candidate's data can linger in Kafka's history.
    kafka_topic_partitions: int = Field(default=3, ge=1)
    kafka_topic_replication: int = Field(default=1, ge=1)
    kafka_retention_hours: float = Field(default=720, gt=0)
    # How clients reach the brokers: TLS (the CA file verifies them; else the system store; a client
    # certificate and key for mutual TLS) and SASL (PLAIN or SCRAM; the password is a secret).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: str = ""
    kafka_ssl_certfile: str = ""
    kafka_ssl_keyfile: str = ""
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    metrics_port: int = Field(default=0, ge=0, le=65535, description="0 disables the Prometheus endpoint")
    log_level: str = "INFO"
    # Apply pending migrations when serving (the dev stack, a single process). The Helm chart turns it off:
    # its migration Job applies them once per version, and `serve` then only checks the schema is current.
    migrate_on_start: bool = True
    # When migrations run as the database's owner role (database_url) and the service as another, the
    # runtime role's URL: `migrate` grants that role the data privileges it needs (db.migrate's grant_to).
    runtime_database_url: SecretStr = SecretStr("")
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=20, ge=1)
    # How long a transaction waits for a pooled connection before answering UNAVAILABLE (never forever).
    db_acquire_timeout_seconds: float = Field(default=10.0, gt=0)
    # Graceful drain: seconds in-flight RPCs get after SIGTERM (health flips to NOT_SERVING first).
    shutdown_grace_seconds: float = Field(default=5.0, ge=0)
    # Default deadline applied to outgoing RPCs that do not set one.
    rpc_deadline_seconds: float = Field(default=10.0, gt=0)
    consumer_max_attempts: int = Field(default=5, ge=1)
    # Kafka-key groups of one batch applied concurrently (order is kept within a key).
    consumer_concurrency: int = Field(default=8, ge=1)
    consumer_backoff_initial_seconds: float = Field(default=0.2, gt=0)
    consumer_backoff_max_seconds: float = Field(default=5.0, gt=0)
    # Owner alerted when something cannot be processed and is dead-lettered (an email address: alerts
    # are emailed, and an undeliverable owner must not turn into an alert about an alert).
    alert_owner: str = Field(default="platform-oncall@interloop.local", pattern=r"^[^@\s]+@[^@\s]+$")
    # Servers close each client connection after this long (gracefully), so clients re-resolve a
    # headless Service's DNS and new pods get their share of the calls.
    grpc_max_connection_age_seconds: float = Field(default=300, gt=0)
    # Calls a tenant can steer (calendar feeds, vendor URLs, webhooks) never reach inside addresses
    # (interloop_common.outbound). Comma-separated CIDRs refused as well (the cluster's pod and service
    # ranges), and CIDRs opened although inside (loopback for the dev stack's and tests' local fakes; empty
    # in production).
    outbound_deny_networks: str = ""
    outbound_allow_networks: str = ""
    # Housekeeping (interloop_common.retention): how often the shared tables are swept (0 = never), and
    # how long published outbox rows and replayed dead letters are kept. Inbox ids are kept for Kafka's
    # retention plus this margin: an event Kafka still holds must still be recognised as applied.
    retention_sweep_seconds: float = Field(default=3600, ge=0)
    retention_outbox_hours: float = Field(default=168, gt=0)
    retention_inbox_margin_hours: float = Field(default=24, ge=0)
    retention_dead_letters_hours: float = Field(default=720, gt=0)
    # An idempotent call's record (interloop_common.idempotency) answers retries this long: the gateway's
    # Idempotency-Key window (Stripe's 24 hours).
    retention_idempotency_hours: float = Field(default=24, gt=0)

    @model_validator(mode="after")
    def _kafka_security(self) -> ServiceSettings:
        protocol = self.kafka_security_protocol
        if protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(
                f"kafka_security_protocol {protocol} needs kafka_sasl_username and kafka_sasl_password"
            )
        tls_files = self.kafka_ssl_cafile or self.kafka_ssl_certfile or self.kafka_ssl_keyfile
        if tls_files and protocol not in ("SSL", "SASL_SSL"):
            raise ValueError(
                f"kafka_ssl_* files need kafka_security_protocol SSL or SASL_SSL, not {protocol}"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError("kafka_ssl_certfile and kafka_ssl_keyfile go together (mutual TLS)")
        return self

    @field_validator("outbound_deny_networks", "outbound_allow_networks")
    @classmethod
    def _networks(cls, value: str, info: ValidationInfo) -> str:
        parse_networks(value, info.field_name or "networks")
        return value


def env_prefix(service: str) -> str:
    return f"INTERLOOP_{service.upper()}_"
