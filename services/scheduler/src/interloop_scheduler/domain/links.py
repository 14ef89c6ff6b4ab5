"""Signed, expiring scheduling-link tokens: ``base64url(payload JSON) . base64url(HMAC-SHA256)``.
Pure: the key is passed in (the service keeps it in its settings); verification is constant-time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .model import SchedulingError, require_aware


class InvalidLink(SchedulingError):
    """The token is malformed, forged or expired (``field`` is 'token' or 'expires_at')."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def issue_link_token(payload: Mapping[str, Any], key: bytes, expires_at: datetime) -> str:
    """A token carrying ``payload`` (JSON-serialisable) until ``expires_at``."""
    require_aware(expires_at, "expires_at")
    if len(key) < 16:
        raise SchedulingError("key", "use at least 16 bytes of secret key")
    if "exp" in payload:
        raise SchedulingError("payload", "'exp' is reserved for the expiry")
    body = _b64(
        json.dumps(
            {**payload, "exp": int(expires_at.timestamp())}, sort_keys=True, separators=(",", ":")
        ).encode()
    )
    return f"{body}.{_sign(key, body)}"


def verify_link_token(token: str, key: bytes, now: datetime) -> dict[str, Any]:
    """The payload (without ``exp``) if the signature matches and ``now`` is before the expiry."""
    require_aware(now, "now")
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature:
        raise InvalidLink("token", "not a scheduling-link token")
    if not hmac.compare_digest(_sign(key, body).encode(), signature.encode()):
        raise InvalidLink("token", "signature does not match")
    try:
        payload = json.loads(_unb64(body))
        exp = int(payload.pop("exp"))
    except (ValueError, KeyError, TypeError):
        raise InvalidLink("token", "payload is not readable") from None
    if now.timestamp() >= exp:
        raise InvalidLink("expires_at", "the link has expired")
    return payload
