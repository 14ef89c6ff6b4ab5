"""Send vendor-signed webhooks to a URL, exactly as Greenhouse and Lever would (tests and demo stack).

Greenhouse: ``Signature: sha256 <hex HMAC-SHA256(secret, raw body)>`` + ``Greenhouse-Event-ID``.
Lever: ``signature = hex HMAC-SHA256(signature_token, token + str(triggeredAt))`` inside the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class SignedWebhook:
    headers: dict[str, str]
    body: bytes


def _bytes(body: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":")).encode()


def sign_greenhouse(
    body: bytes | str | Mapping[str, Any], secret: str, event_id: str | None = None
) -> SignedWebhook:
    raw = _bytes(body)
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return SignedWebhook(
        {
            "Content-Type": "application/json",
            "User-Agent": "Greenhouse Webhooks",
            "Signature": f"sha256 {digest}",
            "Greenhouse-Event-ID": event_id or str(uuid.uuid4()),
        },
        raw,
    )


def sign_lever(
    event: str,
    data: Mapping[str, Any],
    signature_token: str,
    *,
    triggered_at_ms: int | None = None,
    token: str | None = None,
) -> SignedWebhook:
    token = token or secrets.token_hex(24)  # Lever: "Randomly generated string with length 48"
    triggered = triggered_at_ms if triggered_at_ms is not None else int(time.time() * 1000)
    signature = hmac.new(signature_token.encode(), f"{token}{triggered}".encode(), hashlib.sha256).hexdigest()
    envelope = {
        "id": str(uuid.uuid4()),
        "triggeredAt": triggered,
        "event": event,
        "data": dict(data),
        "signature": signature,
        "token": token,
    }
    return SignedWebhook(
        {"Content-Type": "application/json", "User-Agent": "Lever-Webhooks"}, json.dumps(envelope).encode()
    )


def deliver(url: str, webhook: SignedWebhook, timeout: float = 10.0) -> httpx.Response:
    """POST synchronously (demo scripts)."""
    return httpx.post(url, content=webhook.body, headers=webhook.headers, timeout=timeout)


async def deliver_async(client: httpx.AsyncClient, url: str, webhook: SignedWebhook) -> httpx.Response:
    return await client.post(url, content=webhook.body, headers=webhook.headers)
