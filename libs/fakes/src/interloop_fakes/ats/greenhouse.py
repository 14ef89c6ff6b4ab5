"""Fake Greenhouse Harvest: v1 (Basic auth, page/per_page + Link) and v3 (client-credentials token,
cursor-only follow-ups), activity-feed notes and application custom-field PATCH, with Harvest's
error shapes (401 message, 422 ``{"message": "Validation error", "errors": [{message, field}]}``) and
``X-RateLimit-*`` headers."""

from __future__ import annotations

import base64
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from litestar import Request, Response, get, patch, post, put

from ._server import FakeVendor, basic_credentials, bearer_token, json_response, parse_json_body

# The fields `PUT /v1/candidates/{id}/anonymize` accepts (Harvest `_candidates.md`).
ANONYMIZABLE = frozenset(
    """full_name current_company current_title tags phone_numbers emails social_media_links websites
    addresses location custom_candidate_fields source recruiter coordinator attachments
    application_questions referral_questions notes rejection_notes email_addresses activity_items innotes
    inmails rejection_reason scorecards_and_interviews offers credited_to headline all_offer_versions
    follow_up_reminders candidate_photo custom_application_fields education employment candidate_stage_data
    prospect_owner custom_rejection_question_fields touchpoints prospect_pool_and_stage prospect_jobs
    prospect_offices prospect_offices_and_departments third_party_integrations""".split()
)


