"""Fake Workday Web Services: SOAP 1.1 at ``POST /ccx/service/{tenant}/{Service}/{version}``.

What it serves (vendor-contracts-2 §A1): ``Put_Applicant`` (Staffing, Recruiting), ``Hire_Employee``
(Staffing), ``Get_Workers`` (Staffing, Human_Resources), ``Change_Job`` (Staffing), ``Change_Legal_Name``
and ``Maintain_Contact_Information`` (Human_Resources), ``Request_Compensation_Change`` (Compensation).
Envelopes are parsed by namespace URI (any prefix, default namespaces too) with entities and network
access off. Each request needs ``Content-Type: text/xml``, a ``SOAPAction`` header (empty or naming the
body's operation), a WS-Security UsernameToken ``{user}@{tenant}`` with a PasswordText password (else
``Client.authenticationError``) and a request ``version`` equal to the URL's. What Workday would refuse
is a ``Client.validationError`` fault with a ``wd:Validation_Fault`` (message + Xpath per error) on HTTP
500: a missing legal name, an unknown reference id (applicant, organisation, location, worker), a malformed
date, amount or e-mail address, a pre-hire hired twice.

State: ``applicants`` (pre-hires by Applicant_ID) and ``workers`` (by Employee_ID, Workday's element names);
``writes`` holds every accepted write operation, ``hires`` the Hire_Employee ones. ``store_transforms``
rewrite a stored field (an HRIS that silently changes data); ``managers`` is each supervisory
organisation's Manager role, which Get_Workers reports as the worker's manager. Injected 429s and outages
answer with a SOAP fault: ``Server`` on a 5xx unless ``fault`` says otherwise (``VALIDATION`` makes a 500
that is a refusal)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from litestar import Request, Response, post
from lxml import etree
from lxml.builder import ElementMaker

from ._server import FakeVendor, RecordedRequest

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
BSVC = "urn:com.workday/bsvc"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
TEXT_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
NS = {"env": SOAP_ENV, "wd": BSVC, "wsse": WSSE}

VALIDATION = "SOAP-ENV:Client.validationError"
AUTHENTICATION = "SOAP-ENV:Client.authenticationError"
SERVER = "SOAP-ENV:Server"
CLIENT = "SOAP-ENV:Client"

SERVICES = {
    "Put_Applicant": {"Staffing", "Recruiting"},
    "Hire_Employee": {"Staffing"},
    "Get_Workers": {"Staffing", "Human_Resources"},
    "Change_Job": {"Staffing"},
    "Change_Legal_Name": {"Human_Resources"},
    "Maintain_Contact_Information_for_Person_Event": {"Human_Resources"},
    "Request_Compensation_Change": {"Compensation"},
}
READS = {"Get_Workers"}

_W = ElementMaker(namespace=BSVC, nsmap={"wd": BSVC})
_ENV = ElementMaker(namespace=SOAP_ENV, nsmap={"SOAP-ENV": SOAP_ENV})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")


class Refusal(Exception):
    """What Workday would refuse: the fault code and ``[(message, xpath)]``."""

    def __init__(self, errors: list[tuple[str, str]], code: str = VALIDATION) -> None:
        super().__init__(errors[0][0])
        self.errors, self.code = errors, code


def invalid_id(value: str | None, id_type: str, xpath: str) -> Refusal:
    return Refusal([(f"Invalid ID value. '{value}' is not a valid ID value for type = '{id_type}'", xpath)])


def _xml(element: etree._Element, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=etree.tostring(element, xml_declaration=True, encoding="utf-8"),
        status_code=status,
        headers={"Content-Type": "text/xml; charset=utf-8", **(headers or {})},
        media_type="text/xml",
    )


def fault(
    code: str, message: str, errors: Sequence[tuple[str, str]] = (), status: int = 500, **headers: str
) -> Response:
    """Workday's SOAP 1.1 fault; a validation fault details each error in ``wd:Validation_Fault``."""
    body = _ENV.Fault(etree.Element("faultcode"), etree.Element("faultstring"))
    body[0].text, body[1].text = code, message
    if errors:
        validation = _W.Validation_Fault(
            *(_W.Validation_Error(_W.Message(m), _W.Detail_Message(m), _W.Xpath(x)) for m, x in errors)
        )
        detail = etree.SubElement(body, "detail")
        detail.append(validation)
    return _xml(_ENV.Envelope(_ENV.Body(body)), status, headers)


