"""Every documented Greenhouse and Lever example payload normalises into the common model."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from interloop_fakes.examples import EXAMPLES
from interloop_sync.domain.model import (
    Anonymisation,
    Deletion,
    Hire,
    MalformedPayload,
    Merge,
    Money,
    NormalisedEvent,
    OfferChanged,
    Ping,
    Rejection,
    StageChange,
    Unrecognised,
)
from interloop_sync.domain.normalise import InterviewStagePolicy, parse_body
from interloop_sync.vendors import registry

FIXTURES = EXAMPLES
GH = sorted((FIXTURES / "greenhouse").glob("*.json"))
LV = sorted((FIXTURES / "lever").glob("*.json"))


def normalise(provider: str, body: object, **kwargs: Any) -> list[NormalisedEvent]:
    return registry.ats(provider).normalise(body, **kwargs)


def load(name: str, vendor: str = "greenhouse") -> dict:
    return json.loads((FIXTURES / vendor / name).read_bytes())


@pytest.mark.parametrize("path", GH + LV, ids=lambda p: p.name)
def test_every_documented_payload_parses(path: Path) -> None:
    provider = path.parent.name
    events = normalise(provider, parse_body(provider, path.read_bytes()))
    assert events and not any(isinstance(e, Unrecognised) for e in events)
    assert all(e.provider == provider and e.event_id for e in events)


def test_fixture_directories_are_complete() -> None:
    assert len(GH) == 15 and len(LV) == 2


def test_stage_change_interview_predicate() -> None:
    body = load("f-gh-01-candidate_stage_change.json")
    (default,) = normalise("greenhouse", body)
    assert isinstance(default, StageChange) and default.to_stage.name == "Assessment"
    assert not default.is_interview_stage and default.from_stage is None
    by_id = InterviewStagePolicy(stage_ids=frozenset({"71416"}))
    assert normalise("greenhouse", body, policy=by_id)[0].is_interview_stage
    unscheduled = InterviewStagePolicy(match_unscheduled_interviews=True)
    assert normalise("greenhouse", body, policy=unscheduled)[0].is_interview_stage
    body["payload"]["application"]["current_stage"]["name"] = "Onsite Interview"
    (named,) = normalise("greenhouse", body)
    assert named.is_interview_stage and named.candidate.emails == ("giuseppe.hurley@example.com",)
    assert named.application_id == "265277" and named.candidate_id == "265772"


def test_lever_stage_change_uses_configured_stage_names() -> None:
    body = load("f-lv-03-candidateStageChange.json", "lever")
    policy = InterviewStagePolicy.from_config(
        {"stage_names": {"7c2690d8-6308-4ed9-ae2a-cbfe7db26593": "Phone Interview"}}
    )
    (event,) = normalise("lever", body, policy=policy)
    assert isinstance(event, StageChange) and event.is_interview_stage
    assert event.from_stage.remote_id == "992f01a9-ee19-41d2-ae79-1040701b195c"
    assert event.application_id == "3410c8b9-5c31-4bab-b7e9-9f710206d647"
    assert event.contact_id == "05c248f9-ccb1-435f-bab5-0ec608aec263"


def test_hire_carries_offer_money_and_start_date() -> None:
    (hire,) = normalise("greenhouse", load("f-gh-02-hire_candidate.json"))
    assert isinstance(hire, Hire) and hire.offer.start_date == date(2015, 1, 23)
    assert hire.offer.custom_fields["salary"] == Money(Decimal("80000"), "USD")
    assert hire.jobs[0].departments[0].external_id == "ex-dept-1"
    assert hire.application.opening_id == "1234-56"


def test_offer_webhook_mm_dd_yyyy_and_deleted_shape() -> None:
    (created,) = normalise("greenhouse", load("f-gh-04-offer_created.json"))
    assert isinstance(created, OfferChanged) and created.offer.start_date == date(2013, 4, 15)
    assert created.offer.status == "accepted" and created.change == "created"
    (deleted,) = normalise("greenhouse", load("f-gh-06-offer_deleted.json"))
    assert deleted.change == "deleted" and deleted.offer.remote_id == "506406"


def test_people_lifecycle_events() -> None:
    (merge,) = normalise("greenhouse", load("f-gh-10-merge_candidate.json"))
    assert isinstance(merge, Merge) and (merge.surviving_id, merge.merged_id) == ("457456", "37031511")
    (gone,) = normalise("greenhouse", load("f-gh-09-delete_candidate.json"))
    assert isinstance(gone, Deletion) and gone.related_ids == ("46196263", "46196258")
    (anon,) = normalise("greenhouse", load("f-gh-11-candidate_anonymized.json"))
    assert isinstance(anon, Anonymisation) and anon.fields == ("full_name", "current_title")
    (rejected,) = normalise("greenhouse", load("f-gh-08-reject_candidate.json"))
    assert isinstance(rejected, Rejection) and rejected.reason == "Too Junior"


def test_a_rejection_says_whether_the_candidate_withdrew() -> None:
    body = load("f-gh-08-reject_candidate.json")
    (rejected,) = normalise("greenhouse", body)
    assert isinstance(rejected, Rejection)
    assert (rejected.application_id, rejected.candidate_id) == ("265293", "265788")
    assert not rejected.withdrawn and not rejected.reverted and rejected.reason_id == "14"
    assert (
        rejected.occurred_at is not None and rejected.occurred_at.isoformat() == "2015-02-11T15:50:41+00:00"
    )
    assert rejected.application is not None and rejected.application.job_ids == ("371417",)
    # the reason's type says the candidate left ("They rejected us"), or the reason names a withdrawal
    body["payload"]["application"]["rejection_reason"]["type"]["name"] = "They rejected us"
    (left,) = normalise("greenhouse", body)
    assert isinstance(left, Rejection) and left.withdrawn
    body["payload"]["application"]["rejection_reason"] = {"id": 9, "name": "Candidate withdrew", "type": None}
    (left,) = normalise("greenhouse", body)
    assert isinstance(left, Rejection) and left.withdrawn and left.reason == "Candidate withdrew"
    body["payload"]["application"]["rejection_reason"] = None
    (plain,) = normalise("greenhouse", body)
    assert isinstance(plain, Rejection) and not plain.withdrawn and plain.reason is None
    body["action"] = "unreject_candidate"
    (back,) = normalise("greenhouse", body)
    assert isinstance(back, Rejection) and back.reverted


def test_lever_archive_change_is_a_rejection_and_unarchive_reverts_it() -> None:
    body = {
        "triggeredAt": 1431454330072,
        "event": "candidateArchiveChange",
        "data": {
            "opportunityId": "3410c8b9-5c31-4bab-b7e9-9f710206d647",
            "contactId": "05c248f9-ccb1-435f-bab5-0ec608aec263",
            "fromArchived": None,
            "toArchived": {"archivedAt": 1431454330072, "reason": "63dd55b2-a99f-4e7b-985f-22c7bf80ab42"},
        },
    }
    (archived,) = normalise("lever", body)
    assert isinstance(archived, Rejection) and not archived.reverted
    assert archived.application_id == "3410c8b9-5c31-4bab-b7e9-9f710206d647"
    assert archived.reason_id == "63dd55b2-a99f-4e7b-985f-22c7bf80ab42"
    body["data"]["fromArchived"], body["data"]["toArchived"] = body["data"]["toArchived"], None
    (unarchived,) = normalise("lever", body)
    assert isinstance(unarchived, Rejection) and unarchived.reverted


def test_lever_settings_page_test_request_is_a_ping() -> None:
    (event,) = normalise("lever", load("f-lv-01-test_request.json", "lever"))
    assert isinstance(event, Ping) and event.action == "candidateHired"


def test_unknown_actions_are_recorded_not_dropped() -> None:
    (gh,) = normalise("greenhouse", {"action": "candidate_hired", "payload": {"x": 1}})
    assert isinstance(gh, Unrecognised) and gh.action == "candidate_hired" and gh.raw["payload"] == {"x": 1}
    (lv,) = normalise("lever", {"event": "interviewCreated", "data": {"interviewId": "i"}, "triggeredAt": 1})
    assert isinstance(lv, Unrecognised) and lv.action == "interviewCreated"


def test_event_ids_are_stable_and_overridable() -> None:
    body = load("f-gh-08-reject_candidate.json")
    assert normalise("greenhouse", body)[0].event_id == normalise("greenhouse", body)[0].event_id
    assert normalise("greenhouse", body, event_id="greenhouse:event:9")[0].event_id == "greenhouse:event:9"


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("greenhouse", {"payload": {}}),
        ("greenhouse", {"action": "candidate_stage_change", "payload": {"application": {"id": 1}}}),
        ("greenhouse", {"action": "merge_candidate", "payload": {"person": {"id": 1}}}),
        ("greenhouse", {"action": "hire_candidate", "payload": {"application": []}}),
        ("greenhouse", {"action": "offer_created", "payload": {"id": 1, "start_date": "15/04/2013"}}),
        ("lever", {"event": "candidateStageChange", "data": {"opportunityId": "o"}}),
        ("lever", {"event": "candidateHired", "data": "nope"}),
        ("lever", ["not", "an", "object"]),
    ],
)
def test_malformed_payloads_raise_typed_error(provider: str, body: object) -> None:
    with pytest.raises(MalformedPayload) as err:
        normalise(provider, body)
    assert err.value.provider == provider


def test_published_invalid_lever_json_is_malformed() -> None:
    raw = (FIXTURES / "lever" / "f-lv-02-candidateStageChange.malformed.txt").read_bytes()
    with pytest.raises(MalformedPayload):
        parse_body("lever", raw)
