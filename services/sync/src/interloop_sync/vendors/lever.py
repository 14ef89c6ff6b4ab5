"""Lever adapter: opportunities since a time (``updated_at_start``, ``offset``/``next`` + ``hasNext``)
and interview feedback write-back with ``perform_as``.

Auth: HTTP Basic with the API key as username (customers) or ``Authorization: Bearer`` (OAuth partners).
Lever documents a 10 req/s token bucket and 429s without a documented ``Retry-After``; we honour the header
when present. Error bodies are ``{"code": …, "message": …}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from ._http import send

PROVIDER = "lever"


@dataclass(frozen=True, slots=True)
class LeverConfig:
    base_url: str = "https://api.lever.co/v1"
    api_key: str | None = None
    oauth_token: str | None = None

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


class LeverClient:
    def __init__(self, client: httpx.AsyncClient, config: LeverConfig) -> None:
        self._client = client
        self._config = config
        self._base = config.base_url.rstrip("/")

    def _auth_kwargs(self) -> dict[str, Any]:
        if self._config.oauth_token:
            return {"headers": {"Authorization": f"Bearer {self._config.oauth_token}"}}
        return {"auth": httpx.BasicAuth(self._config.api_key or "", "")}

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        auth = self._auth_kwargs()
        headers = {**auth.pop("headers", {}), **kwargs.pop("headers", {})}
        return await send(
            PROVIDER, self._client, method, f"{self._base}{path}", headers=headers, **auth, **kwargs
        )

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
