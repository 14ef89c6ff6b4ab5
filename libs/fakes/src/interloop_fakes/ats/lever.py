"""Fake Lever API (``/v1``): opportunities with ``updated_at_start`` + opaque ``offset``/``next`` +
``hasNext``, feedback list/create requiring ``perform_as``; errors as ``{"code", "message"}``. OAuth
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
        self.feedback: dict[str, list[dict[str, Any]]] = {}
        self._seq = itertools.count(1)

    def add_opportunity(self, *, updated_at: datetime, name: str = "Ada Lovelace") -> dict[str, Any]:
        with self.lock:
            n = next(self._seq)
            opp = {
                "id": str(uuid.UUID(int=n)),
                "name": name,
                "contact": str(uuid.UUID(int=10_000 + n)),
                "emails": [f"o{n}@example.com"],
                "stage": "lead-new",
                "createdAt": _ms(updated_at),
                "updatedAt": _ms(updated_at),
                "archived": None,
            }
            self.opportunities.append(opp)
            self.feedback[opp["id"]] = []
            return opp

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
        async def get_opportunity(opportunity_id: str) -> Response:
            opp = find(opportunity_id)
            return (
                json_response({"data": opp})
                if opp
                else _err(404, "ResourceNotFound", "Opportunity not found")
            )

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

        return [token, list_opportunities, get_opportunity, list_feedback, create_feedback]
