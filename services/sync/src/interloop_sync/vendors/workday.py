"""The Workday adapter: create a pre-hire, hire it and read the worker back over Workday Web Services (SOAP).

Wire contract (vendor-contracts-2 §A1, vendor-contracts §3.1): SOAP 1.1 document/literal, one ``POST`` per
operation to ``{base}/ccx/service/{tenant}/{Service}/{version}`` with ``Content-Type: text/xml;
charset=utf-8``, the request element in ``urn:com.workday/bsvc`` carrying the same ``version``, and a
WS-Security ``UsernameToken`` header (``{user}@{tenant}``, ``PasswordText``) for an Integration System User.

* ``create_hire``: ``Get_Workers`` by our Employee_ID first (a retried create finds the worker it already
  hired), then ``Put_Applicant`` (the pre-hire: legal name, personal e-mail; ``Applicant_ID`` is ours) and
  ``Hire_Employee`` (the pre-hire into the supervisory organisation, with hire date, hire reason, position
  title, location and the proposed base pay; ``Auto_Complete`` so the business process does not wait for
  approvals). Both ids derive from the idempotency key, so a crash between any two calls is safe to retry.
* ``read_back``: ``Get_Workers`` with the personal, employment, organisation, compensation and
  management-chain groups, projected onto every canonical field we write.
* ``update``: ``Change_Legal_Name`` and ``Maintain_Contact_Information`` (Human_Resources), ``Change_Job``
  (title, organisation, location) and ``Request_Compensation_Change`` (Compensation), each with only the
  fields given. A hire date and the manager are not changed here (a rescinded hire, an organisation's
  Manager role): such an update is refused before anything is sent.

All four operations on the Staffing port are the ones §A1 confirms there (Put_Applicant is on the Recruiting
port too; one port keeps one endpoint and one version per connection).

Faults are classified by ``faultcode``, never by HTTP status (Workday answers a validation fault with 500
as well as 400): ``Client.validationError`` (``wd:Validation_Fault``) becomes ``ValidationFailed`` with the
canonical field its ``Xpath`` points at, ``Client.authenticationError`` ``AuthFailed``; a ``Server`` fault on
a 5xx, a 503 and a 429 (with ``Retry-After``) stay transient. No text of a Workday answer is kept on the
error: the reason stored and alerted is the fixed code and the status (``_http.reason``).

Why lxml and not zeep: zeep needs the service's WSDL, which Workday serves per tenant behind the ISU login
(megabytes per service) — shipping a hand-cut subset would be a schema of our own invention that zeep then
validates real answers against — and zeep's transport would sit beside ``vendor_http`` (the outbound guard,
the one retry classification) instead of under it. The five element trees we send are small and built here.

Confirmed by the contract: URL shape, namespaces, UsernameToken/PasswordText, the three request/response
roots (``Hire_Employee_Event_Response``), reference ``ID``/``@type`` shape, the fault envelope.
UNCONFIRMED there, taken from Workday's published WSDL element names as integrator code uses them:
``SOAPAction`` (Workday dispatches on the body element; the Go client sends none, we send the empty quoted
value SOAP 1.1 requires); Put_Applicant upserting by ``Applicant_Data/Applicant_ID`` without ``Add_Only``;
a tenant accepting a supplied ``Employee_ID`` (its ID generation must allow it); the Get_Workers paths of
location (``Business_Site_Summary_Data``), organisation type ``SUPERVISORY`` and the manager (the last link
of the supervisory management chain); the hire-reason and employee-type reference ids (connection settings);
the Change_Job, Change_Legal_Name, Maintain_Contact_Information and Request_Compensation_Change element
sets; rate limits (none published).

Manager: Workday derives a worker's manager from the supervisory organisation's Manager role; a hire cannot
set it. It is read back and compared (a mismatch says the organisation's manager is not who the ATS named),
never sent. Phone and address are not canonical HRIS fields yet, so nothing maps onto them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import httpx
from interloop_common import vendor_http
from interloop_common.clock import utc_now
from lxml import etree
from lxml.builder import ElementMaker

from ..domain.credentials import Credentials
from ..domain.model import Money
from ..store.connections import Connection
from ._http import send
from .hris import HireWrite

PROVIDER = "workday"
# Tenant hosts per data centre: wd5-impl-services1.workday.com, services1.myworkday.com,
# wcpdev-services1.wd101.myworkday.com (vendor-contracts-2 §A1.1); a connection's base_url is pinned to them.
HOSTS = ("workday.com", "myworkday.com")
VERSION = "v43.0"

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
BSVC = "urn:com.workday/bsvc"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
# The UsernameToken profile's type URI for a password sent as it is.
TEXT_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
NS = {"env": SOAP_ENV, "wd": BSVC}
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""', "Accept": "text/xml"}

_W = ElementMaker(namespace=BSVC, nsmap={"bsvc": BSVC})
_ENV = ElementMaker(namespace=SOAP_ENV, nsmap={"soapenv": SOAP_ENV})
_WSSE = ElementMaker(namespace=WSSE, nsmap={"wsse": WSSE, "wsu": WSU})
# Answers are parsed without entities, DTDs or network access (an answer is the vendor's to shape).
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)

# Where a Validation_Error's Xpath points (its last step naming one of these) → the canonical field.
_XPATH_FIELDS = {
    "First_Name": "first_name",
    "Last_Name": "last_name",
    "Email_Address": "personal_email",
    "Position_Title": "title",
    "Organization_Reference": "department",
    "Hire_Date": "start_date",
    "First_Day_of_Work": "start_date",
    "Location_Reference": "location",
    "Amount": "compensation",
    "Currency_Reference": "compensation",
}


@dataclass(frozen=True, slots=True)
class WorkdayConfig:
    base_url: str
    tenant: str
    username: str  # the Integration System User; sent as user@tenant
    password: str
    version: str = VERSION
    country: str = "US"  # ISO 3166-1 alpha-2 of the legal name (Name_Detail_Data/Country_Reference)
    hire_reason: str = "Hire_Employee_New_Hire"  # General_Event_Subcategory_ID, per tenant
    employee_type: str | None = None  # Employee_Type_ID, e.g. "Regular"
    organization: str | None = None  # the supervisory organisation when the mapping names none
    pay_plan: str | None = None  # Compensation_Plan_ID of the base pay plan
    pay_frequency: str = "Annual"  # Frequency_ID of the proposed amount

    @property
    def user(self) -> str:
        return self.username if "@" in self.username else f"{self.username}@{self.tenant}"

    def __repr__(self) -> str:
        return f"WorkdayConfig(base_url={self.base_url!r}, tenant={self.tenant!r}, <password redacted>)"


def applicant_id(idempotency_key: str) -> str:
    # Workday ids are short reference strings; a digest keeps them stable and bounded.
    return "IL-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20].upper()


# -- building requests


def _ref(tag: str, id_type: str, value: str) -> etree._Element:
    return _W(tag, _W.ID(str(value), {f"{{{BSVC}}}type": id_type}))


def _request(operation: str, version: str, *children: etree._Element, **attrs: str) -> etree._Element:
    attributes = {f"{{{BSVC}}}version": version, **{f"{{{BSVC}}}{k}": v for k, v in attrs.items()}}
    return _W(f"{operation}_Request", attributes, *children)


def envelope(body: etree._Element, user: str, password: str) -> bytes:
    """The SOAP 1.1 envelope with the WS-Security UsernameToken (PasswordText) header."""
    token = _WSSE.UsernameToken(
        {f"{{{WSU}}}Id": "UsernameToken-1"},
        _WSSE.Username(user),
        _WSSE.Password(password, Type=TEXT_TYPE),
    )
    security = _WSSE.Security({f"{{{SOAP_ENV}}}mustUnderstand": "1"}, token)
    doc = _ENV.Envelope(_ENV.Header(security), _ENV.Body(body))
    return etree.tostring(doc, xml_declaration=True, encoding="utf-8")


def _date(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _money(value: Any) -> Money:
    if not isinstance(value, Money):
        raise TypeError("compensation must be Money (Decimal amount + ISO-4217 currency)")
    return value


def _name_detail(fields: Mapping[str, Any], country: str) -> etree._Element:
    detail = _W.Name_Detail_Data(_ref("Country_Reference", "ISO_3166-1_Alpha-2_Code", country))
    for ours, theirs in (("first_name", "First_Name"), ("last_name", "Last_Name")):
        if ours in fields:
            detail.append(_W(theirs, str(fields[ours])))
    return detail


def _home_usage() -> etree._Element:
    usage = _ref("Type_Reference", "Communication_Usage_Type_ID", "HOME")
    # Workday's attributes are namespace-qualified, like bsvc:type and bsvc:version.
    primary, public = {f"{{{BSVC}}}Primary": "true"}, {f"{{{BSVC}}}Public": "false"}
    return _W.Usage_Data(_W.Type_Data(usage, primary), public)


def _email(address: Any) -> etree._Element:
    return _W.Email_Address_Data(_W.Email_Address(str(address)), _home_usage())


def put_applicant(config: WorkdayConfig, applicant: str, fields: Mapping[str, Any]) -> etree._Element:
    personal = _W.Personal_Data(_W.Name_Data(_W.Legal_Name_Data(_name_detail(fields, config.country))))
    if "personal_email" in fields:
        personal.append(_W.Contact_Data(_email(fields["personal_email"])))
    return _request("Put_Applicant", config.version, _W.Applicant_Data(_W.Applicant_ID(applicant), personal))


def _auto_complete() -> etree._Element:
    return _W.Business_Process_Parameters(_W.Auto_Complete("true"), _W.Run_Now("true"))


def _pay_plan(config: WorkdayConfig, money: Money) -> etree._Element:
    sub = _W.Pay_Plan_Sub_Data()
    if config.pay_plan:
        sub.append(_ref("Pay_Plan_Reference", "Compensation_Plan_ID", config.pay_plan))
    sub.append(_W.Amount(format(money.amount, "f")))
    sub.append(_ref("Currency_Reference", "Currency_ID", money.currency))
    sub.append(_ref("Frequency_Reference", "Frequency_ID", config.pay_frequency))
    return _W.Pay_Plan_Data(sub)


def _position_details(fields: Mapping[str, Any]) -> etree._Element:
    details = _W.Position_Details()
    if "title" in fields:
        details.append(_W.Position_Title(str(fields["title"])))
    if "location" in fields:
        details.append(_ref("Location_Reference", "Location_ID", fields["location"]))
    return details


def hire_employee(
    config: WorkdayConfig, applicant: str, employee: str, fields: Mapping[str, Any]
) -> etree._Element:
    data = _W.Hire_Employee_Data(_ref("Applicant_Reference", "Applicant_ID", applicant))
    organization = fields.get("department", config.organization)
    if organization is not None:
        data.append(_ref("Organization_Reference", "Organization_Reference_ID", organization))
    if "start_date" in fields:
        data.append(_W.Hire_Date(_date(fields["start_date"])))
    event = _W.Hire_Employee_Event_Data(
        _W.Employee_ID(employee),
        _ref("Hire_Reason_Reference", "General_Event_Subcategory_ID", config.hire_reason),
    )
    if config.employee_type:
        event.append(_ref("Employee_Type_Reference", "Employee_Type_ID", config.employee_type))
    if "start_date" in fields:
        event.append(_W.First_Day_of_Work(_date(fields["start_date"])))
    event.append(_position_details(fields))
    data.append(event)
    if "compensation" in fields:
        proposal = _W.Propose_Compensation_for_Hire_Data(_pay_plan(config, _money(fields["compensation"])))
        data.append(_W.Propose_Compensation_for_Hire_Sub_Process(_auto_complete(), proposal))
    return _request("Hire_Employee", config.version, _auto_complete(), data)


def get_workers(config: WorkdayConfig, employee: str, *, skip_missing: bool) -> etree._Element:
    references = _W.Request_References(
        _ref("Worker_Reference", "Employee_ID", employee),
        {f"{{{BSVC}}}Skip_Non_Existing_Instances": "true" if skip_missing else "false"},
    )
    groups = (
        "Include_Reference",
        "Include_Personal_Information",
        "Include_Employment_Information",
        "Include_Compensation",
        "Include_Organizations",
        "Include_Management_Chain_Data",
    )
    response_group = _W.Response_Group(*(_W(g, "true") for g in groups))
    return _request("Get_Workers", config.version, references, response_group)


def _worker_reference(employee: str) -> etree._Element:
    return _ref("Worker_Reference", "Employee_ID", employee)


def change_legal_name(
    config: WorkdayConfig, employee: str, fields: Mapping[str, Any], effective: str
) -> etree._Element:
    data = _W.Change_Legal_Name_Data(
        _ref("Person_Reference", "Employee_ID", employee),
        _W.Effective_Date(effective),
        _W.Name_Data(_name_detail(fields, config.country)),
    )
    return _request("Change_Legal_Name", config.version, _auto_complete(), data)


def maintain_contact_information(
    config: WorkdayConfig, employee: str, email: Any, effective: str
) -> etree._Element:
    data = _W.Maintain_Contact_Information_Data(
        _worker_reference(employee),
        _W.Effective_Date(effective),
        _W.Worker_Contact_Information_Data(_email(email)),
    )
    return _request("Maintain_Contact_Information_for_Person_Event", config.version, _auto_complete(), data)


def change_job(
    config: WorkdayConfig, employee: str, fields: Mapping[str, Any], effective: str
) -> etree._Element:
    job = _W.Job_Data()
    if "department" in fields:
        job.append(
            _ref("Supervisory_Organization_Reference", "Organization_Reference_ID", fields["department"])
        )
    job.append(_position_details(fields))
    data = _W.Change_Job_Data(_worker_reference(employee), _W.Effective_Date(effective), job)
    return _request("Change_Job", config.version, _auto_complete(), data)


def request_compensation_change(
    config: WorkdayConfig, employee: str, money: Money, effective: str
) -> etree._Element:
    data = _W.Request_Compensation_Change_Data(
        _ref("Employee_Reference", "Employee_ID", employee),
        _W.Effective_Date(effective),
        _pay_plan(config, money),
    )
    return _request("Request_Compensation_Change", config.version, _auto_complete(), data)


# -- reading answers


def _text(el: etree._Element | None, path: str) -> str | None:
    found = el.find(path, NS) if el is not None else None
    return found.text.strip() if found is not None and found.text is not None else None


def _id(el: etree._Element | None, path: str, id_type: str) -> str | None:
    if el is None:
        return None
    for found in el.iterfind(f"{path}/wd:ID", NS):
        if found.get(f"{{{BSVC}}}type") == id_type and found.text:
            return found.text.strip()
    return None


def worker_fields(worker: etree._Element) -> dict[str, Any]:
    """A ``Worker_Data`` element in canonical field names (what ``compare_read_back`` compares)."""
    out: dict[str, Any] = {}
    personal = worker.find("wd:Personal_Data", NS)
    name = (
        personal.find("wd:Name_Data/wd:Legal_Name_Data/wd:Name_Detail_Data", NS)
        if personal is not None
        else None
    )
    for ours, theirs in (("first_name", "wd:First_Name"), ("last_name", "wd:Last_Name")):
        if (value := _text(name, theirs)) is not None:
            out[ours] = value
    for email in worker.iterfind("wd:Personal_Data/wd:Contact_Data/wd:Email_Address_Data", NS):
        if (
            _id(email, "wd:Usage_Data/wd:Type_Data/wd:Type_Reference", "Communication_Usage_Type_ID")
            == "HOME"
        ):
            out["personal_email"] = _text(email, "wd:Email_Address")
    position = worker.find("wd:Employment_Data/wd:Worker_Job_Data/wd:Position_Data", NS)
    if (title := _text(position, "wd:Position_Title")) is not None:
        out["title"] = title
    if (
        location := _id(position, "wd:Business_Site_Summary_Data/wd:Location_Reference", "Location_ID")
    ) is not None:
        out["location"] = location
    if (hired := _text(worker, "wd:Employment_Data/wd:Worker_Status_Data/wd:Hire_Date")) is not None:
        out["start_date"] = hired[:10]  # xsd:date may carry a zone offset
    for org in worker.iterfind("wd:Organization_Data/wd:Worker_Organization_Data/wd:Organization_Data", NS):
        if _id(org, "wd:Organization_Type_Reference", "Organization_Type_ID") == "SUPERVISORY":
            out["department"] = _text(org, "wd:Organization_Reference_ID")
    chain = worker.findall(
        "wd:Management_Chain_Data/wd:Worker_Supervisory_Management_Chain_Data/wd:Management_Chain_Data", NS
    )
    if chain and (manager := _id(chain[-1], "wd:Manager_Reference", "Employee_ID")) is not None:
        out["manager"] = manager  # the direct manager is the chain's last link
    pay = worker.find("wd:Compensation_Data/wd:Employee_Base_Pay_Plan_Assignment_Data", NS)
    amount, currency = _text(pay, "wd:Amount"), _id(pay, "wd:Currency_Reference", "Currency_ID")
    if amount is not None:
        try:
            out["compensation"] = Money(Decimal(amount), currency or "")
        except InvalidOperation:
            out["compensation"] = amount  # compared as it is: a mismatch, not a crash
    return out


def _body_child(content: bytes) -> etree._Element | None:
    try:
        doc = etree.fromstring(content, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    body = doc.find("env:Body", NS) if doc.tag == f"{{{SOAP_ENV}}}Envelope" else None
    return next(iter(body), None) if body is not None else None


def _fault_field(fault: etree._Element) -> list[tuple[str, str]]:
    errors = []
    for error in fault.iterfind("detail/wd:Validation_Fault/wd:Validation_Error", NS):
        steps = [s.split(":")[-1].split("[")[0] for s in (_text(error, "wd:Xpath") or "").split("/") if s]
        pointed = next((_XPATH_FIELDS[s] for s in reversed(steps) if s in _XPATH_FIELDS), "")
        errors.append((pointed, "refused by Workday"))  # the field, never the vendor's message
    return errors or [("", "refused by Workday")]


def classify_fault(response: httpx.Response) -> bool:
    """``vendor_http``'s first look at an answer (its throttle test): True for a 429; a SOAP Fault on any
    other status but 503 raises its permanent outcome here, before a 500 would count as transient."""
    status = response.status_code
    if status == 429:
        return True
    if status < 300 or status == 503:
        return False
    fault = _body_child(response.content)
    if fault is None or fault.tag != f"{{{SOAP_ENV}}}Fault":
        return False
    code = (_text(fault, "faultcode") or "").split(":")[-1]
    if code.startswith("Server") and status >= 500:
        return False  # Workday's own trouble: retried
    if code == "Client.authenticationError":
        raise vendor_http.AuthFailed(PROVIDER, status, None, "authentication fault")
    if code == "Client.validationError":
        raise vendor_http.ValidationFailed(PROVIDER, status, None, _fault_field(fault))
    raise vendor_http.Permanent(PROVIDER, status, None, "fault")


class WorkdayStaffing:
    def __init__(self, client: httpx.AsyncClient, config: WorkdayConfig) -> None:
        self._client = client
        self._config = config
        self._root = f"{config.base_url.rstrip('/')}/ccx/service/{config.tenant}"

    async def _call(self, service: str, request: etree._Element) -> etree._Element:
        response = await send(
            PROVIDER,
            self._client,
            "POST",
            f"{self._root}/{service}/{self._config.version}",
            headers=SOAP_HEADERS,
            content=envelope(request, self._config.user, self._config.password),
            throttled=classify_fault,
        )
        answer = _body_child(response.content)
        expected = etree.QName(request).localname.removesuffix("_Request")
        if answer is None or not etree.QName(answer).localname.startswith(expected):
            raise vendor_http.VendorError(PROVIDER, "unreadable answer")  # its text is not repeated
        return answer

    async def _worker(self, employee: str, *, skip_missing: bool) -> etree._Element | None:
        answer = await self._call("Staffing", get_workers(self._config, employee, skip_missing=skip_missing))
        return answer.find("wd:Response_Data/wd:Worker/wd:Worker_Data", NS)

    async def create_hire(self, fields: Mapping[str, Any], *, idempotency_key: str) -> HireWrite:
        ours = applicant_id(idempotency_key)  # Applicant_ID and Employee_ID both: one key, one person
        if await self._worker(ours, skip_missing=True) is not None:
            return HireWrite(ours, created=False)
        await self._call("Staffing", put_applicant(self._config, ours, fields))
        hired = await self._call("Staffing", hire_employee(self._config, ours, ours, fields))
        return HireWrite(_id(hired, "wd:Employee_Reference", "Employee_ID") or ours, created=True)

    async def update(self, remote_id: str, fields: Mapping[str, Any]) -> None:
        """Only the given fields change, each through the business process Workday has for it."""
        fixed = sorted(set(fields) & {"start_date", "manager"})
        if fixed:
            raise vendor_http.ValidationFailed(
                PROVIDER,
                0,
                None,
                [(f, "not changed through this adapter; change it in Workday") for f in fixed],
            )
        effective = utc_now().date().isoformat()
        if {"first_name", "last_name"} & set(fields):
            names = {k: fields[k] for k in ("first_name", "last_name") if k in fields}
            if len(names) < 2:  # a legal name changes whole
                names = {**await self.read_back(remote_id), **names}
            request = change_legal_name(self._config, remote_id, names, effective)
            await self._call("Human_Resources", request)
        if "personal_email" in fields:
            request = maintain_contact_information(
                self._config, remote_id, fields["personal_email"], effective
            )
            await self._call("Human_Resources", request)
        if {"title", "department", "location"} & set(fields):
            await self._call("Staffing", change_job(self._config, remote_id, fields, effective))
        if "compensation" in fields:
            money = _money(fields["compensation"])
            await self._call(
                "Compensation", request_compensation_change(self._config, remote_id, money, effective)
            )

    async def read_back(self, remote_id: str) -> dict[str, Any]:
        worker = await self._worker(remote_id, skip_missing=False)
        if worker is None:
            raise vendor_http.Permanent(PROVIDER, 200, None, "no such worker")
        return worker_fields(worker)


class WorkdayAdapter:
    kind: Literal["hris"] = "hris"
    provider = PROVIDER
    display_name = "Workday"
    required_credentials = ("username", "password")
    required_settings = ("tenant",)
    base_url_required: str | None = "the Workday tenant host, e.g. https://wd5-impl-services1.workday.com"
    hosts = HOSTS
    idempotent_creates = True  # Applicant_ID and Employee_ID are ours: a repeat finds the worker

    def client(self, http: httpx.AsyncClient, c: Connection, creds: Credentials) -> WorkdayStaffing:
        s = c.settings
        optional = {k: s[k] for k in ("version", "country", "hire_reason", "pay_frequency") if s.get(k)}
        return WorkdayStaffing(
            http,
            WorkdayConfig(
                base_url=c.base_url,
                tenant=s["tenant"],
                username=creds["username"].reveal(),
                password=creds["password"].reveal(),
                employee_type=s.get("employee_type") or None,
                organization=s.get("organization") or None,
                pay_plan=s.get("pay_plan") or None,
                **optional,
            ),
        )


ADAPTER = WorkdayAdapter()
