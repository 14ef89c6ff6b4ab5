"""The Lever adapter: webhook signatures, normalisation, the API client and what the sync service asks of it.

Webhooks: ``signature`` in the JSON body = hex HMAC-SHA256(signatureToken, token + str(triggeredAt)), with
``triggeredAt`` in epoch milliseconds; we add a freshness window against replays. The per-delivery ``token``
(48 random chars) is the delivery id (the docs say to refuse its re-use).

API: opportunities since a time (``updated_at_start``, ``offset``/``next`` + ``hasNext``) and interview
feedback write-back with ``perform_as``.

A webhook carries ids only (``candidateStageChange``: opportunityId, contactId, toStageId, fromStageId) and
its ``data`` is not signed, so on every opportunity event the adapter re-fetches what the ids stand for
(``enrich``): ``GET /opportunities/{id}?expand=applications&expand=stage`` (emails, sources/origin, the
stage's name, the applications with their ``posting``) and ``GET /postings/{id}`` (the job). The shapes
are vendor-contracts-2 §A2.2/§A2.3. That ``expand`` works on the single-opportunity route and that an
expanded ``stage`` is ``{"id", "text"}`` is Lever's published documentation
(https://hire.lever.co/developer/documentation, "Retrieve a single opportunity", "Stages"), not confirmed
in our reference; a stage that comes back unexpanded (an id) keeps the name the connection's policy knows.

Auth: HTTP Basic with the API key as username (customers) or ``Authorization: Bearer`` (OAuth partners).
An OAuth access token lives an hour: on a 401 the client asks ``renew`` for a fresh one (the sync service
does that under a lock on the stored connection, so replicas never spend the same refresh token twice;
without ``renew`` the client trades its refresh token itself) and retries the request once. The trade is
RFC 6749 §6 at Lever's token endpoint, client id + secret in the form; Lever rotates the refresh token.
Lever documents a 10 req/s token bucket and 429s without a documented ``Retry-After``; we honour the header
when present. Error bodies are ``{"code": …, "message": …}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from interloop_common.vendor_http import AuthFailed

from ..domain.credentials import Credentials
from ..domain.model import (
    Application,
    ApplicationChanged,
    Candidate,
    CandidateChanged,
    Deletion,
    Hire,
    Job,
    MalformedPayload,
    NormalisedEvent,
    Ping,
    Rejection,
    Stage,
    StageChange,
    Unrecognised,
)
from ..domain.normalise import DEFAULT_POLICY, InterviewStagePolicy, Reader, body_object, content_event_id
from ..domain.signatures import (
    ForgedSignature,
    MalformedSignature,
    StaleSignature,
    UnverifiableBody,
    VerifiedWebhook,
    body_digest_id,
    hex_digest_or_none,
    key_bytes,
)
from ..store.connections import Connection
from ._http import send
from .ats import ERASE_WRITE, Polled, Renew, Skipped

PROVIDER = "lever"
# The Data API (production and sandbox) and the OAuth token endpoint (vendor-contracts-2 §A2); a
# connection's base_url and token_url are pinned to them.
HOSTS = ("api.lever.co", "api.sandbox.lever.co", "auth.lever.co")
DEFAULT_MAX_AGE = timedelta(minutes=10)
# Deliveries stamped slightly in the future (vendor clock skew) are tolerated up to this much.
DEFAULT_CLOCK_SKEW = timedelta(minutes=2)


# ---- webhooks (pure) -----------------------------------------------------------------------------------


def lever_signature(signature_token: str | bytes, token: str, triggered_at_ms: int) -> str:
    return hmac.new(
        key_bytes(signature_token), f"{token}{triggered_at_ms}".encode(), hashlib.sha256
    ).hexdigest()


def verify_lever(
    signature_token: str | bytes,
    body: bytes,
    *,
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_AGE,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> VerifiedWebhook:
    """Verify a Lever delivery: HMAC over ``token + triggeredAt`` from the body, then freshness."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnverifiableBody(PROVIDER, f"body is not JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise UnverifiableBody(PROVIDER, "body is not a JSON object")
    token, triggered, signature = (
        envelope.get("token"),
        envelope.get("triggeredAt"),
        envelope.get("signature"),
    )
    if not isinstance(token, str) or not token:
        raise MalformedSignature(PROVIDER, "field 'token' missing or not a string")
    # bool is an int subclass; a boolean triggeredAt is malformed, not epoch 1.
    if not isinstance(triggered, int) or isinstance(triggered, bool):
        raise MalformedSignature(PROVIDER, "field 'triggeredAt' missing or not integer epoch milliseconds")
    if not isinstance(signature, str):
        raise MalformedSignature(PROVIDER, "field 'signature' missing; generate a signing token in Lever")
    given = hex_digest_or_none(signature)
    if given is None:
        raise MalformedSignature(PROVIDER, "signature is not a 64-character hex digest")
    expected = hmac.new(key_bytes(signature_token), f"{token}{triggered}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise ForgedSignature(PROVIDER, "HMAC-SHA256 of token+triggeredAt does not match 'signature'")
    triggered_at = datetime.fromtimestamp(triggered / 1000, tz=UTC)
    if triggered_at < now - max_age:
        raise StaleSignature(PROVIDER, f"triggeredAt {triggered_at.isoformat()} is older than {max_age}")
    if triggered_at > now + clock_skew:
        raise StaleSignature(PROVIDER, f"triggeredAt {triggered_at.isoformat()} is in the future")
    return VerifiedWebhook(PROVIDER, delivery_id(body), triggered_at)


def delivery_id(body: bytes) -> str:
    """The delivery's ``token`` from the body, else the body's hash."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        envelope = None
    if isinstance(envelope, dict) and isinstance(envelope.get("token"), str) and envelope["token"]:
        return f"{PROVIDER}:token:{envelope['token']}"
    return body_digest_id(PROVIDER, body)


def normalise(
    parsed: Any, *, event_id: str | None = None, policy: InterviewStagePolicy = DEFAULT_POLICY
) -> list[NormalisedEvent]:
    """One parsed webhook body as common-model events (``event_id``: the delivery id, else the body's own
    ``id`` or ``token``, else its hash)."""
    body = body_object(PROVIDER, parsed)
    return _Lever(event_id or _event_id(body), policy).events(body)


def _event_id(parsed: Mapping[str, Any]) -> str:
    for key in ("id", "token"):
        value = parsed.get(key)
        if isinstance(value, str) and value:
            return f"{PROVIDER}:{value}"
    return content_event_id(PROVIDER, parsed)


def polled(item: Mapping[str, Any], policy: InterviewStagePolicy) -> Polled:
    """An opportunity as ``GET /opportunities`` lists it (reconciliation) in the common model."""
    raw_stage = item.get("stage")
    stage_id = raw_stage.get("id") if isinstance(raw_stage, dict) else raw_stage
    stage = Stage(str(stage_id), policy.name_of(str(stage_id))) if stage_id else None
    contact = str(item.get("contact") or "") or None
    name = str(item.get("name") or "").split(" ", 1)
    cand = (
        Candidate(
            PROVIDER,
            contact,
            first_name=name[0] or None,
            last_name=name[1] if len(name) > 1 else None,
            emails=tuple(item.get("emails") or ()),
        )
        if contact
        else None
    )
    return Polled(Application(PROVIDER, str(item["id"]), candidate_id=contact), cand, (), stage)


def _posting_id(opportunity: Mapping[str, Any]) -> str | None:
    """The posting of the opportunity's (first) posting application: with ``expand=applications`` each
    application is an object whose ``posting`` is the posting id (§A2.2)."""
    for app in opportunity.get("applications") or ():
        if isinstance(app, dict) and isinstance(app.get("posting"), str) and app["posting"]:
            return app["posting"]
    return None


def _stage(raw: Any, policy: InterviewStagePolicy) -> Stage | None:
    if isinstance(raw, dict) and raw.get("id"):
        stage_id = str(raw["id"])
        return Stage(stage_id, str(raw.get("text") or "") or policy.name_of(stage_id))
    if isinstance(raw, str) and raw:
        return Stage(raw, policy.name_of(raw))
    return None


def opportunity_of(
    opportunity: Mapping[str, Any], posting: Mapping[str, Any] | None, policy: InterviewStagePolicy
) -> Polled:
    """An opportunity (``expand=applications,stage``) and its posting in the common model. The source
    channel is the first of ``sources`` (``linkedin``), else the ``origin`` (applied, referred, …)."""
    if not isinstance(opportunity.get("id"), str) or not opportunity["id"]:
        raise MalformedPayload(PROVIDER, "opportunity without an 'id'", "data.id")
    contact = str(opportunity.get("contact") or "") or None
    emails = tuple(e for e in opportunity.get("emails") or () if isinstance(e, str) and e)
    phones = tuple(
        str(p["value"]) for p in opportunity.get("phones") or () if isinstance(p, dict) and p.get("value")
    )
    first, _, last = str(opportunity.get("name") or "").strip().partition(" ")
    sources = [str(x) for x in opportunity.get("sources") or () if x]
    source = sources[0] if sources else (str(opportunity.get("origin") or "") or None)
    jobs: tuple[Job, ...] = ()
    posting_id = _posting_id(opportunity)
    if posting is not None and posting.get("id"):
        posting_id = str(posting["id"])
        jobs = (
            Job(
                PROVIDER,
                posting_id,
                name=str(posting.get("text") or "") or None,
                requisition_id=str(posting.get("reqCode") or "") or None,
                status=str(posting.get("state") or "") or None,
            ),
        )
    stage = _stage(opportunity.get("stage"), policy)
    application = Application(
        PROVIDER,
        opportunity["id"],
        candidate_id=contact,
        job_ids=(posting_id,) if posting_id else (),
        current_stage=stage,
        source=source,
    )
    candidate = (
        Candidate(
            PROVIDER,
            contact,
            first_name=first or None,
            last_name=last or None,
            emails=emails,
            phones=phones,
            tags=tuple(str(t) for t in opportunity.get("tags") or ()),
        )
        if contact
        else None
    )
    return Polled(application, candidate, jobs, stage)


def _completed(event: NormalisedEvent, opp: Polled, policy: InterviewStagePolicy) -> NormalisedEvent:
    """``event`` with what its opportunity's fetch told (the job, the stage's name, the candidate)."""
    cand_id = opp.application.candidate_id
    # The stage an application is in is moved by stage changes only (the mirror's stage history).
    application = replace(opp.application, current_stage=None)
    if isinstance(event, StageChange):
        to_stage = event.to_stage
        if opp.stage is not None and opp.stage.remote_id == to_stage.remote_id and opp.stage.name:
            to_stage = opp.stage
        return replace(
            event,
            candidate_id=event.candidate_id or cand_id,
            contact_id=event.contact_id or cand_id,
            to_stage=to_stage,
            is_interview_stage=policy(to_stage),
            application=replace(application, current_stage=to_stage),
            candidate=opp.candidate,
            jobs=opp.jobs,
        )
    if isinstance(event, Rejection):
        return replace(event, candidate_id=event.candidate_id or cand_id, application=application)
    if isinstance(event, Hire):
        return replace(
            event,
            candidate_id=event.candidate_id or cand_id,
            application=application,
            candidate=opp.candidate,
            jobs=opp.jobs,
        )
    if isinstance(event, ApplicationChanged):
        return replace(event, application=application, candidate=opp.candidate, jobs=opp.jobs)
    return event


def _opportunity_id(event: NormalisedEvent) -> str | None:
    """The opportunity an event is about, when the API can tell more of it (a deleted one cannot)."""
    if isinstance(event, (StageChange, Hire, Rejection)):
        return event.application_id
    if isinstance(event, ApplicationChanged):
        return event.application.remote_id
    return None


class _Lever(Reader):
    provider = PROVIDER

    def __init__(self, event_id: str, policy: InterviewStagePolicy) -> None:
        self.event_id = event_id
        self.policy = policy

    def events(self, body: Mapping[str, Any]) -> list[NormalisedEvent]:
        event = body.get("event")
        if not isinstance(event, str) or not event:
            raise MalformedPayload(PROVIDER, "field 'event' missing or not a string", "event")
        data = self.obj(body.get("data"), "data")
        base: dict[str, Any] = {
            "provider": PROVIDER,
            "event_id": self.event_id,
            "action": event,
            "occurred_at": self.timestamp(body.get("triggeredAt"), "triggeredAt"),
        }
        if not data:
            # The settings-page "test request" carries the event name with empty data.
            return [Ping(**base)]
        opportunity = self.opt_id(data.get("opportunityId")) or self.opt_id(data.get("candidateId"))
        contact = self.opt_id(data.get("contactId"))

        def need_opportunity() -> str:
            if opportunity is None:
                raise MalformedPayload(PROVIDER, "required id 'opportunityId' missing", "data")
            return opportunity

        if event == "candidateStageChange":
            to_id = self.req_id(data, "toStageId", "data")
            from_id = self.opt_id(data.get("fromStageId"))
            to_stage = Stage(to_id, self.policy.name_of(to_id))
            return [
                StageChange(
                    **base,
                    application_id=need_opportunity(),
                    candidate_id=contact,
                    contact_id=contact,
                    to_stage=to_stage,
                    from_stage=Stage(from_id, self.policy.name_of(from_id)) if from_id else None,
                    is_interview_stage=self.policy(to_stage),
                )
            ]
        if event == "candidateHired":
            return [Hire(**base, application_id=need_opportunity(), candidate_id=contact)]
        if event == "candidateArchiveChange":
            to_archived = self.opt_obj(data.get("toArchived"), "data.toArchived")
            return [
                Rejection(
                    **base,
                    application_id=need_opportunity(),
                    candidate_id=contact,
                    reason_id=self.opt_id(to_archived.get("reason")) if to_archived else None,
                    reverted=to_archived is None,
                )
            ]
        if event == "candidateDeleted":
            return [
                Deletion(
                    **base,
                    entity="opportunity",
                    remote_id=need_opportunity(),
                    related_ids=tuple(filter(None, [contact])),
                )
            ]
        if event == "applicationCreated":
            app = Application(
                provider=PROVIDER,
                remote_id=need_opportunity(),
                candidate_id=contact,
                job_ids=tuple(filter(None, [self.opt_id(data.get("postingId"))])),
            )
            return [ApplicationChanged(**base, application=app, created=True)]
        if event in ("contactCreated", "contactUpdated"):
            contact_id = self.req_id(data, "contactId", "data") if contact is None else contact
            return [CandidateChanged(**base, candidate=Candidate(provider=PROVIDER, remote_id=contact_id))]
        if event == "interviewDeleted":
            return [
                Deletion(
                    **base,
                    entity="interview",
                    remote_id=self.req_id(data, "interviewId", "data"),
                    related_ids=tuple(filter(None, [opportunity])),
                )
            ]
        return [Unrecognised(**base, raw=dict(body))]


# ---- the API client ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeverConfig:
    base_url: str = "https://api.lever.co/v1"
    api_key: str | None = None
    oauth_token: str | None = None
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_url: str = "https://auth.lever.co/oauth/token"  # noqa: S105 - a URL, not a secret
    # Feedback write-back: the Lever user it is performed as, the form template (None: not set up) and the
    # text field that carries the idempotency marker.
    perform_as: str = ""
    feedback_template_id: str | None = None
    marker_field_id: str = "summary"

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


def _data(response: httpx.Response) -> dict[str, Any]:
    """A single resource's ``{"data": {…}}``; anything else is a malformed answer (never half-applied)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise MalformedPayload(PROVIDER, "API answer without a 'data' object", "data")
    return data


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

    async def get_opportunity(self, opportunity_id: str, *, expand: Sequence[str] = ()) -> dict[str, Any]:
        params = [("expand", e) for e in expand]
        response = await self._request("GET", f"/opportunities/{opportunity_id}", params=params)
        return _data(response)

    async def get_posting(self, posting_id: str) -> dict[str, Any]:
        return _data(await self._request("GET", f"/postings/{posting_id}"))

    async def opportunity(self, opportunity_id: str, policy: InterviewStagePolicy = DEFAULT_POLICY) -> Polled:
        """The opportunity with its applications and stage expanded, and its posting (the job)."""
        found = await self.get_opportunity(opportunity_id, expand=("applications", "stage"))
        posting_id = _posting_id(found)
        posting = await self.get_posting(posting_id) if posting_id else None
        return opportunity_of(found, posting, policy)

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

    # -- what the sync service asks of every ATS client (vendors.ats.AtsClient)

    async def changed_since(self, since: datetime | None, cursor: str | None) -> Page:
        return await self.list_opportunities(updated_at_start=since, cursor=cursor)

    async def fetch_application(self, application_id: str) -> dict[str, Any]:
        return await self.get_opportunity(application_id)

    async def write_back(self, kind: str, key: str, payload: Mapping[str, Any]) -> dict[str, Any] | Skipped:
        """A scorecard summary as interview feedback (``feedback``) on the opportunity."""
        if kind == ERASE_WRITE:
            return Skipped(
                "Lever's API has no way to delete or anonymise a contact: erase the candidate in Lever"
            )
        if kind != "feedback":
            raise ValueError(f"Lever takes no {kind!r} write-back; expected feedback")
        template = self._config.feedback_template_id
        if not payload.get("application_id") or template is None:
            return Skipped("no opportunity or template")
        marker_field = self._config.marker_field_id
        written = await self.submit_feedback(
            payload["application_id"],
            perform_as=self._config.perform_as,
            base_template_id=template,
            field_values=[{"id": marker_field, "value": payload["body"]}],
            idempotency_key=key,
            marker_field_id=marker_field,
        )
        return {"created": written.created}


