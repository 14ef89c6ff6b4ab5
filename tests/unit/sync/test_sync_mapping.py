"""ATS→HRIS field mapping: transforms, required fields, source of truth, conflicts, read-back."""

import json
from datetime import date
from decimal import Decimal

import pytest
from interloop_fakes.examples import EXAMPLES
from interloop_sync.domain.mapping import (
    FieldMapping,
    FieldMappingError,
    Owner,
    compare_read_back,
    plan_sync,
    resolve,
)
from interloop_sync.domain.model import Money

HIRE = json.loads((EXAMPLES / "greenhouse/f-gh-02-hire_candidate.json").read_text())
APP = HIRE["payload"]["application"]

SPEC = {
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
        "departments": {"ex-dept-1": "D-ENG"},
        "offices": {"ex-office-1": "LOC-NYC"},
        "managers": {"456DEF": "W-1001"},
    },
}


@pytest.fixture(scope="module")
def mapping() -> FieldMapping:
    return FieldMapping.from_dict(json.loads(json.dumps(SPEC)))  # must be plain-JSON loadable


def test_maps_greenhouse_hire_with_typed_values(mapping: FieldMapping) -> None:
    out = mapping.apply(APP)
    assert out == {
        "first_name": "Johnny",
        "last_name": "Smith",
        "personal_email": "personal@example.com",
        "title": "Developer",
        "department": "D-ENG",
        "start_date": date(2015, 1, 23),
        "compensation": Money(Decimal("80000"), "USD"),
        "manager": "W-1001",
        "location": "LOC-NYC",
    }
    assert not any(isinstance(v, float) for v in out.values())


def test_money_from_string_and_float_never_loses_precision() -> None:
    m = FieldMapping.from_dict({"fields": {"c": {"source": "x", "transform": [{"money": "eur"}]}}})
    assert m.apply({"x": "1234.10"})["c"] == Money(Decimal("1234.10"), "EUR")
    assert m.apply({"x": 0.1})["c"].amount == Decimal("0.1")
    assert m.apply({"x": {"amount": "10000.0", "unit": "usd"}})["c"] == Money(Decimal("10000.0"), "USD")


def test_date_formats_join_and_not_before() -> None:
    m = FieldMapping.from_dict(
        {
            "fields": {
                "name": {"source": ["a", "b"], "transform": [{"join": " "}]},
                "start": {
                    "source": "d",
                    "transform": ["date", {"not_before": "today"}, {"date_format": "%m/%d/%Y"}],
                },
            }
        }
    )
    out = m.apply({"a": "Ada", "b": "Lovelace", "d": "04/15/2013"}, today=date(2020, 1, 2))
    assert out == {"name": "Ada Lovelace", "start": "01/02/2020"}


def test_required_fields_are_all_named(mapping: FieldMapping) -> None:
    app = json.loads(json.dumps(APP))
    del app["candidate"]["first_name"]
    app["offer"]["custom_fields"] = {}
    with pytest.raises(FieldMappingError) as err:
        mapping.apply(app)
    assert set(err.value.fields) == {"first_name", "compensation"}
    assert "candidate.first_name" in str(err.value)


def test_unknown_lookup_value_names_field_and_table(mapping: FieldMapping) -> None:
    app = json.loads(json.dumps(APP))
    app["jobs"][0]["departments"][0]["external_id"] = "ex-dept-9"
    with pytest.raises(FieldMappingError) as err:
        mapping.apply(app)
    assert err.value.fields == ("department",) and "departments" in str(err.value)


def test_bad_spec_is_rejected_with_every_problem() -> None:
    with pytest.raises(FieldMappingError) as err:
        FieldMapping.from_dict(
            {
                "fields": {
                    "a": {"source": "x", "transform": [{"lookup": "nope"}]},
                    "b": {"source": "x", "transform": ["eval"]},
                    "c": {},
                    "d": {"source": "x", "owner": "payroll"},
                    "e": {"source": ["x", "y"]},
                }
            }
        )
    assert set(err.value.fields) == {"a", "b", "c", "d", "e"}


def test_resolve_paths() -> None:
    assert resolve(APP, "jobs[0].offices[1].name") == "St. Louis"
    assert resolve(APP, "candidate.email_addresses[type=work].value") == "work@example.com"
    assert resolve(APP, "jobs[9].name") is resolve(APP, "missing.path")


OWNERS = {"title": Owner.ATS, "manager": Owner.HRIS, "start_date": Owner.ATS}


def test_plan_create_when_no_hris_record() -> None:
    plan = plan_sync({"title": "Dev"}, OWNERS, None, None)
    assert plan.create and plan.writes == {"title": "Dev"}


def test_plan_conflict_when_both_sides_changed() -> None:
    baseline = {"title": "Dev", "manager": "W-1", "start_date": "2015-01-23"}
    hris = {"title": "Senior Dev", "manager": "W-2", "start_date": "2015-01-23"}
    ats = {"title": "Staff Dev", "manager": "W-3", "start_date": date(2015, 2, 1)}
    plan = plan_sync(ats, OWNERS, hris, baseline)
    assert {c.field for c in plan.conflicts} == {"title", "manager"}
    assert plan.writes == {"start_date": date(2015, 2, 1)}
    after = plan.baseline_after(baseline, hris)
    assert after["title"] == "Dev" and after["start_date"] == date(2015, 2, 1)


def test_plan_respects_source_of_truth() -> None:
    baseline = {"title": "Dev", "manager": "W-1"}
    only_ats = plan_sync({"title": "Dev II", "manager": "W-9"}, OWNERS, baseline, baseline)
    assert only_ats.writes == {"title": "Dev II"} and only_ats.skipped == {"manager": "hris owns this field"}
    only_hris = plan_sync(
        {"title": "Dev", "manager": "W-1"}, OWNERS, {"title": "X", "manager": "W-1"}, baseline
    )
    assert only_hris.writes == {} and only_hris.skipped == {"title": "changed in hris only"}
    same = plan_sync({"title": "Dev"}, OWNERS, {"title": "Dev "}, None)
    assert same.writes == {} and not same.conflicts


def test_read_back_compares_every_field() -> None:
    written = {
        "start_date": date(2015, 1, 23),
        "compensation": Money(Decimal("80000"), "USD"),
        "title": "Dev",
        "location": "NYC",
    }
    read = {
        "start_date": "2015-01-23",
        "compensation": {"amount": "80000.00", "currency": "USD"},
        "title": "Developer",
    }
    mismatches = {m.field: m for m in compare_read_back(written, read)}
    assert set(mismatches) == {"title", "location"}
    assert mismatches["title"].read_back == "Developer"
    assert compare_read_back(written, {**read, "title": "Dev", "location": "NYC"}) == []
