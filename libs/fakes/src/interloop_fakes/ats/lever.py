"""Fake Lever API (``/v1``): opportunities with ``updated_at_start`` + opaque ``offset``/``next`` +
``hasNext``; one opportunity (``expand=applications`` turns application ids into application objects with
their ``posting``, ``expand=stage`` the stage id into ``{"id", "text"}``) and one posting, both 404
``ResourceNotFound`` for an unknown id (shapes: vendor-contracts-2 §A2.2/§A2.3); feedback list/create
requiring ``perform_as``; errors as ``{"code", "message"}``. OAuth
partners: ``POST /oauth/token`` (the auth.lever.co token endpoint, RFC 6749 refresh grant, form-encoded;
the refresh token rotates) and access tokens that ``expire_access_tokens()`` invalidates."""

from __future__ import annotations

import base64
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, Response, get, post

from ._server import FakeVendor, basic_credentials, bearer_token, json_response, parse_json_body


def _err(status: int, code: str, message: str) -> Response:
    return json_response({"code": code, "message": message}, status)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class FakeLever(FakeVendor):
    provider = "lever"

    def __init__(
        self,
        api_key: str = "lever-test-key",
        oauth_token: str | None = None,
        user_ids: tuple[str, ...] = ("u-1",),
    ) -> None:
        super().__init__()
        self.api_key, self.oauth_token = api_key, oauth_token
        self.user_ids = set(user_ids)
        # OAuth partner app: client credentials and the refresh token currently valid.
        self.client_id, self.client_secret = "lever-client", "lever-client-secret"
        self.refresh_token = "lever-refresh-0"  # noqa: S105 - fake credential
        self.refreshes = 0
        self.opportunities: list[dict[str, Any]] = []
        # opportunity id -> its applications (objects; the opportunity lists their ids unless expanded)
        self.applications: dict[str, list[dict[str, Any]]] = {}
        self.postings: dict[str, dict[str, Any]] = {}
        self.stages: dict[str, str] = {"lead-new": "New lead"}  # id -> text
        self.feedback: dict[str, list[dict[str, Any]]] = {}
        self._seq = itertools.count(1)

    def add_posting(
        self, *, text: str = "Infrastructure Engineer", req_code: str = "7381912"
    ) -> dict[str, Any]:
        """A published posting shaped like the documented example (§A2.3)."""
        with self.lock:
            n = next(self._seq)
            now = _ms(datetime.now(UTC))
            posting = {
                "id": str(uuid.UUID(int=(1 << 64) + n)),
                "text": text,
                "createdAt": now,
                "updatedAt": now,
                "user": "u-1",
                "owner": "u-1",
                "hiringManager": "u-1",
                "confidentiality": "non-confidential",
                "categories": {"team": "Platform", "department": "Engineering", "location": "San Francisco"},
                "country": "US",
                "tags": [],
                "state": "published",
                "distributionChannels": ["internal", "public"],
                "reqCode": req_code,
                "requisitionCodes": [req_code],
                "workplaceType": "remote",
            }
            self.postings[posting["id"]] = posting
            return posting

    def add_stage(self, text: str) -> str:
        with self.lock:
            stage_id = str(uuid.UUID(int=(2 << 64) + next(self._seq)))
            self.stages[stage_id] = text
            return stage_id

    def add_opportunity(
        self,
        *,
        updated_at: datetime,
        name: str = "Ada Lovelace",
        email: str | None = None,
        posting_id: str | None = None,
        stage_id: str = "lead-new",
        sources: tuple[str, ...] = ("linkedin",),
        origin: str = "sourced",
    ) -> dict[str, Any]:
        """An opportunity shaped like the documented list element (§A2.2); with ``posting_id`` one
        posting application (``applications[].posting``)."""
        with self.lock:
            n = next(self._seq)
            opp_id = str(uuid.UUID(int=n))
            apps = []
            if posting_id is not None:
                apps.append(
                    {
                        "id": str(uuid.UUID(int=(3 << 64) + n)),
                        "opportunityId": opp_id,
                        "candidateId": opp_id,
                        "createdAt": _ms(updated_at),
                        "type": "posting",
                        "posting": posting_id,
                        "user": None,
                        "name": name,
                        "email": email or f"o{n}@example.com",
                        "phone": {"type": None, "value": "(123) 456-7891"},
                        "requisitionForHire": None,
                        "ownerId": "u-1",
                        "hiringManager": "u-1",
                        "company": None,
                        "links": None,
                        "comments": None,
                    }
                )
            opp = {
                "id": opp_id,
                "name": name,
                "headline": "",
                "contact": str(uuid.UUID(int=10_000 + n)),
                "emails": [email or f"o{n}@example.com"],
                "phones": [{"value": "(123) 456-7891"}],
                "location": "Oakland",
                "links": [],
                "stage": stage_id,
                "createdAt": _ms(updated_at),
                "updatedAt": _ms(updated_at),
                "lastInteractionAt": _ms(updated_at),
                "lastAdvancedAt": _ms(updated_at),
                "snoozedUntil": None,
                "archivedAt": None,
                "archiveReason": None,
                "owner": "u-1",
                "tags": [],
                "sources": list(sources),
                "origin": origin,
                "sourcedBy": "u-1",
                "applications": [a["id"] for a in apps],
                "resume": None,
                "followers": [],
                "dataProtection": None,
                "archived": None,
            }
            self.opportunities.append(opp)
            self.applications[opp_id] = apps
            self.feedback[opp["id"]] = []
            return opp

    def move_stage(self, opportunity_id: str, stage_id: str) -> None:
        with self.lock:
            for o in self.opportunities:
                if o["id"] == opportunity_id:
                    o["stage"] = stage_id
                    o["lastAdvancedAt"] = o["updatedAt"] = _ms(datetime.now(UTC))

    def seed_opportunities(self, n: int, start: datetime | None = None) -> list[dict[str, Any]]:
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        return [
            self.add_opportunity(updated_at=start + timedelta(minutes=i), name=f"Opp {i}") for i in range(n)
        ]

    def expire_access_tokens(self) -> None:
        """Access tokens live an hour: pretend it passed."""
        with self.lock:
            self.oauth_token = f"expired-{uuid.uuid4().hex}-never-sent"

    def check_auth(self, request: Request) -> Response | None:
        if request.url.path == "/oauth/token":
            return None  # authenticated by the client credentials in the form body
        creds = basic_credentials(request)
        if creds is not None and creds[0] == self.api_key:
            return None
        if self.oauth_token and bearer_token(request) == self.oauth_token:
            return None
        return _err(401, "UnauthorizedError", "Invalid API key")

    def throttle_response(self, retry_after: float | None) -> Response:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return json_response({"code": "TooManyRequests", "message": "Rate limit exceeded"}, 429, headers)

    def failure_response(self, status: int) -> Response:
        return _err(status, "ServiceUnavailable", "Lever is undergoing maintenance")

    def routes(self) -> list[Any]:
        fake = self

        @post("/oauth/token", status_code=200)
        async def token(request: Request) -> Response:
            form = await request.form()
            if form.get("grant_type") != "refresh_token":
                return json_response({"error": "unsupported_grant_type"}, 400)
            if (form.get("client_id"), form.get("client_secret")) != (fake.client_id, fake.client_secret):
                return json_response({"error": "invalid_client"}, 401)
            with fake.lock:
                if form.get("refresh_token") != fake.refresh_token:
                    return json_response(
                        {"error": "invalid_grant", "error_description": "Unknown or expired refresh token"},
                        403,
                    )
                fake.refreshes += 1
                fake.oauth_token = f"lever-access-{fake.refreshes}"
                fake.refresh_token = f"lever-refresh-{fake.refreshes}"
                body = {
                    "access_token": fake.oauth_token,
                    "refresh_token": fake.refresh_token,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }
            return json_response(body)

        @get("/v1/opportunities")
        async def list_opportunities(request: Request) -> Response:
            q = request.query_params
            try:
                limit = int(q.get("limit", 100))
                start = int(q["updated_at_start"]) if "updated_at_start" in q else None
                offset = int(base64.urlsafe_b64decode(q["offset"].encode()).decode()) if "offset" in q else 0
            except (ValueError, UnicodeDecodeError):
                return _err(400, "BadRequestError", "Invalid limit, offset or updated_at_start")
            if not 1 <= limit <= 100:
                return _err(400, "BadRequestError", "limit must be between 1 and 100")
            items = [o for o in fake.opportunities if start is None or o["updatedAt"] >= start]
            chunk = items[offset : offset + limit]
            has_next = offset + limit < len(items)
            body: dict[str, Any] = {"data": chunk, "hasNext": has_next}
            if has_next:
                body["next"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
            return json_response(body)

        def find(opportunity_id: str) -> dict[str, Any] | None:
            return next((o for o in fake.opportunities if o["id"] == opportunity_id), None)

        @get("/v1/opportunities/{opportunity_id:str}")
        async def get_opportunity(request: Request, opportunity_id: str) -> Response:
            expand = request.query_params.getall("expand", [])
            unknown = set(expand) - {"applications", "stage", "owner", "followers", "sourcedBy", "contact"}
            if unknown:
                return _err(400, "BadRequestError", f"Invalid expand parameter {sorted(unknown)[0]}")
            with fake.lock:
                opp = find(opportunity_id)
                if opp is None:
                    return _err(404, "ResourceNotFound", f"opportunities {opportunity_id} was not found")
                shown = dict(opp)
                if "applications" in expand:
                    shown["applications"] = [dict(a) for a in fake.applications.get(opportunity_id, [])]
                if "stage" in expand:
                    shown["stage"] = {"id": opp["stage"], "text": fake.stages.get(opp["stage"], "")}
            return json_response({"data": shown})

        @get("/v1/postings/{posting_id:str}")
        async def get_posting(posting_id: str) -> Response:
            with fake.lock:
                posting = fake.postings.get(posting_id)
            if posting is None:
                return _err(404, "ResourceNotFound", f"postings {posting_id} was not found")
            return json_response({"data": dict(posting)})

        @get("/v1/opportunities/{opportunity_id:str}/feedback")
        async def list_feedback(opportunity_id: str) -> Response:
            if find(opportunity_id) is None:
                return _err(404, "ResourceNotFound", "Opportunity not found")
            return json_response({"data": list(fake.feedback[opportunity_id]), "hasNext": False})

        @post("/v1/opportunities/{opportunity_id:str}/feedback")
        async def create_feedback(request: Request, opportunity_id: str) -> Response:
            perform_as = request.query_params.get("perform_as")
            if not perform_as:
                return _err(400, "BadRequestError", "perform_as is required")
            if perform_as not in fake.user_ids:
                return _err(400, "BadRequestError", f"perform_as user {perform_as} not found")
            if find(opportunity_id) is None:
                return _err(404, "ResourceNotFound", "Opportunity not found")
            raw = await request.body()
            body, error = parse_json_body(raw)
            if error or not isinstance(body, dict):
                return _err(400, "BadRequestError", error or "body must be an object")
            if not body.get("baseTemplateId"):
                return _err(400, "BadRequestError", "baseTemplateId is required")
            values = body.get("fieldValues")
            if not isinstance(values, list) or not all(isinstance(v, dict) and "id" in v for v in values):
                return _err(400, "BadRequestError", "fieldValues must be a list of {id, value}")
            feedback = {
                "id": str(uuid.uuid4()),
                "type": "interview",
                "baseTemplateId": body["baseTemplateId"],
                "user": perform_as,
                "fields": [{"id": v["id"], "value": v.get("value")} for v in values],
                "completedAt": body.get("completedAt"),
                "createdAt": _ms(datetime.now(UTC)),
                "interview": body.get("interview"),
                "panel": body.get("panel"),
            }
            with fake.lock:
                fake.feedback[opportunity_id].append(feedback)
            fake._record_write(request, raw)
            return json_response({"data": feedback}, 201)

        return [token, list_opportunities, get_opportunity, get_posting, list_feedback, create_feedback]
