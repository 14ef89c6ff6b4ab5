"""Builds a vendor adapter for a stored connection and its decrypted credentials."""

from __future__ import annotations

from typing import Any

import httpx

from ..domain.credentials import Credentials
from ..store.connections import Connection
from .bamboohr import BambooHR, BambooHRConfig
from .greenhouse import GreenhouseConfig, GreenhouseHarvest
from .hris import HrisAdapter
from .lever import LeverClient, LeverConfig, Renew
from .workday import WorkdayConfig, WorkdayStaffing

# Which credential carries the webhook signing secret, per ATS.
WEBHOOK_SECRET = {"greenhouse": "webhook_secret", "lever": "signature_token"}
# Credential fields each provider needs before a connection can be created.
REQUIRED_CREDENTIALS = {
    "greenhouse": ("webhook_secret",),
    "lever": ("signature_token",),
    "workday": ("access_token",),
    "bamboohr": ("api_key",),
}
REQUIRED_SETTINGS = {"workday": ("tenant",), "bamboohr": ("company_domain",)}


def _opt(creds: Credentials, key: str) -> str | None:
    return creds[key].reveal() if key in creds else None


def hris_adapter(client: httpx.AsyncClient, c: Connection, creds: Credentials) -> HrisAdapter:
    if c.provider == "workday":
        return WorkdayStaffing(
            client,
            WorkdayConfig(
                base_url=c.base_url, tenant=c.settings["tenant"], access_token=creds["access_token"].reveal()
            ),
        )
    if c.provider == "bamboohr":
        kwargs: dict[str, Any] = {"base_url": c.base_url} if c.base_url else {}
        return BambooHR(
            client,
            BambooHRConfig(
                company_domain=c.settings["company_domain"], api_key=creds["api_key"].reveal(), **kwargs
            ),
        )
    raise ValueError(f"{c.provider} is not an HRIS provider")


def greenhouse(client: httpx.AsyncClient, c: Connection, creds: Credentials) -> GreenhouseHarvest:
    kwargs: dict[str, Any] = {"base_url": c.base_url} if c.base_url else {}
    if "token_url" in c.settings:
        kwargs["token_url"] = c.settings["token_url"]
    return GreenhouseHarvest(
        client,
        GreenhouseConfig(
            api_version="v3" if c.settings.get("api_version") == "v3" else "v1",
            api_key=_opt(creds, "api_key"),
            on_behalf_of=c.settings.get("on_behalf_of"),
            client_id=_opt(creds, "client_id"),
            client_secret=_opt(creds, "client_secret"),
            **kwargs,
        ),
    )


def lever_config(c: Connection, creds: Credentials) -> LeverConfig:
    kwargs: dict[str, Any] = {"base_url": c.base_url} if c.base_url else {}
    if "token_url" in c.settings:
        kwargs["token_url"] = c.settings["token_url"]
    return LeverConfig(
        api_key=_opt(creds, "api_key"),
        oauth_token=_opt(creds, "oauth_token"),
        refresh_token=_opt(creds, "refresh_token"),
        client_id=_opt(creds, "client_id"),
        client_secret=_opt(creds, "client_secret"),
        **kwargs,
    )


def lever(
    client: httpx.AsyncClient, c: Connection, creds: Credentials, renew: Renew | None = None
) -> LeverClient:
    return LeverClient(client, lever_config(c, creds), renew)


def has_api_access(c: Connection, creds: Credentials) -> bool:
    if c.provider == "greenhouse":
        return "api_key" in creds or ("client_id" in creds and "client_secret" in creds)
    if c.provider == "lever":
        return "api_key" in creds or "oauth_token" in creds
    return True
