"""Fake BambooHR: ``POST /api/gateway.php/{company}/v1/employees/`` (201 + ``Location``),
``GET …/employees/{id}/?fields=…``, ``POST …/employees/{id}/`` (update: only the given fields, 200);
Basic auth (API key, password ignored); errors carried in the
``X-BambooHR-Error-Message`` header; throttling as ``503 + Retry-After``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

from litestar import Request, Response, get, post

from ._server import FakeVendor, basic_credentials, parse_json_body


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=b"", status_code=status, headers={"X-BambooHR-Error-Message": message, **(headers or {})}
    )


def _bad_date(body: dict[str, Any]) -> Response | None:
    if "hireDate" in body:
        try:
            date.fromisoformat(body["hireDate"])
        except (TypeError, ValueError):
            return _error(400, "hireDate must be YYYY-MM-DD")
    return None


class FakeBambooHR(FakeVendor):
    provider = "bamboohr"

    def __init__(self, company_domain: str = "interloop", api_key: str = "bamboo-test-key") -> None:
        super().__init__()
        self.company_domain, self.api_key = company_domain, api_key
        self.employees: dict[str, dict[str, Any]] = {}
        self.store_transforms: dict[str, Callable[[Any], Any]] = {}
        self._ids = itertools.count(40598)

    def check_auth(self, request: Request) -> Response | None:
        creds = basic_credentials(request)
        if creds is None or creds[0] != self.api_key:
            return _error(401, "Invalid API key")
        return None

    def throttle_response(self, retry_after: float | None) -> Response:
        return _error(503, "Rate limited", {"Retry-After": f"{retry_after or 1:g}"})

    def failure_response(self, status: int) -> Response:
        return _error(status, "Service unavailable")

    def routes(self) -> list[Any]:
        fake = self
        root = "/api/gateway.php/{company:str}/v1"

        @post(f"{root}/employees/")
        async def add_employee(request: Request, company: str) -> Response:
            if company != fake.company_domain:
                return _error(404, "Company not found")
            raw = await request.body()
            body, error = parse_json_body(raw)
            if error or not isinstance(body, dict):
                return _error(400, error or "body must be an object")
            missing = [f for f in ("firstName", "lastName") if not str(body.get(f) or "").strip()]
            if missing:
                return _error(400, f"Missing required field(s): {', '.join(missing)}")
            if bad := _bad_date(body):
                return bad
            with fake.lock:
                eid = str(next(fake._ids))
                stored = {k: str(v) for k, v in body.items()}
                for key, fn in fake.store_transforms.items():
                    if key in stored:
                        stored[key] = fn(stored[key])
                fake.employees[eid] = {"id": eid, **stored}
            fake._record_write(request, raw)
            location = f"{fake.base_url}/api/gateway.php/{company}/v1/employees/{eid}"
            return Response(content=b"", status_code=201, headers={"Location": location})

        @get(f"{root}/employees/{{employee_id:str}}/")
        async def get_employee(request: Request, company: str, employee_id: str) -> Response:
            employee = fake.employees.get(employee_id)
            if company != fake.company_domain or employee is None:
                return _error(404, "Employee not found")
            fields = [f for f in (request.query_params.get("fields") or "").split(",") if f]
            body = {"id": employee_id, **{f: employee.get(f) for f in fields}}
            return Response(content=body, status_code=200, media_type="application/json")

        @post(f"{root}/employees/{{employee_id:str}}/", status_code=200)
        async def update_employee(request: Request, company: str, employee_id: str) -> Response:
            if company != fake.company_domain or employee_id not in fake.employees:
                return _error(404, "Employee not found")
            raw = await request.body()
            body, error = parse_json_body(raw)
            if error or not isinstance(body, dict):
                return _error(400, error or "body must be an object")
            if bad := _bad_date(body):
                return bad
            with fake.lock:
                for key, value in body.items():  # unknown field names are ignored, as BambooHR does
                    stored = str(value)
                    fake.employees[employee_id][key] = fake.store_transforms.get(key, str)(stored)
            fake._record_write(request, raw)
            return Response(content=b"", status_code=200)

        return [add_employee, get_employee, update_employee]
