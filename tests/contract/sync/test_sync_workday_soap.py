"""The Workday adapter against the fake Workday Web Services, on the wire: SOAP 1.1 envelopes with a
WS-Security UsernameToken to the Staffing endpoint, faults classified by faultcode (a Validation_Fault on
HTTP 500 is a permanent refusal carrying no Workday text; a Server fault, a 503 and a 429 are retried),
and the fake refusing what Workday would."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from interloop_common import vendor_http
from interloop_fakes.ats import FakeWorkday
from interloop_fakes.ats.workday import VALIDATION
from interloop_sync.domain.model import Money
from interloop_sync.vendors._http import reason
from interloop_sync.vendors.workday import WorkdayConfig, WorkdayStaffing
from lxml import etree

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NS = {"env": ENV, "wd": "urn:com.workday/bsvc", "wsse": WSSE}
TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"

FIELDS = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "personal_email": "grace@example.com",
    "title": "Rear Admiral",
    "department": "ORG-ENG",
    "start_date": "2026-03-16",
    "compensation": Money(Decimal("99000.50"), "USD"),
    "location": "LOC-NYC",
}


@pytest.fixture
def workday():  # type: ignore[no-untyped-def]
    with FakeWorkday(organizations={"ORG-ENG"}, locations={"LOC-NYC"}) as fake:
        yield fake


def adapter(fake: FakeWorkday, http: httpx.AsyncClient, password: str | None = None) -> WorkdayStaffing:
    config = WorkdayConfig(fake.base_url, fake.tenant, fake.username, password or fake.password)
    return WorkdayStaffing(http, config)


def _body(raw: bytes) -> etree._Element:
    doc = etree.fromstring(raw)
    assert doc.tag == f"{{{ENV}}}Envelope"
    (request,) = doc.find("env:Body", NS)
    return request


async def test_a_hire_is_three_soap_calls_with_ws_security_on_the_staffing_endpoint(
    workday: FakeWorkday, http: httpx.AsyncClient
) -> None:
    written = await adapter(workday, http).create_hire(FIELDS, idempotency_key="wire-1")
    assert written.created
    ops = []
    for r in workday.requests:
        assert (r.method, r.path) == ("POST", f"/ccx/service/{workday.tenant}/Staffing/v43.0")
        assert r.headers["content-type"] == "text/xml; charset=utf-8"
        assert r.headers["soapaction"] == '""'
        doc = etree.fromstring(r.body)
        token = doc.find("env:Header/wsse:Security/wsse:UsernameToken", NS)
        assert doc.find("env:Header/wsse:Security", NS).get(f"{{{ENV}}}mustUnderstand") == "1"
        assert token.findtext("wsse:Username", namespaces=NS) == f"{workday.username}@{workday.tenant}"
        password = token.find("wsse:Password", NS)
        assert (password.text, password.get("Type")) == (workday.password, TEXT)
        request = _body(r.body)
        assert etree.QName(request).namespace == NS["wd"]
        assert request.get(f"{{{NS['wd']}}}version") == "v43.0"
        ops.append(etree.QName(request).localname)
    # The probe for a worker this key already hired, the pre-hire, the hire.
    assert ops == ["Get_Workers_Request", "Put_Applicant_Request", "Hire_Employee_Request"]
    hire = _body(workday.hires[0].body)
    data = hire.find("wd:Hire_Employee_Data", NS)
    assert data.findtext("wd:Hire_Date", namespaces=NS) == "2026-03-16"
    assert data.find("wd:Organization_Reference/wd:ID", NS).text == "ORG-ENG"
    reason_ref = data.find("wd:Hire_Employee_Event_Data/wd:Hire_Reason_Reference/wd:ID", NS)
    assert reason_ref.get(f"{{{NS['wd']}}}type") == "General_Event_Subcategory_ID"
    assert hire.findtext("wd:Business_Process_Parameters/wd:Auto_Complete", namespaces=NS) == "true"
    usage = _body(workday.writes_of("Put_Applicant")[0].body).find(
        ".//wd:Email_Address_Data/wd:Usage_Data", NS
    )
    assert usage.get(f"{{{NS['wd']}}}Public") == "false"
    assert "wd-test-password" not in repr(WorkdayConfig("https://x", "t", "u", "wd-test-password"))
    # Get_Workers reads every field back.
    read = await adapter(workday, http).read_back(written.remote_id)
    assert read == {**FIELDS, "manager": "W-1001"}  # the manager is ORG-ENG's Manager role


async def test_a_validation_fault_on_500_is_permanent_not_retried_and_carries_no_workday_text(
    workday: FakeWorkday, http: httpx.AsyncClient
) -> None:
    client = adapter(workday, http)
    bad = {**FIELDS, "location": "LOC-MOON"}
    with pytest.raises(vendor_http.ValidationFailed) as refused:
        await vendor_http.with_retries(
            lambda: client.create_hire(bad, idempotency_key="moon"), attempts=4, sleep=_no_sleep
        )
    hires = [r for r in workday.requests if b"Hire_Employee_Request" in r.body]
    assert len(hires) == 1 and workday.hires == []  # refused once, never retried
    answer = _answer_to(workday, hires[0])
    assert b"Validation_Fault" in answer and b"LOC-MOON" in answer  # what Workday said ...
    assert refused.value.status == 500 and refused.value.errors == [("location", "refused by Workday")]
    assert reason(refused.value) == "workday: validation_failed (HTTP 500)"
    assert "LOC-MOON" not in str(refused.value) and "Invalid ID" not in str(refused.value)
    assert refused.value.body is None  # ... is nowhere on the error

    workday.set_down(True, status=500, fault=VALIDATION)
    try:
        with pytest.raises(vendor_http.ValidationFailed):
            await client.read_back("anyone")
    finally:
        workday.set_down(False)


def _answer_to(fake: FakeWorkday, request) -> bytes:  # type: ignore[no-untyped-def]
    # What the fake answers that request (it is deterministic): the fault the adapter classified.
    response = httpx.post(
        f"{fake.base_url}{request.path}",
        content=request.body,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
    )
    assert response.status_code == 500
    return response.content


WAITS: list[float] = []


async def _no_sleep(seconds: float) -> None:
    WAITS.append(seconds)


async def test_429_5xx_and_server_faults_are_retried_and_the_hire_lands_once(
    workday: FakeWorkday, http: httpx.AsyncClient
) -> None:
    client = adapter(workday, http)
    workday.rate_limit_next(1, retry_after=7)
    with pytest.raises(vendor_http.RateLimited) as limited:
        await client.create_hire(FIELDS, idempotency_key="busy")
    assert limited.value.retry_after_s == 7
    workday.fail_next(1, status=500)  # a Server fault on 500: Workday's trouble, transient
    with pytest.raises(vendor_http.Transient) as server:
        await client.create_hire(FIELDS, idempotency_key="busy")
    assert server.value.status == 500
    workday.fail_next(1, status=503)
    with pytest.raises(vendor_http.Transient):
        await client.create_hire(FIELDS, idempotency_key="busy")
    assert workday.writes == []

    WAITS.clear()
    workday.rate_limit_next(1, retry_after=3)
    workday.fail_next(1, status=503)  # served first, then the 429
    written = await vendor_http.with_retries(
        lambda: client.create_hire(FIELDS, idempotency_key="busy"), attempts=4, sleep=_no_sleep
    )
    assert written.created and len(workday.hires) == 1
    assert len(WAITS) == 2 and WAITS[1] == 3  # the 503 backed off, the 429 waited its Retry-After


async def test_a_wrong_or_missing_username_token_is_an_authentication_fault(
    workday: FakeWorkday, http: httpx.AsyncClient
) -> None:
    with pytest.raises(vendor_http.AuthFailed) as denied:
        await adapter(workday, http, password="wrong").create_hire(FIELDS, idempotency_key="x")  # noqa: S106
    assert reason(denied.value) == "workday: auth_failed (HTTP 500)"
    assert workday.writes == []
    bare = (
        f'<soapenv:Envelope xmlns:soapenv="{ENV}"><soapenv:Body>'
        '<Get_Workers_Request xmlns="urn:com.workday/bsvc" xmlns:w="urn:com.workday/bsvc" w:version="v43.0"/>'
        "</soapenv:Body></soapenv:Envelope>"
    )
    response = await http.post(
        f"{workday.base_url}/ccx/service/{workday.tenant}/Staffing/v43.0",
        content=bare,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
    )
    assert response.status_code == 500
    doc = etree.fromstring(response.content)
    assert (
        doc.findtext("env:Body/env:Fault/faultcode", namespaces=NS) == "SOAP-ENV:Client.authenticationError"
    )
    assert doc.findtext("env:Body/env:Fault/faultstring", namespaces=NS) == "invalid username or password"


async def test_the_fake_refuses_what_workday_would(workday: FakeWorkday, http: httpx.AsyncClient) -> None:
    client = adapter(workday, http)
    nameless = {k: v for k, v in FIELDS.items() if k != "last_name"}
    with pytest.raises(vendor_http.ValidationFailed) as no_name:
        await client.create_hire(nameless, idempotency_key="nameless")
    assert no_name.value.errors == [("last_name", "refused by Workday")]
    homeless = {k: v for k, v in FIELDS.items() if k != "department"}
    with pytest.raises(vendor_http.ValidationFailed):  # no supervisory organisation, no position
        await client.create_hire(homeless, idempotency_key="homeless")
    with pytest.raises(vendor_http.ValidationFailed) as bad_date:
        await client.create_hire({**FIELDS, "start_date": "next tuesday"}, idempotency_key="when")
    assert bad_date.value.errors == [("start_date", "refused by Workday")]
    with pytest.raises(vendor_http.Permanent):  # no such worker
        await client.read_back("IL-NOBODY")
    assert workday.hires == []
    # An envelope whose version differs from the URL's is refused, and so is another service's operation.
    written = await client.create_hire(FIELDS, idempotency_key="ok")
    probe = workday.requests[0].body  # a Get_Workers envelope, version v43.0
    for path in ("Staffing/v44.0", "Compensation/v43.0"):
        response = await http.post(
            f"{workday.base_url}/ccx/service/{workday.tenant}/{path}",
            content=probe,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        )
        assert response.status_code == 500 and b"faultcode" in response.content, path
    assert (await client.read_back(written.remote_id))["last_name"] == "Hopper"


async def test_updates_go_through_the_change_operations(
    workday: FakeWorkday, http: httpx.AsyncClient
) -> None:
    client = adapter(workday, http)
    written = await client.create_hire(FIELDS, idempotency_key="changes")
    await client.update(written.remote_id, {"last_name": "Murray", "title": "Commodore"})
    assert [len(workday.writes_of(op)) for op in ("Change_Legal_Name", "Change_Job")] == [1, 1]
    assert workday.writes_of("Request_Compensation_Change") == []
    changed = await client.read_back(written.remote_id)
    assert (changed["first_name"], changed["last_name"], changed["title"]) == ("Grace", "Murray", "Commodore")
    await client.update(written.remote_id, {"personal_email": "grace.murray@example.com"})
    (contact,) = workday.writes_of("Maintain_Contact_Information_for_Person_Event")
    assert contact.path == f"/ccx/service/{workday.tenant}/Human_Resources/v43.0"
    assert len(workday.writes) == 5  # pre-hire, hire, name, job, contact: nothing else was rewritten
    after = await client.read_back(written.remote_id)
    assert after == {**changed, "personal_email": "grace.murray@example.com"}
    with pytest.raises(vendor_http.ValidationFailed) as bad_email:
        await client.update(written.remote_id, {"personal_email": "not-an-address"})
    assert bad_email.value.errors == [("personal_email", "refused by Workday")]
    with pytest.raises(vendor_http.ValidationFailed) as fixed:
        await client.update(written.remote_id, {"start_date": "2027-01-01"})
    assert fixed.value.errors[0][0] == "start_date"
