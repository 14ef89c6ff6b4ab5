"""Greenhouse Harvest client: incremental reads (v1 Link pagination or v3 cursors) and write-back.

v1/v2: HTTP Basic with the API key as username; pages follow the ``Link: rel="next"`` URL.
v3 (``api_version="v3"``): OAuth 2.0 client credentials (``POST /token`` with ``sub=<user id>``) and
cursor pagination, where a follow-up request carries only ``cursor``. Either way the page's
``next_cursor`` is what to persist to resume.

A ``next`` link is followed only on the origin of the configured base URL (else ``Refused``, nothing
sent), so the API key never goes anywhere else.

Rate limits: a 429 raises ``RateLimited`` with ``Retry-After``; when a response says
``X-RateLimit-Remaining: 0`` the next call raises ``RateLimited`` until ``X-RateLimit-Reset`` without
spending a request.

Greenhouse has no idempotency keys, so notes embed a stable marker that is looked for before writing,
and custom-field updates read the application first and skip values already present.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from interloop_common.vendor_http import RateLimited, parse_link_header, retry_after_seconds

from .._http import same_origin, send
from ..ats import ERASE_WRITE, Skipped
from .normalise import PROVIDER

WINDOW_S = 10.0  # Harvest limits are "per 10 seconds"


@dataclass(frozen=True, slots=True)
class GreenhouseConfig:
    base_url: str = "https://harvest.greenhouse.io"
    api_version: Literal["v1", "v3"] = "v1"
    api_key: str | None = None  # v1/v2
    on_behalf_of: str | None = None  # Greenhouse user id for writes (v1) / token ``sub`` (v3)
    client_id: str | None = None  # v3
    client_secret: str | None = None  # v3
    token_url: str = "https://auth.greenhouse.io/token"  # noqa: S105 - a URL

    def __repr__(self) -> str:
        return f"GreenhouseConfig(base_url={self.base_url!r}, version={self.api_version!r}, <redacted>)"


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None  # persist this; pass it back as ``cursor=`` to resume
    rate_limit_remaining: int | None = None


@dataclass(frozen=True, slots=True)
class NoteWrite:
    created: bool  # False: a note with this marker already existed (nothing written)
    note: dict[str, Any]


@dataclass
class _Budget:
    remaining: int | None = None
    reset_at: float | None = None


@dataclass
class _Token:
    value: str = ""
    expires_at: float = 0.0


def note_marker(idempotency_key: str) -> str:
    return f"[interloop:{idempotency_key}]"


class GreenhouseHarvest:
    def __init__(
        self, client: httpx.AsyncClient, config: GreenhouseConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._config = config
        self._clock = clock
        self._budget = _Budget()
        self._token = _Token()
        self._base = config.base_url.rstrip("/")

    # -- plumbing

    async def _auth(self) -> httpx.Auth | None:
        if self._config.api_version == "v1":
            return httpx.BasicAuth(self._config.api_key or "", "")
        return None

    async def _headers(self, write: bool = False) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._config.api_version == "v3":
            headers["Authorization"] = f"Bearer {await self._access_token()}"
        if write and self._config.on_behalf_of:
            headers["On-Behalf-Of"] = str(self._config.on_behalf_of)
        return headers

    async def _access_token(self) -> str:
        if self._token.value and self._clock() < self._token.expires_at - 60:
            return self._token.value
        response = await send(
            PROVIDER,
            self._client,
            "POST",
            self._config.token_url,
            auth=httpx.BasicAuth(self._config.client_id or "", self._config.client_secret or ""),
            data={"grant_type": "client_credentials", "sub": str(self._config.on_behalf_of or "")},
        )
        body = response.json()
        self._token = _Token(body["access_token"], self._clock() + float(body.get("expires_in", 3600)))
        return self._token.value

    def _check_budget(self) -> None:
        b = self._budget
        if b.remaining is not None and b.remaining <= 0 and b.reset_at is not None:
            wait = b.reset_at - self._clock()
            if wait > 0:
                raise RateLimited(PROVIDER, wait, "X-RateLimit-Remaining reached 0")
            self._budget = _Budget()

    def _record_budget(self, response: httpx.Response) -> int | None:
        raw = response.headers.get("x-ratelimit-remaining")
        try:
            remaining = int(raw) if raw is not None else None
        except ValueError:
            remaining = None
        if remaining is not None:
            after = retry_after_seconds(response.headers, self._clock)
            self._budget = _Budget(remaining, self._clock() + (after if after is not None else WINDOW_S))
        return remaining

    async def _request(self, method: str, url: str, *, write: bool = False, **kwargs: Any) -> httpx.Response:
        self._check_budget()
        try:
            response = await send(
                PROVIDER,
                self._client,
                method,
                url,
                auth=await self._auth(),
                headers=await self._headers(write),
                **kwargs,
            )
        except RateLimited:
            self._budget = _Budget()
            raise
        self._record_budget(response)
        return response

    def _url(self, path: str) -> str:
        return f"{self._base}{path}"

    # -- reads

    async def _list(
        self, resource: str, since_param: str, since: datetime | None, cursor: str | None, per_page: int
    ) -> Page:
        if cursor:
            url = (
                same_origin(PROVIDER, self._base, cursor)  # the API key never follows a link elsewhere
                if cursor.startswith(("http://", "https://"))
                else self._resume_url(resource, cursor)
            )
            response = await self._request("GET", url)
        else:
            params: dict[str, Any] = {"per_page": per_page}
            if self._config.api_version == "v1":
                if since is not None:
                    params[since_param] = since.isoformat().replace("+00:00", "Z")
                url = self._url(f"/v1/{resource}")
            else:
                if since is not None:
                    params[_V3_FILTER[resource]] = "gte|" + since.isoformat().replace("+00:00", "Z")
                url = self._url(f"/v3/{resource}")
            response = await self._request("GET", url, params=params)
        following = parse_link_header(response.headers.get("link")).get("next")
        if following:  # refused before it is persisted as the cursor
            following = same_origin(PROVIDER, self._base, following)
        items = response.json()
        if isinstance(items, dict):  # v3 wraps nothing today; tolerate {"data": [...]}
            items = items.get("data", [])
        return Page(items, following, self._budget.remaining)

    def _resume_url(self, resource: str, cursor: str) -> str:
        # A bare v3 cursor: it must be the only query parameter.
        return self._url(f"/v3/{resource}?{urlencode({'cursor': cursor})}")

    async def list_candidates(
        self, *, updated_after: datetime | None = None, cursor: str | None = None, per_page: int = 100
    ) -> Page:
        return await self._list("candidates", "updated_after", updated_after, cursor, per_page)

    async def list_applications(
        self, *, last_activity_after: datetime | None = None, cursor: str | None = None, per_page: int = 100
    ) -> Page:
        # Applications have no updated_after in v1: last_activity_after is the incremental filter.
        return await self._list("applications", "last_activity_after", last_activity_after, cursor, per_page)

    async def list_eeoc(
        self, *, submitted_after: datetime | None = None, cursor: str | None = None, per_page: int = 500
    ) -> Page:
        """``GET /v1/eeoc``: candidates' self-identification (race, gender, veteran and disability status),
        paged by `next` links only. Harvest v1 (v3 has demographics questions instead)."""
        if self._config.api_version != "v1":
            raise ValueError("EEOC import reads Harvest v1's /v1/eeoc; this connection uses Harvest v3")
        return await self._list("eeoc", "submitted_after", submitted_after, cursor, per_page)

    async def get_candidate(self, candidate_id: str) -> dict[str, Any]:
        return (await self._request("GET", self._url(f"/v1/candidates/{candidate_id}"))).json()

    async def get_application(self, application_id: str) -> dict[str, Any]:
        return (await self._request("GET", self._url(f"/v1/applications/{application_id}"))).json()

    # -- writes

    async def add_note(
        self,
        candidate_id: str,
        body: str,
        *,
        idempotency_key: str,
        user_id: str | None = None,
        visibility: str = "admin_only",
    ) -> NoteWrite:
        """Add an activity-feed note once: the marker is searched in the feed before writing."""
        marker = note_marker(idempotency_key)
        feed = (await self._request("GET", self._url(f"/v1/candidates/{candidate_id}/activity_feed"))).json()
        for note in feed.get("notes", []):
            if marker in (note.get("body") or ""):
                return NoteWrite(False, note)
        payload = {
            "user_id": int(user_id or self._config.on_behalf_of or 0),
            "body": f"{body}\n\n{marker}",
            "visibility": visibility,
        }
        response = await self._request(
            "POST", self._url(f"/v1/candidates/{candidate_id}/activity_feed/notes"), write=True, json=payload
        )
        return NoteWrite(True, response.json())

    async def update_application_custom_fields(
        self, application_id: str, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Set application custom fields by immutable ``name_key``; values already present are not rewritten.

        Returns the ``{name_key: value}`` actually sent (empty when nothing changed).
        """
        current = await self.get_application(application_id)
        keyed = current.get("keyed_custom_fields") or {}
        flat = current.get("custom_fields") or {}
        changes = {}
        for key, value in values.items():
            existing = keyed.get(key, {}).get("value") if isinstance(keyed.get(key), dict) else flat.get(key)
            if existing != value:
                changes[key] = value
        if not changes:
            return {}
        payload = {"custom_fields": [{"name_key": k, "value": v} for k, v in changes.items()]}
        await self._request(
            "PATCH", self._url(f"/v1/applications/{application_id}"), write=True, json=payload
        )
        return changes

    # -- what the sync service asks of every ATS client (vendors.ats.AtsClient)

    async def changed_since(self, since: datetime | None, cursor: str | None) -> Page:
        return await self.list_applications(last_activity_after=since, cursor=cursor)

    async def fetch_application(self, application_id: str) -> dict[str, Any]:
        return await self.get_application(application_id)

    async def write_back(self, kind: str, key: str, payload: Mapping[str, Any]) -> dict[str, Any] | Skipped:
        """A scorecard summary as an activity-feed note (``note``, On-Behalf-Of the connection's user), an
        interview's status into application custom fields (``custom_fields``)."""
        if kind == "note":
            written = await self.add_note(
                payload["candidate_id"],
                payload["body"],
                idempotency_key=key,
                user_id=self._config.on_behalf_of,
            )
            return {"created": written.created}
        if kind == "custom_fields":
            return await self.update_application_custom_fields(payload["application_id"], payload["values"])
        if kind == ERASE_WRITE:
            if not self._config.on_behalf_of:
                return Skipped(
                    "set the connection's on_behalf_of (a Greenhouse user id): Harvest writes are made on "
                    "behalf of a user"
                )
            return await self.anonymize_candidate(payload["candidate_id"])
        raise ValueError(
            f"Greenhouse takes no {kind!r} write-back; expected note, custom_fields or anonymize"
        )

    async def anonymize_candidate(self, candidate_id: str) -> dict[str, Any]:
        """``PUT /v1/candidates/{id}/anonymize?fields=…`` with every field Harvest can anonymise (GDPR
        Art. 19: an erasure requested in Interloop reaches the ATS). Enterprise accounts only."""
        response = await self._request(
            "PUT",
            self._url(f"/v1/candidates/{candidate_id}/anonymize"),
            write=True,
            params={"fields": ",".join(ANONYMIZE_FIELDS)},
        )
        body = response.json()
        return {"id": body.get("id"), "first_name": body.get("first_name")}


# Harvest's documented list of the fields PUT /v1/candidates/{id}/anonymize takes (`_candidates.md`).
ANONYMIZE_FIELDS = (
    "full_name", "current_company", "current_title", "tags", "phone_numbers", "emails", "social_media_links",
    "websites", "addresses", "location", "custom_candidate_fields", "source", "recruiter", "coordinator",
    "attachments", "application_questions", "referral_questions", "notes", "rejection_notes",
    "email_addresses", "activity_items", "innotes", "inmails", "rejection_reason",
    "scorecards_and_interviews",
    "offers", "credited_to", "headline", "all_offer_versions", "follow_up_reminders", "candidate_photo",
    "custom_application_fields", "education", "employment", "candidate_stage_data", "prospect_owner",
    "custom_rejection_question_fields", "touchpoints", "prospect_pool_and_stage", "prospect_jobs",
    "prospect_offices", "prospect_offices_and_departments", "third_party_integrations",
)  # fmt: skip

_V3_FILTER = {"candidates": "updated_at", "applications": "last_activity_at"}


__all__ = ["GreenhouseConfig", "GreenhouseHarvest", "NoteWrite", "Page", "note_marker"]
