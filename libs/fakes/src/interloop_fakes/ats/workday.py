"""Fake Workday (JSON projection of Put_Applicant/Hire_Employee + Get_Workers + the Change_* operations, see
the sync adapter's docstring): ``POST /ccx/api/staffing/v1/{tenant}/preHires``, ``GET …/workers/{id}``,
``PATCH …/workers/{id}`` (only the given fields change); bearer auth;
Workday-style errors ``{"error": …, "errors": [{"error": …, "field": …}]}``; 409 on a repeated
``applicantId``; optional reference-id validation and "the HRIS silently changed it" store transforms."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, Response, get, patch, post

from ._server import FakeVendor, bearer_token, json_response, parse_json_body


def _invalid(errors: list[tuple[str, str]]) -> Response:
    return json_response(
        {
            "error": "Validation error occurred. Invalid request",
            "errors": [{"error": msg, "field": field} for field, msg in errors],
        },
        400,
    )


class FakeWorkday(FakeVendor):
    provider = "workday"

    def __init__(
        self,
        tenant: str = "interloop_impl",
        access_token: str = "wd-test-token",  # noqa: S107 - fake credential
        organizations: set[str] | None = None,
        locations: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.tenant = tenant
        self.access_token = access_token
        self.organizations, self.locations = organizations, locations
        self.workers: dict[str, dict[str, Any]] = {}
        self.by_applicant: dict[str, str] = {}
        # field name → function applied when storing, to simulate an HRIS that rewrites data.
        self.store_transforms: dict[str, Callable[[Any], Any]] = {}
        self._ids = itertools.count(1)

    def check_auth(self, request: Request) -> Response | None:
        if bearer_token(request) != self.access_token:
            return json_response(
                {"error": "invalid_token", "error_description": "Invalid or expired token"}, 401
            )
        return None

    def failure_response(self, status: int) -> Response:
        return json_response({"error": "Service temporarily unavailable"}, status)

    def _validate(self, body: dict[str, Any], *, partial: bool = False) -> list[tuple[str, str]]:
        errors = []
        name = body.get("legalName") or {}
        for part in ("firstName", "lastName"):
            if partial and part not in name:
                continue
            if not isinstance(name.get(part), str) or not name[part].strip():
                errors.append((f"legalName.{part}", "is required"))
        if not partial and not isinstance(body.get("applicantId"), str):
            errors.append(("applicantId", "is required"))
        hire_date = body.get("hireDate")
        if hire_date is not None:
            try:
                date.fromisoformat(hire_date)
            except (TypeError, ValueError):
                errors.append(("hireDate", "must be YYYY-MM-DD"))
        comp = body.get("compensation")
        if comp is not None:
            try:
                if isinstance(comp.get("amount"), float):
                    raise InvalidOperation
                Decimal(str(comp.get("amount")))
            except (InvalidOperation, AttributeError):
                errors.append(("compensation.amount", "must be a decimal string"))
            if not re.fullmatch(r"[A-Z]{3}", str((comp or {}).get("currency", ""))):
                errors.append(("compensation.currency", "must be an ISO-4217 code"))
        org = (body.get("supervisoryOrganization") or {}).get("id")
        if self.organizations is not None and org is not None and org not in self.organizations:
            errors.append(("supervisoryOrganization.id", f"{org} is not a valid Organization_Reference_ID"))
        loc = (body.get("location") or {}).get("id")
        if self.locations is not None and loc is not None and loc not in self.locations:
            errors.append(("location.id", f"{loc} is not a valid Location_ID"))
        return errors

    def routes(self) -> list[Any]:
        fake = self
        root = "/ccx/api/staffing/v1/{tenant:str}"

        @post(f"{root}/preHires")
        async def create_prehire(request: Request, tenant: str) -> Response:
            if tenant != fake.tenant:
                return json_response({"error": f"Tenant {tenant} not found"}, 404)
            raw = await request.body()
            body, error = parse_json_body(raw)
            if error or not isinstance(body, dict):
                return _invalid([("", error or "body must be an object")])
            if errors := fake._validate(body):
                return _invalid(errors)
            with fake.lock:
                existing = fake.by_applicant.get(body["applicantId"])
                if existing:
                    return json_response({"error": "Applicant_ID already in use", "id": existing}, 409)
                wid = f"{next(fake._ids):032x}"
                stored = dict(body)
                for key, fn in fake.store_transforms.items():
                    if key in stored:
                        stored[key] = fn(stored[key])
                fake.workers[wid] = {"id": wid, **stored}
                fake.by_applicant[body["applicantId"]] = wid
            fake._record_write(request, raw)
            return json_response({"id": wid, "applicantId": body["applicantId"]}, 201)

        @get(f"{root}/workers/{{worker_id:str}}")
        async def get_worker(tenant: str, worker_id: str) -> Response:
            worker = fake.workers.get(worker_id)
            if tenant != fake.tenant or worker is None:
                return json_response({"error": "Resource not found"}, 404)
            return json_response(worker)

        @patch(f"{root}/workers/{{worker_id:str}}")
        async def change_worker(request: Request, tenant: str, worker_id: str) -> Response:
            if tenant != fake.tenant or worker_id not in fake.workers:
                return json_response({"error": "Resource not found"}, 404)
            raw = await request.body()
            body, error = parse_json_body(raw)
            if error or not isinstance(body, dict):
                return _invalid([("", error or "body must be an object")])
            if "applicantId" in body:
                return _invalid([("applicantId", "cannot be changed")])
            if errors := fake._validate(body, partial=True):
                return _invalid(errors)
            with fake.lock:
                worker = fake.workers[worker_id]
                for key, value in body.items():
                    if key in fake.store_transforms:
                        value = fake.store_transforms[key](value)
                    if key == "legalName":
                        value = {**worker.get("legalName", {}), **value}
                    worker[key] = value
            fake._record_write(request, raw)
            return json_response(worker)

        return [create_prehire, get_worker, change_worker]


# How Greenhouse's documented hire_candidate payload maps onto this fake's workers: the per-tenant field
# mapping the demo tenant and the sync integration tests configure for a Workday connection.
GREENHOUSE_HIRE_MAPPING: dict = {
    "fields": {
        "first_name": {"source": "candidate.first_name", "required": True},
        "last_name": {"source": "candidate.last_name", "required": True},
        "personal_email": {
            "source": "candidate.email_addresses[type=personal].value",
            "transform": ["lower"],
        },
        "title": {"source": "jobs[0].name", "required": True},
        "department": {
            "source": "jobs[0].departments[0].external_id",
            "transform": [{"lookup": "departments"}],
            "required": True,
        },
        "start_date": {
            "source": "offer.starts_at",
            "transform": [{"date": ["%Y-%m-%d", "%m/%d/%Y"]}],
            "required": True,
        },
        "compensation": {
            "source": "offer.custom_fields.salary.value",
            "transform": ["money"],
            "required": True,
        },
        "manager": {
            "source": "candidate.recruiter.employee_id",
            "transform": [{"lookup": "managers"}],
            "owner": "hris",
        },
        "location": {"source": "jobs[0].offices[0].external_id", "transform": [{"lookup": "offices"}]},
    },
    "lookups": {
        "departments": {"ex-dept-1": "ORG-ENG"},
        "offices": {"ex-office-1": "LOC-NYC"},
        "managers": {"456DEF": "W-1001"},
    },
}