def _ref(tag: str, *ids: tuple[str, str], descriptor: str | None = None) -> etree._Element:
    attrs = {f"{{{BSVC}}}Descriptor": descriptor} if descriptor else {}
    return _W(tag, attrs, *(_W.ID(v, {f"{{{BSVC}}}type": t}) for t, v in ids))


def _text(el: etree._Element | None, path: str) -> str | None:
    found = el.find(path, NS) if el is not None else None
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _ref_id(el: etree._Element | None, path: str, id_type: str) -> str | None:
    if el is None:
        return None
    for found in el.iterfind(f"{path}/wd:ID", NS):
        if found.get(f"{{{BSVC}}}type") == id_type and found.text:
            return found.text.strip()
    return None


def _xpath(root: str, *steps: str) -> str:
    return "/".join([f"/bsvc:{root}[1]", *(f"bsvc:{s}[1]" for s in steps)])


def operation_of(recorded: RecordedRequest) -> str | None:
    """The operation a recorded request called (its body element without ``_Request``)."""
    try:
        doc = etree.fromstring(recorded.body, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    body = doc.find("env:Body", NS)
    child = next(iter(body), None) if body is not None else None
    return etree.QName(child).localname.removesuffix("_Request") if child is not None else None


class FakeWorkday(FakeVendor):
    provider = "workday"

    def __init__(
        self,
        tenant: str = "interloop_impl",
        username: str = "ISU_Interloop",
        password: str = "wd-test-password",  # noqa: S107 - fake credential
        organizations: set[str] | None = None,
        locations: set[str] | None = None,
        managers: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.tenant, self.username, self.password = tenant, username, password
        self.organizations, self.locations = organizations, locations
        self.managers = {"ORG-ENG": "W-1001"} if managers is None else managers
        self.applicants: dict[str, dict[str, Any]] = {}
        self.workers: dict[str, dict[str, Any]] = {}
        # field name (Workday's element name) → function applied when storing: an HRIS that rewrites data.
        self.store_transforms: dict[str, Callable[[Any], Any]] = {}
        self._ids = itertools.count(1)
        self._fault: str | None = None

    @property
    def credentials(self) -> dict[str, str]:
        """What a connection to this fake stores (the ISU's name and password)."""
        return {"username": self.username, "password": self.password}

    def writes_of(self, operation: str) -> list[RecordedRequest]:
        with self.lock:
            return [w for w in self.writes if operation_of(w) == operation]

    @property
    def hires(self) -> list[RecordedRequest]:
        return self.writes_of("Hire_Employee")

    # -- injected failures, as SOAP faults

    def set_down(self, down: bool = True, status: int = 503, fault: str | None = None) -> None:
        """Every request fails with ``status`` (a ``Server`` fault on a 5xx, else ``fault``)."""
        self._fault = fault
        super().set_down(down, status)

    def fail_next(self, n: int = 1, status: int = 503, fault: str | None = None) -> None:
        self._fault = fault
        super().fail_next(n, status)

    def failure_response(self, status: int) -> Response:
        code = self._fault or (SERVER if status >= 500 else VALIDATION)
        errors = [("Invalid request", "/")] if code == VALIDATION else []
        return fault(code, "Processing error occurred.", errors, status)

    def throttle_response(self, retry_after: float | None) -> Response:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return fault(SERVER, "Too many requests", status=429, **headers)

    # -- the SOAP door

    def _authenticate(self, doc: etree._Element, tenant: str) -> None:
        token = doc.find("env:Header/wsse:Security/wsse:UsernameToken", NS)
        user, password = (
            _text(token, "wsse:Username"),
            token.find("wsse:Password", NS) if token is not None else None,
        )
        text_type = password is not None and password.get("Type", TEXT_TYPE) == TEXT_TYPE
        if (
            tenant != self.tenant
            or user != f"{self.username}@{self.tenant}"
            or not text_type
            or password.text != self.password
        ):
            raise Refusal([("invalid username or password", "/")], AUTHENTICATION)

    def _envelope(
        self, request: Request, raw: bytes, tenant: str, service: str, version: str
    ) -> etree._Element:
        if not request.headers.get("content-type", "").startswith("text/xml"):
            raise Refusal([("Content-Type must be text/xml", "/")], CLIENT)
        try:
            doc = etree.fromstring(raw, _PARSER)
        except (etree.XMLSyntaxError, ValueError):
            raise Refusal([("Invalid XML", "/")], CLIENT) from None
        body = doc.find("env:Body", NS) if doc.tag == f"{{{SOAP_ENV}}}Envelope" else None
        op = next(iter(body), None) if body is not None else None
        if op is None or etree.QName(op).namespace != BSVC:
            raise Refusal([("Not a Workday Web Services request", "/")], CLIENT)
        self._authenticate(doc, tenant)
        name = etree.QName(op).localname.removesuffix("_Request")
        action = request.headers.get("soapaction")
        if action is None or action.strip('"') not in ("", name):
            raise Refusal([(f"SOAPAction must be empty or {name}", "/")], CLIENT)
        if service not in SERVICES.get(name, ()):
            raise Refusal([(f"{name} is not an operation of {service}", "/")], CLIENT)
        if op.get(f"{{{BSVC}}}version") != version:
            raise Refusal([(f"version must be {version}", _xpath(f"{name}_Request"))])
        return op

    def routes(self) -> list[Any]:
        fake = self

        @post("/ccx/service/{tenant:str}/{service:str}/{version:str}")
        async def soap(request: Request, tenant: str, service: str, version: str) -> Response:
            raw = await request.body()
            try:
                op = fake._envelope(request, raw, tenant, service, version)
                name = etree.QName(op).localname.removesuffix("_Request")
                with fake.lock:
                    answer = getattr(fake, f"_{name.lower()}")(op)
            except Refusal as exc:
                message = exc.errors[0][0]
                if exc.code == VALIDATION:
                    return fault(VALIDATION, f"Validation error occurred. {message}", exc.errors)
                return fault(exc.code, message)
            if name not in READS:
                fake._record_write(request, raw)
            answer.set(f"{{{BSVC}}}version", version)
            return _xml(_ENV.Envelope(_ENV.Body(answer)))

        return [soap]

    # -- operations (under the lock)

    def _store(self, record: dict[str, Any], values: dict[str, Any]) -> None:
        for key, value in values.items():
            if value is not None:
                record[key] = self.store_transforms[key](value) if key in self.store_transforms else value

    def _names(self, detail: etree._Element | None, root: str, steps: tuple[str, ...]) -> dict[str, Any]:
        errors = []
        names = {}
        for part in ("First_Name", "Last_Name"):
            names[part] = _text(detail, f"wd:{part}")
            if names[part] is None:
                errors.append((f"Element content is required: {part}", _xpath(root, *steps, part)))
        country = _ref_id(detail, "wd:Country_Reference", "ISO_3166-1_Alpha-2_Code")
        if country is None or not re.fullmatch(r"[A-Z]{2}", country):
            errors.append(("Invalid ID value for type = 'ISO_3166-1_Alpha-2_Code'", _xpath(root, *steps)))
        if errors:
            raise Refusal(errors)
        return names

    def _email(self, el: etree._Element, path: str, root: str, steps: tuple[str, ...]) -> str | None:
        email = _text(el, f"{path}/wd:Email_Address_Data/wd:Email_Address")
        if email is not None and "@" not in email:
            where = _xpath(root, *steps, path.split(":")[-1], "Email_Address_Data", "Email_Address")
            raise Refusal([("Invalid email address", where)])
        return email

    def _put_applicant(self, op: etree._Element) -> etree._Element:
        root, data = "Put_Applicant_Request", op.find("wd:Applicant_Data", NS)
        if data is None:
            raise Refusal([("Element content is required: Applicant_Data", _xpath(root))])
        steps = ("Applicant_Data", "Personal_Data", "Name_Data", "Legal_Name_Data", "Name_Detail_Data")
        names = self._names(data.find("wd:" + "/wd:".join(steps[1:]), NS), root, steps)
        email = self._email(data, "wd:Personal_Data/wd:Contact_Data", root, steps[:2])
        applicant = _text(data, "wd:Applicant_ID") or f"C-{next(self._ids):06d}"
        existing = self.applicants.get(applicant)
        if existing is not None and op.get(f"{{{BSVC}}}Add_Only") == "true":
            raise Refusal([(f"Applicant_ID '{applicant}' is already in use", _xpath(root, "Applicant_Data"))])
        if existing is not None and existing.get("Employee_ID"):
            raise Refusal([(f"Pre-hire '{applicant}' has been hired", _xpath(root, "Applicant_Data"))])
        record = (
            existing
            if existing is not None
            else {"Applicant_ID": applicant, "WID": f"{next(self._ids):032x}"}
        )
        self._store(record, {**names, "Email_Address": email})
        self.applicants[applicant] = record
        ref = _ref("Applicant_Reference", ("WID", record["WID"]), ("Applicant_ID", applicant))
        return _W.Put_Applicant_Response(ref)

    def _reference(
        self, op: etree._Element, path: str, id_type: str, known: set[str] | None, root: str
    ) -> str | None:
        value = _ref_id(op, path, id_type)
        if value is not None and known is not None and value not in known:
            steps = [s.removeprefix("wd:") for s in path.split("/")]
            raise invalid_id(value, id_type, _xpath(root, *steps))
        return value

    def _pay(self, sub: etree._Element | None, root: str, steps: tuple[str, ...]) -> dict[str, Any]:
        if sub is None:
            return {}
        amount, currency = _text(sub, "wd:Amount"), _ref_id(sub, "wd:Currency_Reference", "Currency_ID")
        errors = []
        if amount is None or not _DECIMAL.fullmatch(amount):
            errors.append(("Amount must be a decimal", _xpath(root, *steps, "Amount")))
        if currency is None or not re.fullmatch(r"[A-Z]{3}", currency):
            errors.append(
                ("Invalid ID value for type = 'Currency_ID'", _xpath(root, *steps, "Currency_Reference"))
            )
        if errors:
            raise Refusal(errors)
        frequency = _ref_id(sub, "wd:Frequency_Reference", "Frequency_ID")
        return {"Amount": str(Decimal(amount)), "Currency_ID": currency, "Frequency_ID": frequency}  # type: ignore[arg-type]

    def _date(self, value: str | None, root: str, *steps: str) -> str:
        try:
            return date.fromisoformat(value or "").isoformat()
        except ValueError:
            raise Refusal([(f"Invalid date: {value!r}", _xpath(root, *steps))]) from None

    def _position(self, details: etree._Element | None, root: str, steps: tuple[str, ...]) -> dict[str, Any]:
        location = (
            self._reference(details, "wd:Location_Reference", "Location_ID", self.locations, root)
            if details is not None
            else None
        )
        return {"Position_Title": _text(details, "wd:Position_Title"), "Location_ID": location}

    def _hire_employee(self, op: etree._Element) -> etree._Element:
        root, data = "Hire_Employee_Request", op.find("wd:Hire_Employee_Data", NS)
        if data is None:
            raise Refusal([("Element content is required: Hire_Employee_Data", _xpath(root))])
        applicant = _ref_id(data, "wd:Applicant_Reference", "Applicant_ID")
        pre_hire = self.applicants.get(applicant or "")
        if pre_hire is None:
            raise invalid_id(
                applicant, "Applicant_ID", _xpath(root, "Hire_Employee_Data", "Applicant_Reference")
            )
        if pre_hire.get("Employee_ID"):
            raise Refusal(
                [
                    (
                        f"Pre-hire '{applicant}' has been hired",
                        _xpath(root, "Hire_Employee_Data", "Applicant_Reference"),
                    )
                ]
            )
        org = self._reference(
            data, "wd:Organization_Reference", "Organization_Reference_ID", self.organizations, root
        )
        if org is None:
            raise Refusal(
                [("A supervisory organization or position is required", _xpath(root, "Hire_Employee_Data"))]
            )
        hire_date = self._date(_text(data, "wd:Hire_Date"), root, "Hire_Employee_Data", "Hire_Date")
        event = data.find("wd:Hire_Employee_Event_Data", NS)
        if _ref_id(event, "wd:Hire_Reason_Reference", "General_Event_Subcategory_ID") is None:
            raise Refusal(
                [
                    (
                        "Element content is required: Hire_Reason_Reference",
                        _xpath(root, "Hire_Employee_Data", "Hire_Employee_Event_Data"),
                    )
                ]
            )
        employee = _text(event, "wd:Employee_ID") or f"{21000 + next(self._ids)}"
        if employee in self.workers:
            raise Refusal(
                [
                    (
                        f"Employee ID '{employee}' is already in use",
                        _xpath(root, "Hire_Employee_Data", "Hire_Employee_Event_Data", "Employee_ID"),
                    )
                ]
            )
        steps = ("Hire_Employee_Data", "Hire_Employee_Event_Data", "Position_Details")
        position = self._position(
            event.find("wd:Position_Details", NS) if event is not None else None, root, steps
        )
        pay_steps = (
            "Hire_Employee_Data",
            "Propose_Compensation_for_Hire_Sub_Process",
            "Propose_Compensation_for_Hire_Data",
            "Pay_Plan_Data",
            "Pay_Plan_Sub_Data",
        )
        pay = self._pay(data.find("wd:" + "/wd:".join(pay_steps[1:]), NS), root, pay_steps)
        worker = {k: v for k, v in pre_hire.items() if k != "WID"}
        worker.update(Employee_ID=employee, WID=f"{next(self._ids):032x}")
        self._store(worker, {"Hire_Date": hire_date, "Organization_Reference_ID": org, **position, **pay})
        self.workers[employee] = worker
        pre_hire["Employee_ID"] = employee
        return _W.Hire_Employee_Event_Response(
            _ref("Event_Reference", ("WID", f"{next(self._ids):032x}")),
            _ref("Employee_Reference", ("WID", worker["WID"]), ("Employee_ID", employee)),
            _ref("Applicant_Reference", ("WID", pre_hire["WID"]), ("Applicant_ID", pre_hire["Applicant_ID"])),
        )

    def _worker_for(self, op: etree._Element, path: str, root: str) -> dict[str, Any]:
        employee = _ref_id(op, path, "Employee_ID")
        worker = self.workers.get(employee or "")
        if worker is None:
            steps = [s.removeprefix("wd:") for s in path.split("/")]
            raise invalid_id(employee, "Employee_ID", _xpath(root, *steps))
        return worker

    def _get_workers(self, op: etree._Element) -> etree._Element:
        refs = op.find("wd:Request_References", NS)
        skip = refs is not None and refs.get(f"{{{BSVC}}}Skip_Non_Existing_Instances") == "true"
        groups = op.find("wd:Response_Group", NS)
        wanted = (
            {etree.QName(g).localname for g in groups if (g.text or "").strip() in ("true", "1")}
            if groups is not None
            else set()
        )
        found = []
        for ref in refs.iterfind("wd:Worker_Reference", NS) if refs is not None else ():
            employee = _ref_id(ref, ".", "Employee_ID")
            if employee in self.workers:
                found.append(self.workers[employee])
            elif not skip:
                raise invalid_id(
                    employee,
                    "Employee_ID",
                    _xpath("Get_Workers_Request", "Request_References", "Worker_Reference"),
                )
        data = _W.Response_Data(*(self._worker_element(w, wanted) for w in found))
        n = str(len(found))
        results = _W.Response_Results(
            _W.Total_Results(n), _W.Total_Pages("1"), _W.Page_Results(n), _W.Page("1")
        )
        return _W.Get_Workers_Response(results, data)

    def _worker_element(self, w: dict[str, Any], wanted: set[str]) -> etree._Element:
        name = f"{w.get('First_Name', '')} {w.get('Last_Name', '')}".strip()
        data = _W.Worker_Data(_W.Worker_ID(w["Employee_ID"]))
        if "Include_Personal_Information" in wanted:
            detail = _W.Name_Detail_Data(
                _ref("Country_Reference", ("ISO_3166-1_Alpha-2_Code", "US")),
                {f"{{{BSVC}}}Formatted_Name": name},
            )
            for part in ("First_Name", "Last_Name"):
                if w.get(part) is not None:
                    detail.append(_W(part, w[part]))
            personal = _W.Personal_Data(_W.Name_Data(_W.Legal_Name_Data(detail)))
            if w.get("Email_Address"):
                usage = _W.Usage_Data(
                    _W.Type_Data(
                        _ref("Type_Reference", ("Communication_Usage_Type_ID", "HOME"), descriptor="Home")
                    )
                )
                personal.append(
                    _W.Contact_Data(_W.Email_Address_Data(_W.Email_Address(w["Email_Address"]), usage))
                )
            data.append(personal)
        if "Include_Employment_Information" in wanted:
            position = _W.Position_Data()
            if w.get("Position_Title") is not None:
                position.append(_W.Position_Title(w["Position_Title"]))
            if w.get("Location_ID"):
                position.append(
                    _W.Business_Site_Summary_Data(
                        _ref("Location_Reference", ("Location_ID", w["Location_ID"]))
                    )
                )
            status = _W.Worker_Status_Data(_W.Active("true"), _W.Hire_Date(w["Hire_Date"]))
            data.append(_W.Employment_Data(_W.Worker_Job_Data(position), status))
        if "Include_Compensation" in wanted and w.get("Amount") is not None:
            pay = _W.Employee_Base_Pay_Plan_Assignment_Data(
                _W.Amount(w["Amount"]),
                _ref("Currency_Reference", ("Currency_ID", w["Currency_ID"])),
                _ref("Frequency_Reference", ("Frequency_ID", w.get("Frequency_ID") or "Annual")),
            )
            data.append(_W.Compensation_Data(pay))
        org = w.get("Organization_Reference_ID")
        if "Include_Organizations" in wanted and org:
            org_data = _W.Organization_Data(
                _W.Organization_Reference_ID(org),
                _ref("Organization_Type_Reference", ("Organization_Type_ID", "SUPERVISORY")),
            )
            worker_org = _W.Worker_Organization_Data(
                _ref("Organization_Reference", ("Organization_Reference_ID", org)), org_data
            )
            data.append(_W.Organization_Data(worker_org))
        manager = self.managers.get(org or "")
        if "Include_Management_Chain_Data" in wanted and manager:
            link = _W.Management_Chain_Data(
                _ref("Organization_Reference", ("Organization_Reference_ID", org)),
                _ref("Manager_Reference", ("Employee_ID", manager)),
            )
            data.append(_W.Management_Chain_Data(_W.Worker_Supervisory_Management_Chain_Data(link)))
        reference = _ref(
            "Worker_Reference", ("WID", w["WID"]), ("Employee_ID", w["Employee_ID"]), descriptor=name
        )
        return _W.Worker(reference, _W.Worker_Descriptor(name), data)

    def _event(self, name: str, worker: dict[str, Any]) -> etree._Element:
        return _W(
            f"{name}_Response",
            _ref("Event_Reference", ("WID", f"{next(self._ids):032x}")),
            _ref("Employee_Reference", ("WID", worker["WID"]), ("Employee_ID", worker["Employee_ID"])),
        )

    def _change_legal_name(self, op: etree._Element) -> etree._Element:
        root = "Change_Legal_Name_Request"
        data = op.find("wd:Change_Legal_Name_Data", NS)
        worker = self._worker_for(data if data is not None else op, "wd:Person_Reference", root)
        self._date(_text(data, "wd:Effective_Date"), root, "Change_Legal_Name_Data", "Effective_Date")
        steps = ("Change_Legal_Name_Data", "Name_Data", "Name_Detail_Data")
        names = self._names(data.find("wd:Name_Data/wd:Name_Detail_Data", NS), root, steps)
        self._store(worker, names)
        return self._event("Change_Legal_Name", worker)

    def _maintain_contact_information_for_person_event(self, op: etree._Element) -> etree._Element:
        root = "Maintain_Contact_Information_for_Person_Event_Request"
        data = op.find("wd:Maintain_Contact_Information_Data", NS)
        worker = self._worker_for(data if data is not None else op, "wd:Worker_Reference", root)
        steps = ("Maintain_Contact_Information_Data",)
        self._date(_text(data, "wd:Effective_Date"), root, *steps, "Effective_Date")
        email = self._email(data, "wd:Worker_Contact_Information_Data", root, steps)
        if email is None:
            raise Refusal([("Element content is required: Email_Address", _xpath(root, *steps))])
        self._store(worker, {"Email_Address": email})
        return self._event("Maintain_Contact_Information_for_Person_Event", worker)

    def _change_job(self, op: etree._Element) -> etree._Element:
        root = "Change_Job_Request"
        data = op.find("wd:Change_Job_Data", NS)
        worker = self._worker_for(data if data is not None else op, "wd:Worker_Reference", root)
        self._date(_text(data, "wd:Effective_Date"), root, "Change_Job_Data", "Effective_Date")
        job = data.find("wd:Job_Data", NS)
        org = (
            self._reference(
                job,
                "wd:Supervisory_Organization_Reference",
                "Organization_Reference_ID",
                self.organizations,
                root,
            )
            if job is not None
            else None
        )
        steps = ("Change_Job_Data", "Job_Data", "Position_Details")
        position = self._position(
            job.find("wd:Position_Details", NS) if job is not None else None, root, steps
        )
        self._store(worker, {"Organization_Reference_ID": org, **position})
        return self._event("Change_Job", worker)

    def _request_compensation_change(self, op: etree._Element) -> etree._Element:
        root = "Request_Compensation_Change_Request"
        data = op.find("wd:Request_Compensation_Change_Data", NS)
        worker = self._worker_for(data if data is not None else op, "wd:Employee_Reference", root)
        self._date(
            _text(data, "wd:Effective_Date"), root, "Request_Compensation_Change_Data", "Effective_Date"
        )
        steps = ("Request_Compensation_Change_Data", "Pay_Plan_Data", "Pay_Plan_Sub_Data")
        pay = self._pay(data.find("wd:Pay_Plan_Data/wd:Pay_Plan_Sub_Data", NS), root, steps)
        if not pay:
            raise Refusal([("Element content is required: Pay_Plan_Sub_Data", _xpath(root, *steps[:2]))])
        self._store(worker, pay)
        return self._event("Request_Compensation_Change", worker)


# How Greenhouse's documented hire_candidate payload maps onto this fake's workers: the per-tenant field
# mapping the demo tenant and the sync integration tests configure for a Workday connection. Its manager
# (W-1001) is the Manager role of its department (ORG-ENG) in the fake, as Get_Workers reports it.
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
