"""The BambooHR adapter: add an employee and read the fields back.

``POST {base}/api/gateway.php/{company}/v1/employees/`` with HTTP Basic (API key as username, any
password, conventionally ``x``); the new id comes back in the ``Location`` header (201, empty body).
``GET …/v1/employees/{id}/?fields=a,b`` returns the requested fields. BambooHR throttles with
``503 + Retry-After`` as well as 429, and puts error text in ``X-BambooHR-Error-Message``.

BambooHR has no idempotency keys and no lookup by our key, so exactly-once relies on the caller's
idempotency table (claim the key before calling, store the returned id) — ``created`` is always True.
Compensation goes to ``payRate`` as ``"<amount> <currency>"`` (the field's display form).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import httpx
from interloop_common.vendor_http import Permanent

from ..domain.credentials import Credentials
from ..domain.model import Money
from ..store.connections import Connection
from ._http import send
from .hris import HireWrite

PROVIDER = "bamboohr"
# The API gateway host (api.bamboohr.com/api/gateway.php/{company}/v1); a connection's base_url is pinned.
HOSTS = ("api.bamboohr.com",)
FIELD_NAMES = {
    "first_name": "firstName",
    "last_name": "lastName",
    "personal_email": "homeEmail",
    "title": "jobTitle",
    "department": "department",
    "start_date": "hireDate",
    "manager": "supervisorEId",
    "location": "location",
    "compensation": "payRate",
}


@dataclass(frozen=True, slots=True)
class BambooHRConfig:
    company_domain: str
    api_key: str
    base_url: str = "https://api.bamboohr.com"

    def __repr__(self) -> str:
        return f"BambooHRConfig(company_domain={self.company_domain!r}, <api key redacted>)"


def _wire_value(value: Any) -> str:
    if isinstance(value, Money):
        return f"{format(value.amount, 'f')} {value.currency}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _parse_pay_rate(value: str) -> Any:
    amount, _, currency = value.strip().partition(" ")
    try:
        return Money(Decimal(amount), currency.strip().upper())
    except InvalidOperation:
        return value


def _throttled(response: httpx.Response) -> bool:
    """BambooHR throttles with a 503 that carries Retry-After, as well as 429."""
    return response.status_code == 429 or (response.status_code == 503 and "retry-after" in response.headers)


class BambooHR:
    def __init__(self, client: httpx.AsyncClient, config: BambooHRConfig) -> None:
        self._client = client
        self._config = config
        self._root = f"{config.base_url.rstrip('/')}/api/gateway.php/{config.company_domain}/v1"
        self._auth = httpx.BasicAuth(config.api_key, "x")

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await send(
            PROVIDER,
            self._client,
            method,
            f"{self._root}{path}",
            auth=self._auth,
            headers={"Accept": "application/json"},
            throttled=_throttled,
            **kwargs,
        )

    async def create_hire(self, fields: Mapping[str, Any], *, idempotency_key: str) -> HireWrite:
        body = {FIELD_NAMES[k]: _wire_value(v) for k, v in fields.items() if k in FIELD_NAMES}
        response = await self._request("POST", "/employees/", json=body)
        location = response.headers.get("location", "")
        remote_id = location.rstrip("/").rsplit("/", 1)[-1]
        if not remote_id:
            raise Permanent(PROVIDER, response.status_code, response.text, "201 without a Location header")
        return HireWrite(remote_id, created=True)

    async def update(self, remote_id: str, fields: Mapping[str, Any]) -> None:
        """BambooHR's update employee: ``POST …/employees/{id}/`` with only the fields to change (200)."""
        body = {FIELD_NAMES[k]: _wire_value(v) for k, v in fields.items() if k in FIELD_NAMES}
        await self._request("POST", f"/employees/{remote_id}/", json=body)

    async def read_back(self, remote_id: str) -> dict[str, Any]:
        names = ",".join(FIELD_NAMES.values())
        body = (await self._request("GET", f"/employees/{remote_id}/", params={"fields": names})).json()
        out: dict[str, Any] = {}
        for ours, theirs in FIELD_NAMES.items():
            if body.get(theirs) is None:
                continue
            out[ours] = _parse_pay_rate(body[theirs]) if ours == "compensation" else body[theirs]
        return out


class BambooHRAdapter:
    kind: Literal["hris"] = "hris"
    provider = PROVIDER
    display_name = "BambooHR"
    required_credentials = ("api_key",)
    required_settings = ("company_domain",)
    base_url_required: str | None = None
    hosts = HOSTS
    idempotent_creates = False  # no idempotency keys and no lookup by ours: see the module docstring

    def client(self, http: httpx.AsyncClient, c: Connection, creds: Credentials) -> BambooHR:
        kwargs: dict[str, Any] = {"base_url": c.base_url} if c.base_url else {}
        return BambooHR(
            http,
            BambooHRConfig(
                company_domain=c.settings["company_domain"], api_key=creds["api_key"].reveal(), **kwargs
            ),
        )


ADAPTER = BambooHRAdapter()
