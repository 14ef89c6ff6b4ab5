"""The Greenhouse adapter: webhook signatures (``Signature: sha256 <hex HMAC-SHA256(secret, raw body)>`` over
the entire body), normalisation (``normalise``), the Harvest client (``harvest``) and what the sync service
asks of it (``GreenhouseAdapter``)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx

from ...domain.credentials import Credentials
from ...domain.model import NormalisedEvent
from ...domain.normalise import DEFAULT_POLICY, InterviewStagePolicy
from ...domain.signatures import (
    ForgedSignature,
    MalformedSignature,
    VerifiedWebhook,
    body_digest_id,
    header,
    hex_digest_or_none,
    key_bytes,
)
from ...store.connections import Connection
from ..ats import Polled, Renew
from . import normalise as _normalise
from .harvest import GreenhouseConfig, GreenhouseHarvest, NoteWrite, Page, note_marker
from .normalise import PROVIDER

# Harvest (v1-v3) and its OAuth token endpoint; a connection's base_url and token_url are pinned to them.
HOSTS = ("harvest.greenhouse.io", "auth.greenhouse.io")


def greenhouse_signature(secret: str | bytes, body: bytes) -> str:
    """The ``Signature`` header value Greenhouse would send for ``body`` (used by fakes and tests)."""
    return "sha256 " + hmac.new(key_bytes(secret), body, hashlib.sha256).hexdigest()


def delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    """The sha256 of the raw body the ``Signature`` covers. ``Greenhouse-Event-ID`` is not signed: anyone
    replaying a captured body can send a new one, so it is only a label (``event_label``), never the key."""
    return body_digest_id(PROVIDER, body)


def event_label(headers: Mapping[str, str]) -> str | None:
    """``Greenhouse-Event-ID`` as sent (unsigned: for logs only)."""
    event_id = header(headers, "Greenhouse-Event-ID")
    return event_id.strip() if event_id else None


def verify_greenhouse(secret: str | bytes, headers: Mapping[str, str], body: bytes) -> VerifiedWebhook:
    """Verify a Greenhouse delivery; ``body`` must be the raw bytes as received (never re-serialised)."""
    signed = header(headers, "Signature")
    if signed is None:
        raise MalformedSignature(PROVIDER, "missing Signature header")
    algorithm, _, digest = signed.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise MalformedSignature(PROVIDER, f"unsupported algorithm {algorithm!r}; expected 'sha256 <hex>'")
    given = hex_digest_or_none(digest)
    if given is None:
        raise MalformedSignature(PROVIDER, "signature is not a 64-character hex digest")
    expected = hmac.new(key_bytes(secret), body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise ForgedSignature(PROVIDER, "HMAC-SHA256 of the raw body does not match the Signature header")
    return VerifiedWebhook(PROVIDER, delivery_id(headers, body), label=event_label(headers))


def _opt(creds: Credentials, key: str) -> str | None:
    return creds[key].reveal() if key in creds else None


class GreenhouseAdapter:
    kind: Literal["ats"] = "ats"
    provider = PROVIDER
    display_name = "Greenhouse"
    required_credentials = ("webhook_secret",)
    required_settings: tuple[str, ...] = ()
    base_url_required: str | None = None
    hosts = HOSTS
    signing_credential = "webhook_secret"
    scorecard_writeback = "note"
    interview_status_writeback: str | None = "custom_fields"
    renews_tokens = False  # v3 client-credentials tokens are fetched by the client and never stored

    def verify(
        self, secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime, max_age: timedelta
    ) -> VerifiedWebhook:
        return verify_greenhouse(secret, headers, body)  # Greenhouse signs no timestamp: no freshness

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str:
        return delivery_id(headers, body)

    def normalise(
        self, parsed: Any, *, event_id: str | None = None, policy: InterviewStagePolicy = DEFAULT_POLICY
    ) -> list[NormalisedEvent]:
        return _normalise.normalise(parsed, event_id=event_id, policy=policy)

    fetches_on_webhook = False  # a Greenhouse webhook carries the application, candidate and jobs

    async def enrich(
        self, client: Any, events: Sequence[NormalisedEvent], policy: InterviewStagePolicy = DEFAULT_POLICY
    ) -> list[NormalisedEvent]:
        return list(events)

    def hire_source(self, parsed: Mapping[str, Any]) -> Any:
        return _normalise.hire_source(parsed)

    def hire_needs_fetch(self, source: Mapping[str, Any]) -> bool:
        return False  # hire_candidate carries the whole application

    def polled(self, item: Mapping[str, Any], policy: InterviewStagePolicy) -> Polled:
        return _normalise.polled(item, policy)

    def has_api_access(self, creds: Credentials) -> bool:
        return "api_key" in creds or ("client_id" in creds and "client_secret" in creds)

    def client(
        self, http: httpx.AsyncClient, c: Connection, creds: Credentials, renew: Renew | None = None
    ) -> GreenhouseHarvest:
        kwargs: dict[str, Any] = {"base_url": c.base_url} if c.base_url else {}
        if "token_url" in c.settings:
            kwargs["token_url"] = c.settings["token_url"]
        return GreenhouseHarvest(
            http,
            GreenhouseConfig(
                api_version="v3" if c.settings.get("api_version") == "v3" else "v1",
                api_key=_opt(creds, "api_key"),
                on_behalf_of=c.settings.get("on_behalf_of"),
                client_id=_opt(creds, "client_id"),
                client_secret=_opt(creds, "client_secret"),
                **kwargs,
            ),
        )

    async def renew_token(
        self, http: httpx.AsyncClient, c: Connection, creds: Credentials, refused: str
    ) -> tuple[str, dict[str, str] | None]:
        raise NotImplementedError("Greenhouse stores no access token to renew (renews_tokens is False)")


ADAPTER = GreenhouseAdapter()

__all__ = [
    "ADAPTER",
    "HOSTS",
    "PROVIDER",
    "GreenhouseAdapter",
    "GreenhouseConfig",
    "GreenhouseHarvest",
    "NoteWrite",
    "Page",
    "delivery_id",
    "greenhouse_signature",
    "note_marker",
    "verify_greenhouse",
]
