"""What every vendor's webhook verification shares: the ways a delivery is refused, the verified delivery,
and the small helpers the vendors' schemes are built from. Each vendor's own scheme (which bytes are signed,
where the signature and the delivery id travel) lives with its adapter in ``vendors/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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


class UnverifiableBody(MalformedSignature):
    """The signature travels inside a body that does not parse: the delivery cannot be authenticated, only
    inspected (the caller quarantines it rather than refusing it)."""


@dataclass(frozen=True, slots=True)
class VerifiedWebhook:
    provider: str
    delivery_id: str
    # When the vendor says it fired the event, where the vendor signs a timestamp (Lever).
    triggered_at: datetime | None = None
    # What the vendor calls the delivery where that is not signed (Greenhouse-Event-ID): logs only.
    label: str | None = None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def hex_digest_or_none(candidate: str) -> bytes | None:
    """The 32 bytes of a hex SHA-256 digest, or None when ``candidate`` is not one."""
    candidate = candidate.strip()
    if len(candidate) != 64:
        return None
    try:
        return bytes.fromhex(candidate)
    except ValueError:
        return None


def key_bytes(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def body_digest_id(provider: str, body: bytes) -> str:
    """The replay-dedupe key of a delivery without a vendor delivery id: sha256 of the raw body, prefixed by
    the provider so the key spaces stay disjoint."""
    return f"{provider}:sha256:{hashlib.sha256(body).hexdigest()}"
