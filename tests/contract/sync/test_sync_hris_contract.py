"""Offer accepted → mapping → HRIS write → read-back, against the fake Workday and BambooHR servers."""

import copy
import json
from decimal import Decimal

import httpx
import pytest
from interloop_common.vendor_http import AuthFailed, RateLimited, Transient, ValidationFailed
from interloop_fakes.ats import FakeBambooHR, FakeWorkday
from interloop_fakes.examples import EXAMPLES
from interloop_sync.domain.mapping import FieldMapping, compare_read_back, plan_sync
from interloop_sync.domain.model import Money
from interloop_sync.vendors.bamboohr import BambooHR, BambooHRConfig
from interloop_sync.vendors.workday import WorkdayConfig, WorkdayStaffing

HIRE = json.loads((EXAMPLES / "greenhouse/f-gh-02-hire_candidate.json").read_text())

MAPPING = FieldMapping.from_dict(
    {
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
                "transform": [{"lookup": "orgs"}],
                "required": True,
            },
            "start_date": {"source": "offer.starts_at", "transform": ["date"], "required": True},
            "compensation": {
                "source": "offer.custom_fields.salary.value",
                "transform": ["money"],
                "required": True,
            },
            "manager": {"source": "candidate.recruiter.employee_id", "required": True, "owner": "hris"},
            "location": {
                "source": "jobs[0].offices[0].external_id",
                "transform": [{"lookup": "offices"}],
                "required": True,
            },
        },
        "lookups": {
            "orgs": {"ex-dept-1": "ORG-ENG", "ex-dept-2": "ORG-SALES", "ex-dept-3": "ORG-OPS"},
            "offices": {"ex-office-1": "LOC-NYC", "ex-office-2": "LOC-LON", "ex-office-3": "LOC-STL"},
        },
    }
)

SYNTHETIC = [
    ("Johnny", "Smith", "Developer", "ex-dept-1", "ex-office-1", "2026-01-23", 80000, "USD", "456DEF"),
    (
        "Ada",
        "Lovelace",
        "Staff Engineer",
        "ex-dept-1",
        "ex-office-2",
        "2026-02-02",
        "123456.78",
        "GBP",
        "456DEF",
    ),
    (
        "Grace",
        "Hopper",
        "Account Executive",
        "ex-dept-2",
        "ex-office-3",
        "2026-03-16",
        "99000.5",
        "USD",
        "E-8",
    ),
    ("Zoë", "Ñúñez-O'Brien", "Ops Lead", "ex-dept-3", "ex-office-1", "2026-04-01", "70000.00", "EUR", "E-9"),
    ("Li", "Wei", "Data Scientist", "ex-dept-2", "ex-office-2", "2026-12-31", 150000, "USD", "E-8"),
]


def offer_accepted(i: int) -> dict:
    first, last, title, dept, office, start, amount, unit, manager = SYNTHETIC[i]
    app = copy.deepcopy(HIRE["payload"]["application"])
    app["candidate"].update(first_name=first, last_name=last)
    app["candidate"]["email_addresses"][0]["value"] = f"{first}.{last}@Example.com".replace("'", "")
    app["candidate"]["recruiter"]["employee_id"] = manager
    app["jobs"][0].update(name=title)
    app["jobs"][0]["departments"][0]["external_id"] = dept
    app["jobs"][0]["offices"][0]["external_id"] = office
    app["offer"]["starts_at"] = start
    app["offer"]["custom_fields"]["salary"]["value"] = {"amount": amount, "unit": unit}
    return app


def workday_client(
    fake: FakeWorkday, http: httpx.AsyncClient, password: str | None = None
) -> WorkdayStaffing:
    return WorkdayStaffing(
        http, WorkdayConfig(fake.base_url, fake.tenant, fake.username, password or fake.password)
    )


def bamboo_client(fake: FakeBambooHR, http: httpx.AsyncClient, key: str | None = None) -> BambooHR:
    return BambooHR(http, BambooHRConfig(fake.company_domain, key or fake.api_key, base_url=fake.base_url))


@pytest.fixture(params=["workday", "bamboohr"])
def hris(
    request: pytest.FixtureRequest, workday: FakeWorkday, bamboohr: FakeBambooHR, http: httpx.AsyncClient
):
    if request.param == "workday":
        return workday, workday_client(workday, http)
    return bamboohr, bamboo_client(bamboohr, http)


async def test_five_offer_accepted_records_round_trip(hris) -> None:
    fake, adapter = hris
    for i in range(len(SYNTHETIC)):
        mapped = MAPPING.apply(offer_accepted(i))
        assert isinstance(mapped["compensation"], Money)
        plan = plan_sync(mapped, MAPPING.owners, hris_current=None, baseline=None)
        key = f"{fake.provider}:hire:{i}:{id(fake)}"
        result = await adapter.create_hire(plan.writes, idempotency_key=key)
        assert result.created
        read = await adapter.read_back(result.remote_id)
        assert compare_read_back(plan.writes, read) == [], SYNTHETIC[i]
        assert set(read) >= set(plan.writes)  # every field came back
    assert Decimal("123456.78") in [MAPPING.apply(offer_accepted(1))["compensation"].amount]


