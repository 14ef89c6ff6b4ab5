"""Partner pushes (``PushPartnerChanges``): the batch is checked whole with every violation named by its
path; each change becomes the normalised events a webhook becomes; a pushed hire's source document feeds
the HRIS field mapping; the partner's connection is skipped by write-back, token renewal and rotation."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from interloop.sync.v1 import sync_pb2 as pb
from interloop_common.errors import FieldViolations
from interloop_sync.domain import automations as auto
from interloop_sync.domain import partner
from interloop_sync.domain.mapping import FieldMapping
from interloop_sync.domain.model import (
    Application,
    ApplicationChanged,
    Candidate,
    CandidateChanged,
    Deletion,
    Hire,
    Job,
    Rejection,
    Stage,
    StageChange,
)
from interloop_sync.domain.normalise import InterviewStagePolicy
from interloop_sync.rpc import partner as partner_rpc
from interloop_sync.store.connections import Connection
from interloop_sync.usecases.connections import token_renewer
from interloop_sync.vendors import registry

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _request(*changes: pb.PartnerChange, tenant: str = "t1", partner_id: str = "p1") -> Any:
    return pb.PushPartnerChangesRequest(tenant_id=tenant, partner_id=partner_id, changes=list(changes))


def _violations(request: Any) -> dict[str, str]:
    with pytest.raises(FieldViolations) as caught:
        partner_rpc.changes_of(request)
    return dict(caught.value.violations)


def _every_kind() -> list[pb.PartnerChange]:
    return [
        pb.PartnerChange(
            request_id="r0",
            upsert_candidate=pb.PartnerCandidate(
                candidate_id="c1",
                first_name="Ada",
                last_name="Lovelace",
                emails=["ada@example.com"],
                phones=["+44 20 7946 0000"],
            ),
        ),
        pb.PartnerChange(
            request_id="r1",
            upsert_application=pb.PartnerApplication(
                application_id="a1",
                candidate_id="c1",
                job_id="j1",
                job_name="Engineer",
                stage_id="s0",
                stage_name="Applied",
                source="referral",
            ),
        ),
        pb.PartnerChange(
            request_id="r2",
            move_stage=pb.PartnerStageMove(application_id="a1", stage_id="s1", stage_name="Onsite"),
        ),
        pb.PartnerChange(
            request_id="r3",
            move_stage=pb.PartnerStageMove(application_id="a1", stage_id="s2", interview_stage=False),
        ),
        pb.PartnerChange(
            request_id="r4", reject_application=pb.PartnerRejection(application_id="a1", reason="withdrew")
        ),
        pb.PartnerChange(
            request_id="r5", hire_application=pb.PartnerHire(application_id="a1", start_date="2026-04-01")
        ),
        pb.PartnerChange(request_id="r6", delete_candidate=pb.PartnerDeletion(candidate_id="c1")),
    ]


# ---- protobuf -> domain, the whole batch checked --------------------------------------------------------


def test_every_kind_of_change_converts_to_the_common_model_in_order() -> None:
    out = partner_rpc.changes_of(_request(*_every_kind()))
    assert [c.request_id for c in out] == [f"r{i}" for i in range(7)]
    assert [c.kind for c in out] == [
        "upsert_candidate",
        "upsert_application",
        "move_stage",
        "move_stage",
        "reject_application",
        "hire_application",
        "delete_candidate",
    ]
    cand, app, move, flagged, reject, hire, delete = (c.change for c in out)
    assert cand == partner.UpsertCandidate(
        Candidate(
            "partner", "c1", "Ada", "Lovelace", emails=("ada@example.com",), phones=("+44 20 7946 0000",)
        )
    )
    assert app == partner.UpsertApplication(
        Application(
            "partner",
            "a1",
            candidate_id="c1",
            job_ids=("j1",),
            current_stage=Stage("s0", "Applied"),
            source="referral",
        ),
        Job("partner", "j1", name="Engineer"),
    )
    # interview_stage left unset is None (the policy decides), set to false is False
    assert move == partner.MoveStage("a1", Stage("s1", "Onsite"), None)
    assert flagged == partner.MoveStage("a1", Stage("s2", None), False)
    assert reject == partner.RejectApplication("a1", "withdrew")
    assert hire == partner.HireApplication("a1", date(2026, 4, 1))
    assert delete == partner.DeleteCandidate("c1")
    assert [c.application_id for c in out] == [None, "a1", "a1", "a1", "a1", "a1", None]
    assert [c.needs_known_application for c in out] == [False, False, True, True, True, True, False]


def test_empty_fields_of_an_upsert_leave_what_interloop_holds() -> None:
    (only,) = partner_rpc.changes_of(
        _request(pb.PartnerChange(request_id="r", upsert_candidate=pb.PartnerCandidate(candidate_id="c")))
    )
    assert only.change == partner.UpsertCandidate(Candidate("partner", "c"))
    (app,) = partner_rpc.changes_of(
        _request(
            pb.PartnerChange(
                request_id="r",
                upsert_application=pb.PartnerApplication(application_id="a", candidate_id="c", job_id="j"),
            )
        )
    )
    assert isinstance(app.change, partner.UpsertApplication)
    assert app.change.application.current_stage is None and app.change.application.source is None
    assert app.change.job == Job("partner", "j")


def test_a_bad_batch_names_every_violation_by_its_path() -> None:
    bad = _request(
        pb.PartnerChange(request_id="ok-0", upsert_candidate=pb.PartnerCandidate(candidate_id="c")),
        pb.PartnerChange(request_id="", move_stage=pb.PartnerStageMove(stage_id="s")),
        pb.PartnerChange(request_id="x" * 201),
        pb.PartnerChange(request_id="ok-0", move_stage=pb.PartnerStageMove(application_id="a")),
        pb.PartnerChange(
            request_id="r4",
            upsert_application=pb.PartnerApplication(application_id="a", stage_name="Onsite"),
        ),
        pb.PartnerChange(
            request_id="r5",
            upsert_candidate=pb.PartnerCandidate(emails=["ok@example.com", "not-an-email", "a@b"]),
        ),
        pb.PartnerChange(request_id="r6", reject_application=pb.PartnerRejection()),
        pb.PartnerChange(request_id="r7", hire_application=pb.PartnerHire(application_id="a")),
        pb.PartnerChange(
            request_id="r8", hire_application=pb.PartnerHire(application_id="a", start_date="2026-02-30")
        ),
        pb.PartnerChange(request_id="r9", delete_candidate=pb.PartnerDeletion()),
        tenant="",
        partner_id="",
    )
    found = _violations(bad)
    assert set(found) == {
        "tenant_id",
        "partner_id",
        "changes[1].request_id",
        "changes[1].move_stage.application_id",
        "changes[2].request_id",
        "changes[2].change",
        "changes[3].request_id",
        "changes[3].move_stage.stage_id",
        "changes[4].upsert_application.candidate_id",
        "changes[4].upsert_application.job_id",
        "changes[4].upsert_application.stage_id",
        "changes[5].upsert_candidate.candidate_id",
        "changes[5].upsert_candidate.emails[1]",
        "changes[5].upsert_candidate.emails[2]",
        "changes[6].reject_application.application_id",
        "changes[7].hire_application.start_date",
        "changes[8].hire_application.start_date",
        "changes[9].delete_candidate.candidate_id",
    }
    assert "changes[0]" in found["changes[3].request_id"]  # names the change that has it first
    assert "1-200" in found["changes[2].request_id"]
    assert "YYYY-MM-DD" in found["changes[8].hire_application.start_date"]
    assert "upsert_candidate" in found["changes[2].change"]


@pytest.mark.parametrize("n", [0, partner.MAX_CHANGES + 1])
def test_a_batch_holds_one_to_five_hundred_changes(n: int) -> None:
    changes = [
        pb.PartnerChange(request_id=f"r{i}", delete_candidate=pb.PartnerDeletion(candidate_id="c"))
        for i in range(n)
    ]
    assert set(_violations(_request(*changes))) == {"changes"}


def test_the_limits_themselves_are_accepted() -> None:
    changes = [
        pb.PartnerChange(request_id=f"{i:0200d}", delete_candidate=pb.PartnerDeletion(candidate_id="c"))
        for i in range(partner.MAX_CHANGES)
    ]
    assert len(partner_rpc.changes_of(_request(*changes))) == partner.MAX_CHANGES


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-04-01", date(2026, 4, 1)),
        ("2024-02-29", date(2024, 2, 29)),
        ("2026-02-29", None),
        ("2026-4-1", None),
        ("20260401", None),
        ("04/01/2026", None),
        ("2026-04-01T00:00:00Z", None),
        ("", None),
    ],
)
def test_a_start_date_is_exactly_yyyy_mm_dd(value: str, expected: date | None) -> None:
    assert partner.calendar_date(value) == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("ada@example.com", True),
        ("Ada.Lovelace+jobs@mail.example.co.uk", True),
        ("ada@example", False),
        ("ada example@example.com", False),
        ("@example.com", False),
        ("ada@@example.com", False),
        ("ada@example.com.", False),
        ("", False),
    ],
)
def test_an_email_must_look_like_one(value: str, ok: bool) -> None:
    assert partner.looks_like_email(value) is ok


def test_every_kind_of_the_contract_has_a_converter() -> None:
    oneof = pb.PartnerChange.DESCRIPTOR.oneofs_by_name["change"]
    assert {f.name for f in oneof.fields} == set(partner.KINDS.values()) == set(partner_rpc._CONVERT)


# ---- changes -> normalised events ----------------------------------------------------------------------

KNOWN = Application("", "a1", candidate_id="c1", job_ids=("j1",), current_stage=Stage("s0", "Applied"))


def _events(pc: partner.PartnerChange, **kwargs: Any) -> list[Any]:
    return partner.events("p1", pc, **kwargs)


def test_each_change_becomes_the_event_a_webhook_would() -> None:
    out = partner_rpc.changes_of(_request(*_every_kind()))
    cand, app, move, flagged, reject, hire, delete = out
    (e,) = _events(cand)
    assert isinstance(e, CandidateChanged) and e.candidate.remote_id == "c1"
    assert (e.provider, e.event_id, e.action) == ("partner", "partner:p1:r0", "upsert_candidate")
    (e,) = _events(app)
    assert isinstance(e, ApplicationChanged) and e.created and e.jobs == (Job("partner", "j1", "Engineer"),)
    (e,) = _events(app, known=KNOWN)
    assert isinstance(e, ApplicationChanged) and not e.created
    (e,) = _events(move, known=KNOWN)
    assert isinstance(e, StageChange)
    assert (e.application_id, e.candidate_id, e.to_stage) == ("a1", "c1", Stage("s1", "Onsite"))
    assert e.application is KNOWN and e.application.job_ids == ("j1",)  # the scheduling request's job
    (e,) = _events(reject, known=KNOWN)
    assert isinstance(e, Rejection) and (e.application_id, e.candidate_id, e.reason) == (
        "a1",
        "c1",
        "withdrew",
    )
    (e,) = _events(hire, known=KNOWN)
    assert isinstance(e, Hire) and (e.application_id, e.candidate_id, e.reverted) == ("a1", "c1", False)
    (e,) = _events(delete, candidate_applications=["a1", "a2"])
    assert isinstance(e, Deletion)
    assert (e.entity, e.remote_id, e.related_ids) == ("candidate", "c1", ("a1", "a2"))
    assert len({_events(c, known=KNOWN)[0].event_id for c in out}) == len(out)


def test_moves_rejections_and_hires_need_the_application_they_name() -> None:
    for pc in partner_rpc.changes_of(_request(*_every_kind())):
        if pc.needs_known_application:
            with pytest.raises(ValueError, match="not known"):
                _events(pc)


def _move(stage_id: str, name: str, interview: bool | None = None) -> partner.PartnerChange:
    return partner.PartnerChange("r", partner.MoveStage("a1", Stage(stage_id, name or None), interview))


@pytest.mark.parametrize(
    ("change", "policy", "expected"),
    [
        (_move("s1", "On-site Interview"), InterviewStagePolicy(), True),
        (_move("s1", "Offer"), InterviewStagePolicy(), False),
        (_move("s1", "Offer", True), InterviewStagePolicy(), True),  # the partner's flag wins
        (_move("s1", "Panel Interview", False), InterviewStagePolicy(), False),
        (_move("s9", "", None), InterviewStagePolicy.from_config({"stage_ids": ["s9"]}), True),
        (_move("s1", "Assessment"), InterviewStagePolicy.from_config({"keywords": ["assessment"]}), True),
    ],
)
def test_interview_stage_is_the_partners_flag_or_else_the_policy(
    change: partner.PartnerChange, policy: InterviewStagePolicy, expected: bool
) -> None:
    (e,) = _events(change, known=KNOWN, policy=policy)
    assert isinstance(e, StageChange) and e.is_interview_stage is expected


def test_a_pushed_interview_stage_move_fires_the_same_automation_as_a_webhook() -> None:
    rules = auto.parse_rules("on stage_change if is_interview_stage == true do open_scheduling_request")
    (into,) = _events(_move("s1", "Onsite", True), known=KNOWN)
    (out_of,) = _events(_move("s2", "Offer", False), known=KNOWN)
    (planned,) = auto.plan(rules, into, NOW)
    assert planned.action.kind == "open_scheduling_request" and planned.idempotency_key.endswith(
        "partner:p1:r"
    )
    assert auto.plan(rules, out_of, NOW) == []


# ---- the HRIS hand-off's source document ----------------------------------------------------------------


def test_a_pushed_hire_document_is_what_the_field_mapping_reads() -> None:
    app = Application("", "a1", candidate_id="c1", job_ids=("j1",), current_stage=Stage("s3", "Offer"))
    cand = Candidate("", "c1", "Ada", "Lovelace", emails=("Ada@Example.com",), phones=("+1 415 555 0100",))
    doc = partner.hire_document("p1", app, cand, [Job("", "j1", "Engineer")], date(2026, 4, 1))
    mapped = FieldMapping.from_dict(partner.HIRE_MAPPING).apply(doc)
    assert mapped == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "personal_email": "ada@example.com",
        "title": "Engineer",
        "start_date": date(2026, 4, 1),
    }
    assert (doc["id"], doc["partner_id"], doc["stage"]) == ("a1", "p1", {"id": "s3", "name": "Offer"})


def test_a_hire_of_a_candidate_interloop_does_not_hold_fails_the_mapping_by_name() -> None:
    from interloop_sync.domain.mapping import FieldMappingError

    app = Application("", "a1", candidate_id="c1", job_ids=("j1",))
    doc = partner.hire_document("p1", app, None, [], date(2026, 4, 1))
    with pytest.raises(FieldMappingError) as caught:
        FieldMapping.from_dict(partner.HIRE_MAPPING).apply(doc)
    assert set(caught.value.fields) == {"first_name", "last_name", "title"}


# ---- the partner's connection: no adapter, nothing polled, written back or renewed ------------------------


def _partner_connection() -> Connection:
    return Connection(
        "t1", str(uuid.uuid4()), registry.PARTNER, "active", "oncall@acme.test", "", b"", NOW, "Partner p1"
    )


def test_the_partner_provider_has_no_vendor_api_behind_it() -> None:
    c = _partner_connection()
    assert registry.kind(c.provider) == "partner"
    assert registry.adapter(c.provider) is None and registry.ats_api(c.provider) is None
    assert registry.PARTNER not in registry.providers()  # never created by hand, never polled
    assert registry.webhook_adapter(c.provider, c) is None  # a webhook to it finds no connection
    assert token_renewer(None, c) is None  # type: ignore[arg-type]  # nothing to renew, no context needed
    for provider in registry.providers("ats"):
        assert registry.ats_api(provider) is registry.ats(provider)
    for provider in registry.providers("hris"):
        assert registry.ats_api(provider) is None
