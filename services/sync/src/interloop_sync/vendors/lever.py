"""Lever adapter: opportunities since a time (``updated_at_start``, ``offset``/``next`` + ``hasNext``)
and interview feedback write-back with ``perform_as``.

Auth: HTTP Basic with the API key as username (customers) or ``Authorization: Bearer`` (OAuth partners).
An OAuth access token lives an hour: on a 401 the client asks ``renew`` for a fresh one (the sync service
does that under a lock on the stored connection, so replicas never spend the same refresh token twice;
without ``renew`` the client trades its refresh token itself) and retries the request once. The trade is
RFC 6749 §6 at Lever's token endpoint, client id + secret in the form; Lever rotates the refresh token.
Lever documents a 10 req/s token bucket and 429s without a documented ``Retry-After``; we honour the header
when present. Error bodies are ``{"code": …, "message": …}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from interloop_common.vendor_http import AuthFailed, send

PROVIDER = "lever"


@dataclass(frozen=True, slots=True)
class LeverConfig:
    base_url: str = "https://api.lever.co/v1"
    api_key: str | None = None
    oauth_token: str | None = None
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_url: str = "https://auth.lever.co/oauth/token"  # noqa: S105 - a URL, not a secret

    @property
    def can_refresh(self) -> bool:
        return bool(self.oauth_token and self.refresh_token and self.client_id and self.client_secret)

    def __repr__(self) -> str:
        return f"LeverConfig(base_url={self.base_url!r}, <secrets redacted>)"


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None  # Lever's opaque ``next`` offset; None when ``hasNext`` is false


@dataclass(frozen=True, slots=True)
class FeedbackWrite:
    created: bool
    feedback: dict[str, Any]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def feedback_marker(idempotency_key: str) -> str:
    return f"[interloop:{idempotency_key}]"


# Given the access token that was refused, returns one that works (refreshed and stored, or already
# refreshed by someone else).
Renew = Callable[[str], Awaitable[str]]


async def refresh_tokens(
    client: httpx.AsyncClient, config: LeverConfig, refresh_token: str
) -> tuple[str, str]:
    """(access token, refresh token) for a refresh token; the old refresh token is spent."""
    response = await send(
        PROVIDER,
        client,
        "POST",
        config.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": config.client_id or "",
            "client_secret": config.client_secret or "",
        },
    )
    body = response.json()
    return body["access_token"], body.get("refresh_token") or refresh_token


class LeverClient:
    def __init__(self, client: httpx.AsyncClient, config: LeverConfig, renew: Renew | None = None) -> None:
        self._client = client
        self._config = config
        self._base = config.base_url.rstrip("/")
        self._access, self._refresh = config.oauth_token, config.refresh_token
        self._renew = renew

    def _auth_kwargs(self) -> dict[str, Any]:
        if self._access:
            return {"headers": {"Authorization": f"Bearer {self._access}"}}
        return {"auth": httpx.BasicAuth(self._config.api_key or "", "")}

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in (1, 2):
            auth = self._auth_kwargs()
            headers = {**auth.pop("headers", {}), **kwargs.get("headers", {})}
            rest = {k: v for k, v in kwargs.items() if k != "headers"}
            try:
                return await send(
                    PROVIDER, self._client, method, f"{self._base}{path}", headers=headers, **auth, **rest
                )
            except AuthFailed as exc:
                if attempt == 2 or exc.status != 401 or not self._config.can_refresh:
                    raise
                if self._renew is not None:
                    self._access = await self._renew(self._access or "")
                else:
                    self._access, self._refresh = await refresh_tokens(
                        self._client, self._config, self._refresh or ""
                    )
        raise AssertionError("unreachable")

    async def list_opportunities(
        self, *, updated_at_start: datetime | None = None, cursor: str | None = None, limit: int = 100
    ) -> Page:
        params: dict[str, Any] = {"limit": limit}
        if updated_at_start is not None:
            params["updated_at_start"] = _ms(updated_at_start)
        if cursor:
            params["offset"] = cursor
        body = (await self._request("GET", "/opportunities", params=params)).json()
        return Page(body.get("data", []), body.get("next") if body.get("hasNext") else None)

    async def get_opportunity(self, opportunity_id: str) -> dict[str, Any]:
        return (await self._request("GET", f"/opportunities/{opportunity_id}")).json()["data"]

    async def list_feedback(self, opportunity_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"offset": cursor} if cursor else {}
            body = (
                await self._request("GET", f"/opportunities/{opportunity_id}/feedback", params=params)
            ).json()
            items.extend(body.get("data", []))
            if not body.get("hasNext"):
                return items
            cursor = body.get("next")

    async def submit_feedback(
        self,
        opportunity_id: str,
        *,
        perform_as: str,
        base_template_id: str,
        field_values: Sequence[dict[str, Any]],
        idempotency_key: str,
        marker_field_id: str,
        completed_at: datetime | None = None,
        interview_id: str | None = None,
        panel_id: str | None = None,
    ) -> FeedbackWrite:
        """Create a feedback form once. Lever has no idempotency keys: a marker is written into the text
        field ``marker_field_id`` and existing feedback is searched for it first."""
        marker = feedback_marker(idempotency_key)
        for existing in await self.list_feedback(opportunity_id):
            for f in existing.get("fields", []) or []:
                if marker in str(f.get("value") or ""):
                    return FeedbackWrite(False, existing)
        values = [dict(v) for v in field_values]
        for v in values:
            if v.get("id") == marker_field_id:
                v["value"] = f"{v.get('value') or ''}\n\n{marker}".strip()
                break
        else:
            values.append({"id": marker_field_id, "value": marker})
        body: dict[str, Any] = {"baseTemplateId": base_template_id, "fieldValues": values}
        if completed_at is not None:
            body["completedAt"] = _ms(completed_at)
        if interview_id:
            body["interview"] = interview_id
        if panel_id:
            body["panel"] = panel_id
        response = await self._request(
            "POST", f"/opportunities/{opportunity_id}/feedback", params={"perform_as": perform_as}, json=body
        )
        return FeedbackWrite(True, response.json().get("data", {}))
