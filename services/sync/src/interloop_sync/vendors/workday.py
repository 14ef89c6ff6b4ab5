"""The Workday adapter: create a pre-hire and read the worker back.

Which surface this mirrors (vendor-contracts §3.1): Workday's comprehensive write path is SOAP —
``Recruiting/Put_Applicant`` (pre-hire, ``Add_Only``) then ``Staffing/Hire_Employee`` (with the
``Propose_Compensation_for_Hire`` sub-process) — and reads are ``Human_Resources/Get_Workers``. This
adapter speaks a JSON projection of exactly that subset over the tenant's REST host with an OAuth bearer
token (an API Client for Integrations bound to an Integration System User):

* ``POST {base}/ccx/api/staffing/v1/{tenant}/preHires`` — Put_Applicant's Applicant_Data (legal name,
  personal email) + Hire_Employee's event data (hire date, job title, supervisory organisation, manager,
  location, proposed compensation amount/currency). ``applicantId`` is ours (Put_Applicant lets the caller
  set Applicant_ID), so it doubles as the idempotency key: a repeat returns 409 with the existing id.
* ``GET {base}/ccx/api/staffing/v1/{tenant}/workers/{id}`` — the Get_Workers fields we wrote.

Swapping in a SOAP transport later changes only ``_to_wire``/``_from_wire`` and the two paths.
Organisation/location/manager values must already be Workday reference ids (the mapping's lookup tables).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import httpx
from interloop_common.vendor_http import Permanent

from ..domain.credentials import Credentials
from ..domain.model import Money
from ..store.connections import Connection
from ._http import send
from .hris import HireWrite

PROVIDER = "workday"
# Tenant hosts per data centre: wd5-impl-services1.workday.com, services1.myworkday.com,
# wcpdev-services1.wd101.myworkday.com (vendor-contracts-2 §3); a connection's base_url is pinned to them.
HOSTS = ("workday.com", "myworkday.com")


@dataclass(frozen=True, slots=True)
class WorkdayConfig:
    base_url: str
    tenant: str
    access_token: str

    def __repr__(self) -> str:
        return f"WorkdayConfig(base_url={self.base_url!r}, tenant={self.tenant!r}, <token redacted>)"


def applicant_id(idempotency_key: str) -> str:
    # Workday ids are short reference strings; a digest keeps them stable and bounded.
    return "IL-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20].upper()


def _to_wire(fields: Mapping[str, Any]) -> dict[str, Any]:
    wire: dict[str, Any] = {}
    if "first_name" in fields or "last_name" in fields:
        parts = {"firstName": fields.get("first_name"), "lastName": fields.get("last_name")}
        wire["legalName"] = {k: v for k, v in parts.items() if v is not None}
    simple = {"personal_email": "personalEmail", "title": "jobTitle"}
    for ours, theirs in simple.items():
        if ours in fields:
            wire[theirs] = fields[ours]
    if "start_date" in fields:
        start = fields["start_date"]
        wire["hireDate"] = start.isoformat() if isinstance(start, date) else str(start)
    refs = {"department": "supervisoryOrganization", "manager": "manager", "location": "location"}
    for ours, theirs in refs.items():
        if ours in fields:
            wire[theirs] = {"id": str(fields[ours])}
    if "compensation" in fields:
        money = fields["compensation"]
        if not isinstance(money, Money):
            raise TypeError("compensation must be Money (Decimal amount + ISO-4217 currency)")
        wire["compensation"] = {"amount": format(money.amount, "f"), "currency": money.currency}
    return wire


def _from_wire(worker: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    name = worker.get("legalName") or {}
    if "firstName" in name:
        out["first_name"] = name["firstName"]
    if "lastName" in name:
        out["last_name"] = name["lastName"]
    if "personalEmail" in worker:
        out["personal_email"] = worker["personalEmail"]
    if "jobTitle" in worker:
        out["title"] = worker["jobTitle"]
    if "hireDate" in worker:
        out["start_date"] = worker["hireDate"]
    for ours, theirs in {
        "department": "supervisoryOrganization",
        "manager": "manager",
        "location": "location",
    }.items():
        ref = worker.get(theirs)
        if isinstance(ref, Mapping) and "id" in ref:
            out[ours] = ref["id"]
    comp = worker.get("compensation")
    if isinstance(comp, Mapping) and comp.get("amount") is not None:
        out["compensation"] = Money(Decimal(str(comp["amount"])), str(comp.get("currency", "")))
    return out


class WorkdayStaffing:
    def __init__(self, client: httpx.AsyncClient, config: WorkdayConfig) -> None:
        self._client = client
        self._config = config
        self._root = f"{config.base_url.rstrip('/')}/ccx/api/staffing/v1/{config.tenant}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._config.access_token}", "Accept": "application/json"}

    async def create_hire(self, fields: Mapping[str, Any], *, idempotency_key: str) -> HireWrite:
        body = {"applicantId": applicant_id(idempotency_key), **_to_wire(fields)}
        try:
            response = await send(
                PROVIDER, self._client, "POST", f"{self._root}/preHires", headers=self._headers(), json=body
            )
        except Permanent as exc:
            if exc.status == 409 and isinstance(exc.body, dict) and exc.body.get("id"):
                return HireWrite(str(exc.body["id"]), created=False)
            raise
        return HireWrite(str(response.json()["id"]), created=True)

    async def update(self, remote_id: str, fields: Mapping[str, Any]) -> None:
        """A change to a hired worker (the JSON projection of Change_Job / Change_Legal_Name /
        Request_Compensation_Change): ``PATCH …/workers/{id}`` with only the fields to change."""
        await send(
            PROVIDER,
            self._client,
            "PATCH",
            f"{self._root}/workers/{remote_id}",
            headers=self._headers(),
            json=_to_wire(fields),
        )

    async def read_back(self, remote_id: str) -> dict[str, Any]:
        response = await send(
            PROVIDER, self._client, "GET", f"{self._root}/workers/{remote_id}", headers=self._headers()
        )
        return _from_wire(response.json())


class WorkdayAdapter:
    kind: Literal["hris"] = "hris"
    provider = PROVIDER
    display_name = "Workday"
    required_credentials = ("access_token",)
    required_settings = ("tenant",)
    base_url_required: str | None = "the Workday tenant host, e.g. https://wd5-impl-services1.workday.com"
    hosts = HOSTS
    idempotent_creates = True  # applicantId is ours: a repeat answers 409 with the existing id

    def client(self, http: httpx.AsyncClient, c: Connection, creds: Credentials) -> WorkdayStaffing:
        return WorkdayStaffing(
            http,
            WorkdayConfig(
                base_url=c.base_url, tenant=c.settings["tenant"], access_token=creds["access_token"].reveal()
            ),
        )


ADAPTER = WorkdayAdapter()
