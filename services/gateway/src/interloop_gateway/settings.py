"""Gateway settings: INTERLOOP_GATEWAY_* environment variables."""

from __future__ import annotations

from interloop_common.settings import ServiceSettings, env_prefix
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=env_prefix("gateway"), extra="ignore", frozen=True)

    service_name: str = "gateway"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    # The partner gRPC API for ATS vendors.
    grpc_port: int = Field(default=50064, ge=0, le=65535)
    scheduler_target: str = "127.0.0.1:50061"
    scorecard_target: str = "127.0.0.1:50062"
    sync_target: str = "127.0.0.1:50063"
    # How long a verified API key is trusted without a database lookup (revocation delay).
    api_key_cache_seconds: float = Field(default=30.0, ge=0)
    # Requests one API key may make per minute on one gateway replica (a moving window; 429 with
    # Retry-After beyond it): one tenant's runaway script cannot take the API from everyone. 0: no limit.
    api_key_calls_per_minute: int = Field(default=6000, ge=0)
    # ... and all of one tenant's keys together (a tenant cannot multiply its share by minting keys).
    tenant_calls_per_minute: int = Field(default=20000, ge=0)
    # The largest request body the REST API and the webhooks take (413 beyond): bounds what one request can
    # make the gateway hold. Greenhouse and Lever deliveries are kilobytes.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # How long an Idempotency-Key answers 409 "in progress" before another attempt may take it over
    # (a gateway that died mid-request); longer than the slowest request (reconciliation, 120 s).
    idempotency_lease_seconds: float = Field(default=300.0, gt=0)
    # How long an Idempotency-Key's stored answer is kept (then the key may be reused): Stripe's 24 hours.
    idempotency_retention_hours: float = Field(default=24, gt=0)
    readiness_timeout_seconds: float = Field(default=1.0, gt=0)
    # How often the backends' gRPC health is checked in the background for /readyz's report (the
    # readiness probe itself never waits on a backend).
    backend_health_seconds: float = Field(default=5.0, gt=0)
    # TLS on the partner gRPC port (PEM files); with a client CA, mutual TLS: every partner presents a
    # certificate that CA signed, and a partner registered with a certificate subject must present that one.
    partner_tls_cert_file: str = ""
    partner_tls_key_file: str = ""
    partner_tls_client_ca_file: str = ""
    # An idle partner event stream sends a heartbeat this often (clients and proxies see it is alive).
    partner_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    # Public base URL used in candidate scheduling links.
    public_url: str = "http://127.0.0.1:8000"

    @model_validator(mode="after")
    def _partner_tls(self) -> GatewaySettings:
        if bool(self.partner_tls_cert_file) != bool(self.partner_tls_key_file):
            raise ValueError("partner_tls_cert_file and partner_tls_key_file go together")
        if self.partner_tls_client_ca_file and not self.partner_tls_cert_file:
            raise ValueError(
                "partner_tls_client_ca_file (mutual TLS) needs partner_tls_cert_file and _key_file"
            )
        return self


def load() -> GatewaySettings:
    return GatewaySettings()
