"""Webhook signature verification on the raw request bytes, exactly as each vendor documents it.

Greenhouse: header ``Signature: sha256 <hex HMAC-SHA256(secret, raw body)>`` over the entire body.
Lever: ``signature`` in the JSON body = hex HMAC-SHA256(signatureToken, token + str(triggeredAt)),
with ``triggeredAt`` in epoch milliseconds; we add a freshness window against replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

GREENHOUSE = "greenhouse"
LEVER = "lever"

DEFAULT_LEVER_MAX_AGE = timedelta(minutes=10)
# Deliveries stamped slightly in the future (vendor clock skew) are tolerated up to this much.
DEFAULT_CLOCK_SKEW = timedelta(minutes=2)


class SignatureFailure(StrEnum):
    FORGED = "forged"
    STALE = "stale"
    MALFORMED = "malformed"


class SignatureError(Exception):
    """A webhook whose signature cannot be accepted; ``kind`` says why, ``reason`` says what was wrong."""

    kind: SignatureFailure = SignatureFailure.FORGED

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider} webhook rejected ({self.kind}): {reason}")
        self.provider = provider
        self.reason = reason


class ForgedSignature(SignatureError):
    kind = SignatureFailure.FORGED


class StaleSignature(SignatureError):
    kind = SignatureFailure.STALE


class MalformedSignature(SignatureError):
    kind = SignatureFailure.MALFORMED


@dataclass(frozen=True, slots=True)
class VerifiedWebhook:
    provider: str
    delivery_id: str
    # Lever: when the vendor says it fired the event; Greenhouse does not sign a timestamp.
    triggered_at: datetime | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _hex_digest_or_none(candidate: str) -> bytes | None:
    candidate = candidate.strip()
    if len(candidate) != 64:
        return None
    try:
        return bytes.fromhex(candidate)
    except ValueError:
        return None


def greenhouse_signature(secret: str | bytes, body: bytes) -> str:
    """The ``Signature`` header value Greenhouse would send for ``body`` (used by fakes and tests)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256 " + hmac.new(key, body, hashlib.sha256).hexdigest()


def lever_signature(signature_token: str | bytes, token: str, triggered_at_ms: int) -> str:
    key = signature_token.encode() if isinstance(signature_token, str) else signature_token
    return hmac.new(key, f"{token}{triggered_at_ms}".encode(), hashlib.sha256).hexdigest()


def verify_greenhouse(secret: str | bytes, headers: Mapping[str, str], body: bytes) -> VerifiedWebhook:
    """Verify a Greenhouse delivery; ``body`` must be the raw bytes as received (never re-serialised)."""
    header = _header(headers, "Signature")
    if header is None:
        raise MalformedSignature(GREENHOUSE, "missing Signature header")
    algorithm, _, digest = header.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise MalformedSignature(GREENHOUSE, f"unsupported algorithm {algorithm!r}; expected 'sha256 <hex>'")
    given = _hex_digest_or_none(digest)
    if given is None:
        raise MalformedSignature(GREENHOUSE, "signature is not a 64-character hex digest")
    key = secret.encode() if isinstance(secret, str) else secret
    expected = hmac.new(key, body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise ForgedSignature(GREENHOUSE, "HMAC-SHA256 of the raw body does not match the Signature header")
    return VerifiedWebhook(GREENHOUSE, delivery_id(GREENHOUSE, headers, body))


def verify_lever(
    signature_token: str | bytes,
    body: bytes,
    *,
    now: datetime,
    max_age: timedelta = DEFAULT_LEVER_MAX_AGE,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> VerifiedWebhook:
    """Verify a Lever delivery: HMAC over ``token + triggeredAt`` from the body, then freshness."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedSignature(LEVER, f"body is not JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise MalformedSignature(LEVER, "body is not a JSON object")
    token, triggered, signature = (
        envelope.get("token"),
        envelope.get("triggeredAt"),
        envelope.get("signature"),
    )
    if not isinstance(token, str) or not token:
        raise MalformedSignature(LEVER, "field 'token' missing or not a string")
    # bool is an int subclass; a boolean triggeredAt is malformed, not epoch 1.
    if not isinstance(triggered, int) or isinstance(triggered, bool):
        raise MalformedSignature(LEVER, "field 'triggeredAt' missing or not integer epoch milliseconds")
    if not isinstance(signature, str):
        raise MalformedSignature(LEVER, "field 'signature' missing; generate a signing token in Lever")
    given = _hex_digest_or_none(signature)
    if given is None:
        raise MalformedSignature(LEVER, "signature is not a 64-character hex digest")
    key = signature_token.encode() if isinstance(signature_token, str) else signature_token
    expected = hmac.new(key, f"{token}{triggered}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise ForgedSignature(LEVER, "HMAC-SHA256 of token+triggeredAt does not match 'signature'")
    triggered_at = datetime.fromtimestamp(triggered / 1000, tz=UTC)
    if triggered_at < now - max_age:
        raise StaleSignature(LEVER, f"triggeredAt {triggered_at.isoformat()} is older than {max_age}")
    if triggered_at > now + clock_skew:
        raise StaleSignature(LEVER, f"triggeredAt {triggered_at.isoformat()} is in the future")
    return VerifiedWebhook(LEVER, delivery_id(LEVER, {}, body), triggered_at)


def delivery_id(provider: str, headers: Mapping[str, str], body: bytes) -> str:
    """A stable replay-dedupe key: the vendor's delivery id where one exists, else sha256 of the raw body.

    Greenhouse sends ``Greenhouse-Event-ID``; Lever's per-delivery ``token`` (48 random chars) lives in
    the body and the docs say to refuse its re-use. The provider prefix keeps the key space disjoint.
    """
    if provider == GREENHOUSE:
        event_id = _header(headers, "Greenhouse-Event-ID")
        if event_id:
            return f"{GREENHOUSE}:event:{event_id.strip()}"
    elif provider == LEVER:
        try:
            envelope = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            envelope = None
        if isinstance(envelope, dict) and isinstance(envelope.get("token"), str) and envelope["token"]:
            return f"{LEVER}:token:{envelope['token']}"
    return f"{provider}:sha256:{hashlib.sha256(body).hexdigest()}"
