"""Gateway settings: INTERLOOP_GATEWAY_* environment variables."""

from __future__ import annotations

from interloop_common.settings import ServiceSettings, env_prefix
from pydantic import Field
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
    # How long an Idempotency-Key answers 409 "in progress" before another attempt may take it over
    # (a gateway that died mid-request); longer than the slowest request (reconciliation, 120 s).
    idempotency_lease_seconds: float = Field(default=300.0, gt=0)
    readiness_timeout_seconds: float = Field(default=1.0, gt=0)
    # An idle partner event stream sends a heartbeat this often (clients and proxies see it is alive).
    partner_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    # Public base URL used in candidate scheduling links.
    public_url: str = "http://127.0.0.1:8000"


def load() -> GatewaySettings:
    return GatewaySettings()