# ---- the adapter -------------------------------------------------------------------------------------


def _opt(creds: Credentials, key: str) -> str | None:
    return creds[key].reveal() if key in creds else None


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
        perform_as=c.settings.get("perform_as", ""),
        feedback_template_id=c.settings.get("feedback_template_id"),
        marker_field_id=c.settings.get("marker_field_id", "summary"),
        **kwargs,
    )


class LeverAdapter:
    kind: Literal["ats"] = "ats"
    provider = PROVIDER
    display_name = "Lever"
    required_credentials = ("signature_token",)
    required_settings: tuple[str, ...] = ()
    base_url_required: str | None = None
    hosts = HOSTS
    signing_credential = "signature_token"
    scorecard_writeback = "feedback"
    interview_status_writeback: str | None = None  # Lever has no application custom fields to write to
    renews_tokens = True

    def verify(
        self, secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime, max_age: timedelta
    ) -> VerifiedWebhook:
        return verify_lever(secret, body, now=now, max_age=max_age)

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str:
        return delivery_id(body)

    def normalise(
        self, parsed: Any, *, event_id: str | None = None, policy: InterviewStagePolicy = DEFAULT_POLICY
    ) -> list[NormalisedEvent]:
        return normalise(parsed, event_id=event_id, policy=policy)

    fetches_on_webhook = True

    async def enrich(
        self, client: Any, events: Sequence[NormalisedEvent], policy: InterviewStagePolicy = DEFAULT_POLICY
    ) -> list[NormalisedEvent]:
        """Each opportunity event completed from the API (once per opportunity): the webhook carries ids."""
        fetched: dict[str, Polled] = {}
        out: list[NormalisedEvent] = []
        for event in events:
            opportunity_id = _opportunity_id(event)
            if opportunity_id is None:
                out.append(event)
                continue
            if opportunity_id not in fetched:
                fetched[opportunity_id] = await client.opportunity(opportunity_id, policy)
            out.append(_completed(event, fetched[opportunity_id], policy))
        return out

    def hire_source(self, parsed: Mapping[str, Any]) -> Any:
        return parsed.get("data")

    def hire_needs_fetch(self, source: Mapping[str, Any]) -> bool:
        return "opportunityId" in source  # candidateHired carries ids only

    def polled(self, item: Mapping[str, Any], policy: InterviewStagePolicy) -> Polled:
        return polled(item, policy)

    def has_api_access(self, creds: Credentials) -> bool:
        return "api_key" in creds or "oauth_token" in creds

    def client(
        self, http: httpx.AsyncClient, c: Connection, creds: Credentials, renew: Renew | None = None
    ) -> LeverClient:
        return LeverClient(http, lever_config(c, creds), renew)

    async def renew_token(
        self, http: httpx.AsyncClient, c: Connection, creds: Credentials, refused: str
    ) -> tuple[str, dict[str, str] | None]:
        stored = creds["oauth_token"].reveal() if "oauth_token" in creds else ""
        if stored and stored != refused:
            return stored, None  # renewed meanwhile by someone else
        config = lever_config(c, creds)
        access, refresh = await refresh_tokens(http, config, config.refresh_token or "")
        fields = {k: v.reveal() for k, v in creds.items()}
        fields.update(oauth_token=access, refresh_token=refresh)
        return access, fields


ADAPTER = LeverAdapter()