# Harvest `_eeoc.md` "EEOC Reference".
EEOC_RACES = {
    1: "American Indian or Alaskan Native",
    2: "Asian",
    3: "Black or African American",
    4: "Hispanic or Latino",
    5: "White",
    6: "Native Hawaiian or Other Pacific Islander",
    7: "Two or More Races",
    8: "Decline To Self Identify",
}
EEOC_GENDERS = {1: "Male", 2: "Female", 3: "Decline To Self Identify"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _validation(message: str, field: str) -> Response:
    return json_response(
        {"message": "Validation error", "errors": [{"message": message, "field": field}]}, 422
    )


class FakeGreenhouse(FakeVendor):
    provider = "greenhouse"

    def __init__(
        self,
        api_key: str = "gh-test-key",
        user_ids: tuple[str, ...] = ("1001",),
        client_id: str = "gh-client",
        client_secret: str = "gh-secret",  # noqa: S107 - fake credential
        application_custom_fields: tuple[str, ...] = ("interview_status", "scorecard_summary", "disposition"),
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.user_ids = set(user_ids)
        self.client_id, self.client_secret = client_id, client_secret
        self.application_custom_fields = set(application_custom_fields)
        self.candidates: dict[int, dict[str, Any]] = {}
        self.applications: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.anonymized: dict[int, list[list[str]]] = {}  # candidate id -> the field lists, per call
        self.eeoc: list[dict[str, Any]] = []  # GET /v1/eeoc, in submission order
        self.tokens: set[str] = set()
        self.rate_limit = 50
        self._remaining_next: tuple[int, float] | None = None
        self._ids = itertools.count(1000)

    # -- seeding

    def add_candidate(
        self,
        *,
        updated_at: datetime,
        first_name: str = "Ada",
        last_name: str = "Lovelace",
        email: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            cid = next(self._ids)
            app_id = next(self._ids)
            candidate = {
                "id": cid,
                "first_name": first_name,
                "last_name": last_name,
                "company": None,
                "title": None,
                "created_at": _iso(updated_at),
                "updated_at": _iso(updated_at),
                "last_activity": _iso(updated_at),
                "is_private": False,
                "application_ids": [app_id],
                "phone_numbers": [],
                "email_addresses": [{"value": email or f"c{cid}@example.com", "type": "personal"}],
                "tags": [],
                "custom_fields": {},
                "keyed_custom_fields": {},
            }
            application = {
                "id": app_id,
                "candidate_id": cid,
                "prospect": False,
                "applied_at": _iso(updated_at),
                "rejected_at": None,
                "last_activity_at": _iso(updated_at),
                "status": "active",
                "current_stage": {"id": 71416, "name": "Phone Interview"},
                "jobs": [{"id": 3485, "name": "Designer"}],
                "custom_fields": {},
                "keyed_custom_fields": {},
            }
            self.candidates[cid], self.applications[app_id] = candidate, application
            self.notes[cid] = []
            return candidate

    def add_eeoc(
        self,
        candidate_id: int,
        application_id: int,
        *,
        race: int | None = None,
        gender: int | None = None,
        submitted_at: datetime | None = None,
    ) -> dict[str, Any]:
        """A candidate's self-identification, with the ids and descriptions of Harvest's EEOC reference."""
        record = {
            "application_id": application_id,
            "candidate_id": candidate_id,
            "race": {"id": race, "description": EEOC_RACES[race]} if race else None,
            "gender": {"id": gender, "description": EEOC_GENDERS[gender]} if gender else None,
            "veteran_status": None,
            "disability_status": None,
            "submitted_at": _iso(submitted_at or datetime.now(UTC)),
        }
        with self.lock:
            self.eeoc.append(record)
        return record

    def seed_candidates(self, n: int, start: datetime | None = None) -> list[dict[str, Any]]:
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        return [
            self.add_candidate(updated_at=start + timedelta(minutes=i), first_name=f"Cand{i}")
            for i in range(n)
        ]

    def exhaust_rate_limit(self, reset_in_s: float = 5.0) -> None:
        """The next response reports ``X-RateLimit-Remaining: 0`` with a reset ``reset_in_s`` ahead."""
        with self.lock:
            self._remaining_next = (0, time.time() + reset_in_s)

    # -- auth and headers

    def check_auth(self, request: Request) -> Response | None:
        path = request.url.path
        if path == "/token":
            return None
        if path.startswith("/v3/"):
            if bearer_token(request) not in self.tokens:
                return json_response({"message": "Invalid or expired access token"}, 401)
            return None
        creds = basic_credentials(request)
        if creds is None or creds[0] != self.api_key:
            return json_response({"message": "Invalid Basic Auth credentials"}, 401)
        return None

    def _rate_headers(self) -> dict[str, str]:
        with self.lock:
            if self._remaining_next is not None:
                remaining, reset = self._remaining_next
                self._remaining_next = None
                return {
                    "X-RateLimit-Limit": str(self.rate_limit),
                    "X-RateLimit-Remaining": str(remaining),
                    "X-RateLimit-Reset": f"{reset:.0f}",
                }
        return {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": str(self.rate_limit - 1)}

    def throttle_response(self, retry_after: float | None) -> Response:
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + (retry_after or 10):.0f}",
        }
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        return json_response({"message": "Rate limit exceeded"}, 429, headers)

    def _on_behalf_of(self, request: Request) -> Response | None:
        user = request.headers.get("on-behalf-of")
        if not user:
            return _validation("On-Behalf-Of header is required for auditing purposes", "On-Behalf-Of")
        if user not in self.user_ids:
            return _validation(f"User {user} does not exist", "On-Behalf-Of")
        return None

    # -- listing

    def _filtered(self, resource: str, since_field: str, since: str | None) -> list[dict[str, Any]]:
        rows = self.candidates if resource == "candidates" else self.applications
        items = sorted(rows.values(), key=lambda r: r["id"])
        if since:
            floor = _parse_iso(since)
            items = [r for r in items if _parse_iso(r[since_field]) >= floor]
        return items

    def _list_v1(self, request: Request, resource: str, since_param: str, since_field: str) -> Response:
        q = request.query_params
        try:
            page = int(q.get("page", 1))
            per_page = int(q.get("per_page", 100))
        except ValueError:
            return _validation("page and per_page must be integers", "per_page")
        if not 1 <= per_page <= 500 or page < 1:
            return _validation("per_page must be between 1 and 500", "per_page")
        try:
            items = self._filtered(resource, since_field, q.get(since_param))
        except ValueError:
            return _validation(f"{since_param} must be an ISO-8601 timestamp", since_param)
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        base = f"{self.base_url}/v1/{resource}"
        extra = {k: v for k, v in q.items() if k not in ("page", "per_page")}
        links = []
        if page < last:
            links.append(
                f'<{base}?{urlencode({**extra, "page": page + 1, "per_page": per_page})}>; rel="next"'
            )
        if page > 1:
            links.append(
                f'<{base}?{urlencode({**extra, "page": page - 1, "per_page": per_page})}>; rel="prev"'
            )
        if q.get("skip_count") != "true":
            links.append(f'<{base}?{urlencode({**extra, "page": last, "per_page": per_page})}>; rel="last"')
        headers = self._rate_headers()
        if len(items) > per_page:
            headers["Link"] = ", ".join(links)
        return json_response(chunk, 200, headers)

    def _list_v3(self, request: Request, resource: str, filter_param: str, since_field: str) -> Response:
        query = parse_qs(request.url.query or "")
        if "cursor" in query:
            if set(query) != {"cursor"}:
                return json_response(
                    {
                        "errors": [
                            {
                                "message": "When you pass a cursor, it must be the only query parameter",
                                "field": "cursor",
                            }
                        ]
                    },
                    400,
                )
            try:
                state = json.loads(base64.urlsafe_b64decode(query["cursor"][0].encode()))
            except ValueError:
                return json_response({"errors": [{"message": "Invalid cursor", "field": "cursor"}]}, 400)
        else:
            since = None
            raw = query.get(filter_param, [None])[0]
            if raw:
                op, _, value = raw.partition("|")
                if op != "gte" or not value:
                    return json_response(
                        {"errors": [{"message": "use gte|<timestamp>", "field": filter_param}]}, 400
                    )
                since = value
            state = {"offset": 0, "per_page": int(query.get("per_page", ["100"])[0]), "since": since}
        items = self._filtered(resource, since_field, state["since"])
        chunk = items[state["offset"] : state["offset"] + state["per_page"]]
        headers = self._rate_headers()
        if state["offset"] + state["per_page"] < len(items):
            nxt = base64.urlsafe_b64encode(
                json.dumps({**state, "offset": state["offset"] + state["per_page"]}).encode()
            ).decode()
            headers["Link"] = f'<{self.base_url}/v3/{resource}?{urlencode({"cursor": nxt})}>; rel="next"'
        return json_response(chunk, 200, headers)

    # -- routes

    def routes(self) -> list[Any]:
        fake = self

        @post("/token")
        async def token(request: Request) -> Response:
            creds = basic_credentials(request)
            if creds != (fake.client_id, fake.client_secret):
                return json_response({"error": "invalid_client"}, 401)
            form = parse_qs((await request.body()).decode())
            if form.get("grant_type") != ["client_credentials"] or not form.get("sub"):
                return json_response({"error": "invalid_request"}, 400)
            value = base64.urlsafe_b64encode(next(fake._ids).to_bytes(8, "big")).decode()
            with fake.lock:
                fake.tokens.add(value)
            return json_response({"access_token": value, "token_type": "bearer", "expires_in": 3600})

        @get("/v1/candidates")
        async def list_candidates(request: Request) -> Response:
            return fake._list_v1(request, "candidates", "updated_after", "updated_at")

        @get("/v1/applications")
        async def list_applications(request: Request) -> Response:
            return fake._list_v1(request, "applications", "last_activity_after", "last_activity_at")

        @get("/v3/candidates")
        async def list_candidates_v3(request: Request) -> Response:
            return fake._list_v3(request, "candidates", "updated_at", "updated_at")

        @get("/v3/applications")
        async def list_applications_v3(request: Request) -> Response:
            return fake._list_v3(request, "applications", "last_activity_at", "last_activity_at")

        @get("/v1/candidates/{candidate_id:int}")
        async def get_candidate(candidate_id: int) -> Response:
            found = fake.candidates.get(candidate_id)
            return (
                json_response(found, 200, fake._rate_headers())
                if found
                else json_response({"message": "Resource not found"}, 404)
            )

        @get("/v1/applications/{application_id:int}")
        async def get_application(application_id: int) -> Response:
            found = fake.applications.get(application_id)
            return (
                json_response(found, 200, fake._rate_headers())
                if found
                else json_response({"message": "Resource not found"}, 404)
            )

        @get("/v1/candidates/{candidate_id:int}/activity_feed")
        async def activity_feed(candidate_id: int) -> Response:
            if candidate_id not in fake.candidates:
                return json_response({"message": "Resource not found"}, 404)
            return json_response(
                {"notes": list(fake.notes[candidate_id]), "emails": [], "activities": []},
                200,
                fake._rate_headers(),
            )

        @post("/v1/candidates/{candidate_id:int}/activity_feed/notes")
        async def add_note(request: Request, candidate_id: int) -> Response:
            if (denied := fake._on_behalf_of(request)) is not None:
                return denied
            if candidate_id not in fake.candidates:
                return json_response({"message": "Resource not found"}, 404)
            raw = await request.body()
            body, error = parse_json_body(raw)
            if error or not isinstance(body, dict):
                return _validation(error or "body must be an object", "body")
            if not body.get("body"):
                return _validation("body can't be blank", "body")
            if body.get("visibility") not in ("admin_only", "private", "public"):
                return _validation("visibility must be admin_only, private or public", "visibility")
            note = {
                "id": next(fake._ids),
                "created_at": _iso(datetime.now(UTC)),
                "body": body["body"],
                "user": {"id": int(request.headers["on-behalf-of"])},
                "private": False,
                "visibility": body["visibility"],
            }
            with fake.lock:
                fake.notes[candidate_id].append(note)
            fake._record_write(request, raw)
            return json_response(note, 201, fake._rate_headers())

        @get("/v1/eeoc")
        async def list_eeoc(request: Request) -> Response:
            # `_eeoc.md` "GET: List EEOC": per_page 1-500, submitted_after/_before; the newer paging, a
            # `next` link only (`_introduction.md` "Pagination").
            q = request.query_params
            try:
                per_page = int(q.get("per_page", 100))
                page = int(q.get("page", 1))
            except ValueError:
                return _validation("per_page must be an integer", "per_page")
            if not 1 <= per_page <= 500 or page < 1:
                return _validation("per_page must be between 1 and 500", "per_page")
            records = list(fake.eeoc)
            for param, keep in (
                ("submitted_after", lambda a, b: a > b),
                ("submitted_before", lambda a, b: a < b),
            ):
                if q.get(param):
                    try:
                        bound = _parse_iso(q[param])
                    except ValueError:
                        return _validation(f"{param} must be an ISO-8601 timestamp", param)
                    records = [r for r in records if keep(_parse_iso(r["submitted_at"]), bound)]
            chunk = records[(page - 1) * per_page : page * per_page]
            headers = fake._rate_headers()
            if page * per_page < len(records):
                extra = {k: v for k, v in q.items() if k not in ("page", "per_page")}
                nxt = urlencode({**extra, "page": page + 1, "per_page": per_page})
                headers["Link"] = f'<{fake.base_url}/v1/eeoc?{nxt}>; rel="next"'
            return json_response(chunk, 200, headers)

        @put("/v1/candidates/{candidate_id:int}/anonymize")
        async def anonymize(request: Request, candidate_id: int) -> Response:
            # Harvest `_candidates.md` "PUT: Anonymize Candidate": On-Behalf-Of, `fields` (comma-delimited,
            # from the documented list) required; the candidate comes back with first name "Anonymized" and
            # last name its id.
            if (denied := fake._on_behalf_of(request)) is not None:
                return denied
            fields = [f for f in request.query_params.get("fields", "").split(",") if f]
            if not fields:
                return _validation("fields is required", "fields")
            unknown = sorted(set(fields) - ANONYMIZABLE)
            if unknown:
                return _validation(f"Invalid fields: {', '.join(unknown)}", "fields")
            candidate = fake.candidates.get(candidate_id)
            if candidate is None:
                return json_response({"message": "Resource not found"}, 404)
            with fake.lock:
                if "full_name" in fields:
                    candidate["first_name"], candidate["last_name"] = "Anonymized", str(candidate_id)
                if {"emails", "email_addresses"} & set(fields):
                    candidate["email_addresses"] = []
                if "phone_numbers" in fields:
                    candidate["phone_numbers"] = []
                if "addresses" in fields:
                    candidate["addresses"] = []
                if "current_company" in fields:
                    candidate["company"] = None
                if "current_title" in fields:
                    candidate["title"] = None
                if "tags" in fields:
                    candidate["tags"] = []
                if "notes" in fields:
                    fake.notes[candidate_id] = []
                fake.anonymized.setdefault(candidate_id, []).append(fields)
            fake._record_write(request, b"")
            return json_response(candidate, 200, fake._rate_headers())

        @patch("/v1/applications/{application_id:int}")
        async def patch_application(request: Request, application_id: int) -> Response:
            if (denied := fake._on_behalf_of(request)) is not None:
                return denied
            application = fake.applications.get(application_id)
            if application is None:
                return json_response({"message": "Resource not found"}, 404)
            raw = await request.body()
            body, error = parse_json_body(raw)
            if error or not isinstance(body, dict):
                return _validation(error or "body must be an object", "body")
            updates = {}
            for entry in body.get("custom_fields", []):
                key = entry.get("name_key")
                if key not in fake.application_custom_fields:
                    return _validation(f"Custom field {key!r} does not exist", "custom_fields")
                if entry.get("delete_value") == "true":
                    updates[key] = None
                elif entry.get("value") in (None, ""):
                    return _validation("use delete_value to clear a custom field", "custom_fields")
                else:
                    updates[key] = entry["value"]
            with fake.lock:
                for key, value in updates.items():
                    application["custom_fields"][key] = value
                    application["keyed_custom_fields"][key] = {
                        "name": key,
                        "type": "short_text",
                        "value": value,
                    }
            fake._record_write(request, raw)
            return json_response(application, 200, fake._rate_headers())

        return [
            token,
            list_candidates,
            list_applications,
            list_candidates_v3,
            list_applications_v3,
            get_candidate,
            get_application,
            activity_feed,
            add_note,
            patch_application,
            anonymize,
            list_eeoc,
        ]