async def test_updates_change_only_the_given_fields(hris) -> None:
    fake, adapter = hris
    mapped = MAPPING.apply(offer_accepted(4))
    written = await adapter.create_hire(mapped, idempotency_key=f"{fake.provider}:update:{id(fake)}")
    changes = {
        "last_name": "Lovelace-King",
        "title": "Principal Engineer",
        "compensation": Money(Decimal("150000.50"), "USD"),
    }
    await adapter.update(written.remote_id, changes)
    after = await adapter.read_back(written.remote_id)
    assert compare_read_back(changes, after) == []
    untouched = {k: v for k, v in mapped.items() if k not in changes}
    assert compare_read_back(untouched, after) == []  # first name, dates, department ... unchanged
    with pytest.raises(ValidationFailed):
        await adapter.update(written.remote_id, {"start_date": "next tuesday"})


async def test_workday_repeat_is_not_a_second_write(workday: FakeWorkday, http: httpx.AsyncClient) -> None:
    adapter = workday_client(workday, http)
    fields = MAPPING.apply(offer_accepted(0))
    before, hires = len(workday.writes), len(workday.hires)
    first = await adapter.create_hire(fields, idempotency_key="offer-506409-v2")
    again = await adapter.create_hire(fields, idempotency_key="offer-506409-v2")
    assert first.created and not again.created and again.remote_id == first.remote_id
    assert len(workday.hires) == hires + 1
    assert len(workday.writes) == before + 2  # Put_Applicant + Hire_Employee, once


async def test_read_back_detects_hris_rewriting_a_field(
    workday: FakeWorkday, bamboohr: FakeBambooHR, http: httpx.AsyncClient
) -> None:
    fields = MAPPING.apply(offer_accepted(1))
    workday.store_transforms["Position_Title"] = lambda v: v[:5]
    bamboohr.store_transforms["payRate"] = lambda v: "123456.00 GBP"
    try:
        wd = workday_client(workday, http)
        written = await wd.create_hire(fields, idempotency_key="mismatch-wd")
        (m,) = compare_read_back(fields, await wd.read_back(written.remote_id))
        assert (m.field, m.read_back) == ("title", "Staff")
        bh = bamboo_client(bamboohr, http)
        written = await bh.create_hire(fields, idempotency_key="mismatch-bh")
        (m,) = compare_read_back(fields, await bh.read_back(written.remote_id))
        assert m.field == "compensation"
    finally:
        workday.store_transforms.clear()
        bamboohr.store_transforms.clear()


async def test_validation_errors_are_vendor_shaped(
    workday: FakeWorkday, bamboohr: FakeBambooHR, http: httpx.AsyncClient
) -> None:
    fields = {**MAPPING.apply(offer_accepted(2)), "department": "ORG-NOPE"}
    with pytest.raises(ValidationFailed) as wd:
        await workday_client(workday, http).create_hire(fields, idempotency_key="bad-org")
    # The field the Validation_Fault's Xpath points at; none of Workday's text (it names the value).
    assert wd.value.errors == [("department", "refused by Workday")]
    assert "ORG-NOPE" not in str(wd.value) and wd.value.body is None
    with pytest.raises(ValidationFailed) as bh:
        await bamboo_client(bamboohr, http).create_hire({"title": "x"}, idempotency_key="no-name")
    assert "firstName" in str(bh.value.errors)


async def test_auth_throttle_and_hris_down(
    workday: FakeWorkday, bamboohr: FakeBambooHR, http: httpx.AsyncClient
) -> None:
    fields = MAPPING.apply(offer_accepted(3))
    with pytest.raises(AuthFailed):
        await workday_client(workday, http, password="expired").read_back("x")  # noqa: S106
    with pytest.raises(AuthFailed):
        await bamboo_client(bamboohr, http, key="wrong").read_back("1")
    bamboohr.rate_limit_next(1, retry_after=3)
    with pytest.raises(RateLimited) as limited:
        await bamboo_client(bamboohr, http).create_hire(fields, idempotency_key="throttled")
    assert limited.value.retry_after_s == 3
    workday.rate_limit_next(1, retry_after=2)
    with pytest.raises(RateLimited):
        await workday_client(workday, http).create_hire(fields, idempotency_key="wd-throttled")
    workday.set_down()
    writes = len(workday.writes)
    try:
        for _ in range(2):
            with pytest.raises(Transient) as down:
                await workday_client(workday, http).create_hire(fields, idempotency_key="while-down")
            assert down.value.status == 503
    finally:
        workday.set_down(False)
    assert len(workday.writes) == writes
    result = await workday_client(workday, http).create_hire(fields, idempotency_key="while-down")
    assert result.created and len(workday.writes) == writes + 2  # pre-hire + hire
